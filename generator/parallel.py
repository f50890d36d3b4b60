"""Both cores for the costly steps of a cold build (reading calls, rendering their pages).

A forked child takes the second half of the items; what it returns comes back pickled through a
pipe. The child inherits everything read so far (templates, registries, calls) without copying it.
Small batches, and platforms without fork, run in this process.
"""

from __future__ import annotations

import os
import pickle
import traceback

MINIMUM = 400


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


def in_two(work, items: list, *, share: float = 0.5, meanwhile=None) -> list:
    """`work(items)` returns one result per item; run it on two processes when it is worth it:
    this one takes `share` of the items, then runs `meanwhile()` while the child works on the rest.
    The results come back in the order of `items`."""
    if not worth_it(len(items)):
        results = work(items)
        if meanwhile:
            meanwhile()
        return results
    half = int(len(items) * share)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            data = pickle.dumps((True, work(items[half:])), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            data = pickle.dumps((False, traceback.format_exc()))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(write_end)
    try:
        mine = work(items[:half])
        if meanwhile:
            meanwhile()
    finally:  # read the child's answer even when this half failed: it may wait to write it
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
    ok, theirs = pickle.loads(data) if data else (False, "the worker process ended without an answer")
    if not ok:
        raise WorkerFailed(theirs)
    return mine + theirs
