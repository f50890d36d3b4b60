"""`calls check`, `calls build` and `calls diff`: the catalogue as staff and the build see it."""

from __future__ import annotations

import sys
import time

import click

from callmodel.dates import DEFAULT_TIMEZONE, utc_now, zone
from callmodel.french import french_datetime
from generator import build as site_build
from generator import history, settings as plugin_settings
from generator.editor import EditorAssetsMissing
from generator.reader import InvalidCatalogue, errors, read_catalogue, read_registries

from . import options
from .progress import Progress


def problems_report(problems, outcome: str = "") -> str:
    """Every problem, one per line, then how many: « 3 erreurs. » (and what it means for a build)."""
    return "\n".join([*map(str, problems), f"{errors(len(problems)).capitalize()}{outcome}."])


@click.command()
@options.settings
def check(settings_path):
    """Validate calls/ and content/ without building: every error, in French, with its file, line and field."""
    settings = plugin_settings.load(settings_path)
    catalogue = read_catalogue(settings["PATH"], plugin_settings.calls_path(settings),
                               progress=Progress("Lecture des appels"))
    if catalogue.problems:
        click.echo(problems_report(catalogue.problems), err=True)
        sys.exit(1)
    reg = catalogue.registries
    click.echo(f"Aucune erreur : {plural(len(catalogue.calls), 'appel')}, {plural(len(reg.partners), 'partenaire')}, "
               f"{plural(len(reg.themes), 'thème')}, {plural(len(reg.forms), 'formulaire')}.")


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def build_site(settings_path: str, output: str | None = None, *, now=None, search=True, quiet=False) -> int:
    """Build (generator.build), saying what went wrong in words: 0 when the site is published."""
    return 0 if build_once(settings_path, output, now=now, search=search, quiet=quiet) else 1


def build_once(settings_path: str, output: str | None = None, *, now=None, search=True, quiet=False,
               memory: dict | None = None, changed=None) -> site_build.Built | None:
    """One build; what it did, or None after saying in words why nothing was published."""
    started = time.monotonic()
    try:
        built = site_build.build_site(settings_path, output, now=now, search=search, memory=memory,
                                      changed=changed, progress=None if quiet else Progress("Construction"))
    except InvalidCatalogue as exc:
        click.echo(problems_report(exc.problems, " : site non construit, la version précédente reste en place"),
                   err=True)
        return None
    except (site_build.OutputHoldsSources, EditorAssetsMissing) as exc:
        click.echo(str(exc), err=True)
        return None
    if not quiet:
        click.echo(f"Site construit dans {built.output} ({time.monotonic() - started:.2f} s) : "
                   f"{plural(len(built.written), 'fichier')} écrit(s), {len(built.removed)} supprimé(s). "
                   f"{next_text(built.next_change)}", err=True)
    return built


def next_text(moment) -> str:
    if moment is None:
        return "Aucun changement de statut à venir."
    return (f"Prochain changement de statut : {french_datetime(moment.astimezone(zone(DEFAULT_TIMEZONE)))} "
            f"({moment.isoformat()}).")


@click.command()
@options.settings
@click.option("--output", type=click.Path(file_okay=False), help="Output folder (default: the settings' OUTPUT_PATH).")
@options.now
@click.option("--no-search", is_flag=True, help="Skip the search index (recherche/index/).")
@click.option("--if-due", is_flag=True,
              help="Build only if a status changed since the last build (or there is none): for a timer.")
def build(settings_path, output, now, no_search, if_due):
    """Build the site, writing only the files that change. An invalid catalogue publishes nothing:
    the previous output is left intact."""
    if if_due:
        first, moment = site_build.next_due(settings_path, output)
        if not first and (moment is None or moment > (now or utc_now())):
            click.echo(f"Rien à construire. {next_text(moment)}", err=True)
            sys.exit(0)
    sys.exit(build_site(settings_path, output, now=now, search=not no_search))


@click.command()
@click.argument("base")
@options.settings
@options.now
@click.option("--preview", metavar="URL", default="", help="Address of the site built from this branch: linked "
              "from the comment, with each call's page.")
@click.option("--check", "with_check", is_flag=True, help="Validate the catalogue too: its errors, in French, lead "
              "the comment (and there is no preview to link).")
def diff(base, settings_path, now, preview, with_check):
    """Print, as Markdown, the calls added, amended, closed or removed since BASE (e.g. origin/main):
    the pull request comment of the preview workflow."""
    settings = plugin_settings.load(settings_path)
    registries, _ = read_registries(settings["PATH"])
    problems = read_catalogue(settings["PATH"], plugin_settings.calls_path(settings)).problems if with_check else []
    try:
        changes = history.diff_calls(plugin_settings.calls_path(settings), base, registries=registries, now=now)
    except history.HistoryError as exc:
        raise click.ClickException(f"comparaison impossible avec {base} : {exc}") from exc
    click.echo(history.diff_markdown(changes, base, preview=preview.rstrip("/"), problems=problems), nl=False)
