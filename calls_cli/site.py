"""`calls check`, `calls build` and `calls diff`: the catalogue as staff and the build see it."""

from __future__ import annotations

import sys
import time

import click

from callmodel.dates import DEFAULT_TIMEZONE, utc_now, zone
from callmodel.french import french_datetime
from generator import build as site_build
from generator import history, settings as plugin_settings
from generator.reader import InvalidCatalogue, read_catalogue, read_registries
from generator.search import SearchIndexFailed

from . import options
from .progress import Progress


def problems_report(problems) -> str:
    lines = [str(p) for p in problems]
    count = len(problems)
    lines.append(f"{count} error{'s' if count > 1 else ''} found: nothing was published.")
    return "\n".join(lines)


@click.command()
@options.settings
def check(settings_path):
    """Validate calls/ and content/ without building: every error with its file, line and field."""
    settings = plugin_settings.load(settings_path)
    catalogue = read_catalogue(settings["PATH"], plugin_settings.calls_path(settings),
                               progress=Progress("Reading calls"))
    if catalogue.problems:
        click.echo(problems_report(catalogue.problems), err=True)
        sys.exit(1)
    click.echo(f"{len(catalogue.calls)} calls, {len(catalogue.registries.partners)} partners, "
               f"{len(catalogue.registries.themes)} themes, {len(catalogue.registries.forms)} forms: all valid.")


def build_site(settings_path: str, output: str | None = None, *, now=None, search=True, quiet=False) -> int:
    """Build (generator.build), saying what went wrong in words: 0 when the site is published."""
    return 0 if build_once(settings_path, output, now=now, search=search, quiet=quiet) else 1


def build_once(settings_path: str, output: str | None = None, *, now=None, search=True, quiet=False,
               memory: dict | None = None, changed=None) -> site_build.Built | None:
    """One build; what it did, or None after saying in words why nothing was published."""
    started = time.monotonic()
    try:
        built = site_build.build_site(settings_path, output, now=now, search=search, memory=memory,
                                      changed=changed, progress=None if quiet else Progress("Building"))
    except InvalidCatalogue as exc:
        click.echo(problems_report(exc.problems), err=True)
        return None
    except (SearchIndexFailed, site_build.OutputHoldsSources) as exc:
        click.echo(str(exc), err=True)
        return None
    if not quiet:
        click.echo(f"Site built in {built.output} ({time.monotonic() - started:.2f} s): "
                   f"{len(built.written)} file(s) written, {len(built.removed)} removed. {next_text(built.next_change)}",
                   err=True)
    return built


def next_text(moment) -> str:
    if moment is None:
        return "No status change to come."
    return f"Next status change: {french_datetime(moment.astimezone(zone(DEFAULT_TIMEZONE)))} ({moment.isoformat()})."


@click.command()
@options.settings
@click.option("--output", type=click.Path(file_okay=False), help="Output folder (default: the settings' OUTPUT_PATH).")
@options.now
@click.option("--no-search", is_flag=True, help="Skip the search index (pagefind).")
@click.option("--if-due", is_flag=True,
              help="Build only if a status changed since the last build (or there is none): for a timer.")
def build(settings_path, output, now, no_search, if_due):
    """Build the site, writing only the files that change. An invalid catalogue publishes nothing:
    the previous output is left intact."""
    if if_due:
        first, moment = site_build.next_due(settings_path, output)
        if not first and (moment is None or moment > (now or utc_now())):
            click.echo(f"Nothing due. {next_text(moment)}", err=True)
            sys.exit(0)
    sys.exit(build_site(settings_path, output, now=now, search=not no_search))


@click.command()
@click.argument("base")
@options.settings
@options.now
def diff(base, settings_path, now):
    """Print, as Markdown, the calls added, amended, closed or removed since BASE (e.g. origin/main):
    the pull request comment of the preview workflow."""
    settings = plugin_settings.load(settings_path)
    registries, _ = read_registries(settings["PATH"])
    try:
        changes = history.diff_calls(plugin_settings.calls_path(settings), base, registries=registries, now=now)
    except history.HistoryError as exc:
        raise click.ClickException(f"comparaison impossible avec {base} : {exc}") from exc
    click.echo(history.diff_markdown(changes, base), nl=False)
