"""The one status rule: a call is upcoming before it opens, open until it closes, closed after.

The site (pages, listings, feeds), the form service (answers refused after `closes` by its own
clock), the exports schedule and the pages' script all decide with this rule; the script reads the
same instants from the page (`data-opens`, `data-closes`, written from `status_data`).
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"


def status(opens: dt.datetime, closes: dt.datetime | None, now: dt.datetime) -> str:
    """A call without a deadline (an information notice) stays open once published."""
    if now < opens:
        return UPCOMING
    if closes is None or now < closes:
        return OPEN
    return CLOSED


def next_change(calls: Iterable, now: dt.datetime) -> dt.datetime | None:
    """The first instant after `now` at which the status of any of `calls` changes, or None."""
    future = [moment for call in calls for moment in (call.opens, call.closes)
              if moment is not None and moment > now]
    return min(future, default=None)


def status_data(call) -> dict[str, str]:
    """The instants a page carries for its script to apply the same rule between builds."""
    data = {"opens": call.opens.isoformat()}
    if call.closes is not None:
        data["closes"] = call.closes.isoformat()
    data["timezone"] = call.timezone
    return data


def count_changes(calls: Iterable, now: dt.datetime, limit: int) -> dict[str, list[tuple[dt.datetime, int]]]:
    """How many calls each status gains or loses at each instant after `now`, for the first
    `limit` instants (a build comes at each of them): a page that shows counts keeps them right
    between builds, its script applying the changes whose instant has passed."""
    moves = []
    for call in calls:
        if call.opens > now:
            moves += [(call.opens, UPCOMING, -1), (call.opens, OPEN, +1)]
        if call.closes is not None and call.closes > now:
            moves += [(call.closes, OPEN, -1), (call.closes, CLOSED, +1)]
    instants = sorted({moment for moment, _, _ in moves})[:limit]
    last = instants[-1] if instants else None
    changes: dict[str, list] = {UPCOMING: [], OPEN: [], CLOSED: []}
    for moment, name, delta in sorted(moves, key=lambda m: m[0]):
        if moment <= last:
            changes[name].append((moment, delta))
    return changes
