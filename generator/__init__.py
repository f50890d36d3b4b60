"""Pelican plugin of the innovation-calls platform: reads `calls/`, writes the catalogue.

Importing the package loads nothing of Pelican: `calls build` reads the calls while Pelican loads.
"""


def register():
    from pelican import signals

    from .site import get_generators, get_writer, theme_globals

    signals.get_generators.connect(get_generators)
    signals.get_writer.connect(get_writer)
    signals.generator_init.connect(theme_globals)
