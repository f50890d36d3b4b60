"""One build's session: where it writes, what a long-running process keeps from one build to the
next, and the catalogue it reads. generator.build reads the catalogue ahead, while Pelican loads
(`meanwhile`); generator.site takes it if its settings name the same folders, else reads it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from . import parallel
from .history import BuildInfo, History, read_history
from .output import Output
from .reader import Catalogue, read_catalogue
from .settings import cache_path, calls_path, options


@dataclass
class Read:
    """The catalogue, the commit it was read at (history.BuildInfo), the folders it was read
    from (content, calls and read cache), and the calls' history when a forked child reads it."""

    catalogue: Catalogue
    commit: dict
    where: tuple[str, str, str | None]
    history: parallel.Background | None = None

    def finish(self, *, failed: bool = False) -> None:
        """Wait for the forked children (read cache, history); after a failed build, their own
        errors are not raised over its error."""
        for wait in [self.catalogue.cache.saved] + ([self.history.result] if self.history else []):
            with contextlib.suppress(Exception) if failed else contextlib.nullcontext():
                wait()


class Session:
    """One build's output and, in a long-running process (`make serve`), what the previous builds
    of that process keep in memory. The generator leaves its results here for generator.build."""

    def __init__(self, output: Output, memory: dict | None = None):
        self.output = output
        self.memory = memory
        self.catalogue: Catalogue | None = None
        self.now: dt.datetime | None = None
        self.next_change: dt.datetime | None = None
        self.index = False  # whether to update the search index (generator.build says)
        self.changed: set[str] | None = None  # the files changed since the previous build, if known
        self.listings: dict[str, bytes] = {}  # each listing's key, all its pages together
        self.cards: dict = {}  # each card's digest by its call's status key, for the next build
        self.search: dict | None = None  # the search index's shards' keys, once it is made
        self.read: Read | None = None  # the calls, if generator.build read them ahead


def read_calls(settings: dict, session: Session, *, progress=None, meanwhile=None, ahead=False) -> Read:
    """Read and validate every call (generator.reader), from the read cache and from what the
    session's process kept in memory, while git says the commit; `meanwhile()` runs in this process
    while a forked child starts reading. With `ahead` (a new process's build of many calls), forked
    children write the read cache and read the calls' history while the build goes on (the caller
    waits for them: `Read.finish()`)."""
    content, calls, cache = settings["PATH"], calls_path(settings), cache_path(settings)
    memory = session.memory or {}
    commit = BuildInfo(calls, known=memory.get("git"), changed=session.changed)
    catalogue = read_catalogue(content, calls, progress=progress, cache_path=cache, cache=memory.get("read"),
                               save=session.memory is None, changed=session.changed, meanwhile=meanwhile,
                               save_meanwhile=ahead)
    read = Read(catalogue, commit.result(), (content, calls, cache))
    if session.memory is not None:
        session.memory["git"] = commit.known_now()
    if ahead and session.memory is None and options(settings)["CALLS_HISTORY"] and catalogue.ok \
            and parallel.worth_it(len(catalogue.calls)):
        read.history = parallel.Background(lambda: read_history(calls, catalogue.registries), fork=True)
    return read


def history_of(read: Read) -> History | None:
    """The calls' history, if a forked child read it with the calls."""
    return read.history.result() if read.history else None
