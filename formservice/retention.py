"""Data protection: a call's submissions, exports and the questions asked about it are deleted
RETENTION_MONTHS after it closes.

The privacy page (content/pages/donnees-personnelles.md) states the same duration. `plan` lists
every object that will go; `purge` deletes exactly that list, records first, so a submission
disappears from exports at once even if the run stops halfway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from callmodel.schema import Call

from .delivery import EXPORTS, LINKS, REQUESTS, months_after
from .mail import LEASES
from .questions import QUESTIONS
from . import submission
from .staging import STAGED_HOURS
from .storage import DRAFTS, OUTBOX, SUBMISSIONS, Storage

# Bookkeeping objects are kept a little longer than they can matter (a link lives one day, a
# lease minutes), then `calls purge` deletes them.
BOOKKEEPING_DAYS = 2


@dataclass
class Expired:
    """One call past its retention, and every object of it to delete."""

    call: Call
    until: dt.datetime
    keys: list[str]

    @property
    def submissions(self) -> int:
        """Answers (their first version), as a person counts them."""
        return sum(1 for k in self.keys if k.startswith(SUBMISSIONS + "/") and k.endswith("/versions/0001.json"))


def plan(storage: Storage, calls: Iterable[Call], *, now: dt.datetime, months: int) -> list[Expired]:
    found = []
    for call in calls:
        if call.closes is None:
            continue
        until = months_after(call.closes, months)
        if now < until:
            continue
        keys = []
        for prefix in (f"{SUBMISSIONS}/{call.slug}/", f"{DRAFTS}/{call.slug}/", f"{EXPORTS}/{call.slug}/",
                       f"{REQUESTS}/{call.slug}/", f"{QUESTIONS}/{call.slug}/"):
            keys += storage.keys(prefix)
        if keys:
            keys.sort(key=lambda k: ("/versions/" not in k, k))  # records first: gone from exports at once
            found.append(Expired(call, until, keys))
    return found


def unsent(storage: Storage, calls: Iterable[Call], *, now: dt.datetime) -> list[str]:
    """What was kept for answers never sent: files received with a form that was then left (after
    STAGED_HOURS, unless a draft still holds them), and drafts, once their call has closed (nobody
    can send them any more). Files an answer's versions left aside go with the answer, at retention."""
    cutoff = now - dt.timedelta(hours=STAGED_HOURS)
    keys = []
    for call in calls:
        closed = call.closes is not None and now >= call.closes
        drafted = set() if closed else {k.rsplit("/", 1)[1].removesuffix(".json")
                                        for k in storage.keys(f"{DRAFTS}/{call.slug}/")}
        answers: dict[str, list] = {}
        for key, modified in storage.entries(f"{SUBMISSIONS}/{call.slug}/"):
            answers.setdefault(key.split("/")[2], []).append((key, modified))
        for answer_id, items in answers.items():
            if answer_id not in drafted and not submission.version_keys(k for k, _ in items) \
                    and all(modified < cutoff for _, modified in items):
                keys += [k for k, _ in items]
        if closed:
            keys += storage.keys(f"{DRAFTS}/{call.slug}/")
    return keys


def bookkeeping(storage: Storage, *, now: dt.datetime) -> list[str]:
    """Objects that no longer count for anything: the export page's fold windows and used links,
    and leases on messages that left the mail queue."""
    cutoff = now - dt.timedelta(days=BOOKKEEPING_DAYS)
    keys = [key for key, modified in storage.entries(LINKS + "/") if modified < cutoff]
    queued = {key.removeprefix(OUTBOX + "/") for key in storage.keys(OUTBOX + "/")}
    keys += [key for key, modified in storage.entries(LEASES + "/")
             if modified < cutoff and key.split("/")[1] not in queued]
    return keys


def unknown_slugs(storage: Storage, calls: Iterable[Call]) -> list[str]:
    """Calls with stored submissions that the catalogue no longer has: kept, for a person to decide."""
    known = {c.slug for c in calls}
    prefix = SUBMISSIONS + "/"
    return [p[len(prefix):].rstrip("/") for p in storage.children(prefix) if p[len(prefix):].rstrip("/") not in known]


def purge(storage: Storage, expired: Iterable[Expired]) -> int:
    count = 0
    for item in expired:
        storage.delete_many(item.keys)
        count += len(item.keys)
    return count
