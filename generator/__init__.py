"""Pelican plugin of the innovation-calls platform: reads `calls/`, writes the catalogue."""

from pelican import signals

from .output import get_writer
from .site import get_generators, theme_globals


def register():
    signals.get_generators.connect(get_generators)
    signals.get_writer.connect(get_writer)
    signals.generator_init.connect(theme_globals)
