"""Progress of long work (builds, exports) on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """A rewritten line on a terminal, a line per tenth otherwise; silent for short work."""

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
