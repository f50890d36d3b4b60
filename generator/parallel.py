"""Both cores for the costly steps of a cold build (reading calls, rendering their pages).

A forked child and this process take the items in small batches from a shared counter until none
is left, so that both finish together whatever else this process has to do meanwhile (the
listings, while the child makes call pages). What the child made comes back pickled through a
pipe; it inherits everything read so far (templates, registries, calls) without copying it.
Small batches of work, and platforms without fork, run in this process. `Background` runs one job
(the search index) in a forked child the same way, while this process goes on with the build.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import traceback

MINIMUM = 400
BATCH = 16


class WorkerFailed(RuntimeError):
    """The forked half of a step raised; the message carries its traceback."""


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def worth_it(count: int) -> bool:
    """Whether `count` items are worth a second process (MINIMUM is read when asked: tests lower it)."""
    return count >= MINIMUM and cores() >= 2 and hasattr(os, "fork")


def _share(work, items: list, counter, progress=None) -> list[tuple[int, object]]:
    """Batches of `items` taken from the shared `counter` until none is left: (position, result).
    `progress(done, total)` is told how many items both processes took so far."""
    done = []
    while True:
        with counter.get_lock():
            start = counter.value
            counter.value = start + BATCH
        if start >= len(items):
            return done
        batch = items[start:start + BATCH]
        results = work(batch)
        if len(results) != len(batch):
            raise ValueError(f"{len(results)} results for {len(batch)} items: work gives one result per item")
        done += enumerate(results, start)
        if progress:
            progress(min(start + BATCH, len(items)), len(items))


class _Counter:
    """The shared counter's interface, for one process."""

    def __init__(self):
        self.value = 0

    def get_lock(self):
        return contextlib.nullcontext()


def in_two(work, items: list, *, meanwhile=None, progress=None) -> list:
    """`work(items)` returns one result per item; run it on two processes when it is worth it, this
    one joining in after `meanwhile()`. The results come back in the order of `items`."""
    if not worth_it(len(items)):
        results = [result for _, result in _share(work, items, _Counter(), progress)]
        if meanwhile:
            meanwhile()
        return results
    counter = multiprocessing.get_context("fork").Value("q", 0)
    child = Background(lambda: _share(work, items, counter), fork=True)
    try:
        if meanwhile:
            meanwhile()
        mine = _share(work, items, counter, progress)
    except BaseException:
        with contextlib.suppress(WorkerFailed):  # read the child's answer all the same: it may wait to write it
            child.result()
        raise
    theirs = child.result()
    results: list = [None] * len(items)
    for position, result in mine + theirs:
        results[position] = result
    return results


class Background:
    """`work()` in a forked child while this process goes on (`fork`), else here and now; `result()`
    gives what it returned (pickled back through a pipe), or raises WorkerFailed."""

    def __init__(self, work, *, fork: bool):
        self.pid = None
        if not (fork and hasattr(os, "fork")):
            self.answer = (True, work())
            return
        read_end, write_end = os.pipe()
        gc.freeze()  # as in in_two: no page copied for the child by a collector's pass
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                data = pickle.dumps((True, work()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                data = pickle.dumps((False, traceback.format_exc()))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            os._exit(0)
        os.close(write_end)
        gc.unfreeze()
        self.pid, self.read_end = pid, read_end

    def result(self):
        if self.pid is not None:
            with os.fdopen(self.read_end, "rb") as pipe:
                data = pipe.read()
            os.waitpid(self.pid, 0)
            self.pid = None
            self.answer = pickle.loads(data) if data else (False, "the worker process ended without an answer")
        ok, value = self.answer
        if not ok:
            raise WorkerFailed(value)
        return value
