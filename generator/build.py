"""A whole build: the catalogue validated before anything is written, the site rendered by Pelican
with our plugin, then the search index, each file written only when its bytes change.

A cold build (no manifest describing the output folder) is made in a temporary folder swapped in
place of the previous output at the end, as before; a warm build writes in place, replacing each
changed file atomically (a visitor never reads half a file) and removing what the site no longer
has last. Either way an invalid catalogue changes nothing. One build at a time writes a folder
(a lock beside its manifest), so a timer and a merge can both start one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import gc
import hashlib
import importlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

from . import settings as plugin_settings
from .output import Output
from .session import Read, Session, read_calls

# Pelican's defaults that stand in the way: it would delete the output folder before writing it,
# and copy the theme's static files at every build (generator.site writes them when they change).
OVERRIDES = {"DELETE_OUTPUT_DIRECTORY": False, "THEME_STATIC_PATHS": [], "STATIC_CHECK_IF_MODIFIED": True}


class OutputHoldsSources(ValueError):
    """The output folder given holds the calls or the content: a build would replace them."""


@dataclass
class Built:
    """What a build did: where, how many files it wrote and removed, and when it is next due."""

    output: str
    written: list[str]
    removed: list[str]
    next_change: dt.datetime | None


def manifest_path(settings: dict, output: str) -> str:
    """The manifest of `output`, beside the read cache (one per output folder)."""
    cache = plugin_settings.cache_path(settings, turned_off=plugin_settings.DEFAULTS["CALLS_CACHE_PATH"])
    name = hashlib.sha256(os.path.abspath(output).encode()).hexdigest()[:16]
    return os.path.join(os.path.dirname(cache), f"output-{name}.pickle")


@contextmanager
def locked(path: str):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_site(settings_path: str, output: str | None = None, *, now=None, search: bool = True,
               progress=None, memory: dict | None = None, changed=None) -> Built:
    """Build into `output` (default: the settings' OUTPUT_PATH); raises InvalidCatalogue
    (generator.reader) with every problem, leaving the previous output as it was.

    `memory` is kept by a long-running caller (`make serve`) from one build to the next: the calls
    read, their history and what was rendered of them stay in memory instead of being read again;
    `changed` (the files a watcher saw change since the previous build) spares walking every call.

    Python's cycle collector is paused while the build runs: what a build makes lives until its
    end, and each full pass went over all of it (0.3 s a pass at 10,000 calls, in `make serve`
    once per rebuild); the few cycles a build leaves are collected after it."""
    collecting = gc.isenabled()
    gc.disable()
    session = Session(None, memory)
    try:
        session.index, session.changed = search, changed
        session.read = read_ahead(settings_path, session, progress)
        built = _build(settings_path, output, session, now=now, progress=progress, memory=memory)
    except BaseException:
        if session.read:  # its forked children are waited for all the same
            session.read.finish(failed=True)
        raise
    else:
        if session.read:
            session.read.finish()
    finally:
        if collecting:
            gc.enable()
    return built


def _build(settings_path: str, output: str | None, session: Session, *, now, progress, memory) -> Built:
    from pelican import Pelican

    settings = plugin_settings.load(settings_path)
    output = os.path.abspath(output or settings["OUTPUT_PATH"])
    for source in (settings["PATH"], plugin_settings.calls_path(settings)):
        if os.path.commonpath([output, os.path.abspath(source)]) == output:
            raise OutputHoldsSources(f"le dossier de sortie {output} contient les sources ({source}) : une "
                                     "construction les remplacerait ; choisissez un autre --output")
    private = settings.get("CALLS_PRIVATE_PATH") or output + "-private"
    manifest = manifest_path(settings, output)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with locked(manifest):
        out = Output(output, manifest, verify=memory is None)
        staging = None
        if not out.warm:
            staging = tempfile.mkdtemp(prefix=os.path.basename(output) + ".tmp-", dir=os.path.dirname(output))
            out.root = staging
        try:
            session.output = out
            settings = plugin_settings.load(settings_path, OUTPUT_PATH=out.root, CALLS_NOW=now,
                                            CALLS_PROGRESS=progress, CALLS_SESSION=session,
                                            CALLS_PRIVATE_PATH=private, **OVERRIDES)
            Pelican(settings).run()
            if staging:
                swap(staging, output)
                out.root, staging = output, None
            out.finish(search=session.search or {}, listings=session.listings, cards=session.cards,
                       next_change=session.next_change)
        finally:
            if staging:
                shutil.rmtree(staging, ignore_errors=True)
    return Built(output, list(out.written), out.removed, session.next_change)


def read_ahead(settings_path: str, session: Session, progress=None) -> Read | None:
    """The calls read while Pelican and the generator load (a third of a 1,000-call cold build
    otherwise spent on one core): the settings file's own values name the folders, and
    generator.site reads again if Pelican's settings name others."""
    peeked = plugin_settings.peek(settings_path)
    if peeked is None:
        return None
    return read_calls(peeked, session, progress=progress, ahead=True,
                      meanwhile=lambda: importlib.import_module(".site", __package__))


def next_due(settings_path: str, output: str | None = None) -> tuple[bool, dt.datetime | None]:
    """Whether the site at `output` has no build yet (True, None), else (False, the next instant a
    status changes, as its last build saw it)."""
    settings = plugin_settings.load(settings_path)
    output = os.path.abspath(output or settings["OUTPUT_PATH"])
    out = Output(output, manifest_path(settings, output))
    return (not out.warm, out.extra.get("next_change"))


def swap(staging: str, output: str) -> None:
    old = None
    if os.path.exists(output):
        old = output + f".old-{os.getpid()}"
        os.rename(output, old)
    os.rename(staging, output)
    if old:
        shutil.rmtree(old, ignore_errors=True)
