"""`calls`: the command staff and operators use (check, build, serve, and the form service's tools)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import click

from .catalogue import read_catalogue
from .history import diff
from .newcall import new
from .serve import serve_command

PROJECT_SETTINGS = "pelicanconf.py"


class Progress:
    """Progress of long work on stderr: a rewritten line on a terminal, a line per step otherwise."""

    minimum = 200  # below this, work is too short to need a progress line

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = -1
        self.started = time.monotonic()

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if total < self.minimum:
            return
        percent = done * 100 // total if total else 100
        step = 1 if self.tty else 10
        if percent // step == self.last // step and done != total:
            return
        self.last = percent
        label = f"{self.label} {what}".strip()
        line = f"{label}: {done}/{total} ({percent} %) {time.monotonic() - self.started:.1f} s"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def settings_file(path: str | None) -> str:
    return os.path.abspath(path or PROJECT_SETTINGS)


def load_settings(path: str, **override):
    from pelican.settings import read_settings

    return read_settings(path, override={k: v for k, v in override.items() if v is not None})


def problems_report(problems) -> str:
    lines = [str(p) for p in problems]
    count = len(problems)
    lines.append(f"{count} error{'s' if count > 1 else ''} found: nothing was published.")
    return "\n".join(lines)


class Commands(click.Group):
    """The operators' commands live with the form service and import Flask, boto3 and openpyxl:
    they are loaded only when one of them runs, so `calls check` and `calls build` start fast."""

    lazy = {name: "formservice.export_commands" for name in ("export", "send-exports", "send-receipts", "purge")}

    def list_commands(self, ctx):
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx, name):
        if name in self.lazy:
            module = importlib.import_module(self.lazy[name])
            return getattr(module, name.replace("-", "_"))
        return super().get_command(ctx, name)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Innovation calls: validate and build the catalogue, run the platform, export answers."""


@main.command()
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False), help="Pelican settings file (pelicanconf.py).")
def check(settings_path):
    """Validate calls/ and content/ without building: every error with its file, line and field."""
    from .site import calls_path

    settings = load_settings(settings_file(settings_path))
    catalogue = read_catalogue(settings["PATH"], calls_path(settings), progress=Progress("Reading calls"))
    if catalogue.problems:
        click.echo(problems_report(catalogue.problems), err=True)
        sys.exit(1)
    click.echo(f"{len(catalogue.calls)} calls, {len(catalogue.registries.partners)} partners, "
               f"{len(catalogue.registries.themes)} themes, {len(catalogue.registries.forms)} forms: all valid.")


@main.command()
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False), help="Pelican settings file (default pelicanconf.py).")
@click.option("--output", type=click.Path(file_okay=False), help="Output folder (default: the settings' OUTPUT_PATH).")
@click.option("--now", help="Build as if at this ISO date-time (status of calls), e.g. 2027-01-15T12:00+01:00.")
@click.option("--no-search", is_flag=True, help="Skip the search index (pagefind).")
def build(settings_path, output, now, no_search):
    """Build the site. An invalid catalogue publishes nothing: the previous output is left intact."""
    sys.exit(build_site(settings_file(settings_path), output, now=now, search=not no_search))


def build_site(settings_path: str, output: str | None = None, *, now=None, search=True, quiet=False) -> int:
    """Build into a temporary folder, index it, then swap it in place of the output: never a half site."""
    from pelican import Pelican

    from .site import InvalidCatalogue

    settings = load_settings(settings_path)
    output = os.path.abspath(output or settings["OUTPUT_PATH"])
    parent = os.path.dirname(output)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=os.path.basename(output) + ".tmp-", dir=parent)
    started = time.monotonic()
    try:
        settings = load_settings(settings_path, OUTPUT_PATH=staging, CALLS_NOW=now,
                                 CALLS_PROGRESS=None if quiet else Progress("Building"))
        try:
            Pelican(settings).run()
        except InvalidCatalogue as exc:
            click.echo(problems_report(exc.problems), err=True)
            return 1
        if search:
            index_search(staging, quiet=quiet)
        swap(staging, output)
        staging = None
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    if not quiet:
        click.echo(f"Site built in {output} ({time.monotonic() - started:.1f} s).", err=True)
    return 0


def index_search(site: str, quiet=False) -> None:
    """Pagefind indexes the call pages only (they alone carry data-pagefind-body)."""
    result = subprocess.run([sys.executable, "-m", "pagefind_bin", "--site", site, "--silent"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"search index failed:\n{result.stdout}{result.stderr}")


def swap(staging: str, output: str) -> None:
    old = None
    if os.path.exists(output):
        old = output + f".old-{os.getpid()}"
        os.rename(output, old)
    os.rename(staging, output)
    if old:
        shutil.rmtree(old, ignore_errors=True)


main.add_command(serve_command)
main.add_command(new)
main.add_command(diff)

if __name__ == "__main__":
    main()
