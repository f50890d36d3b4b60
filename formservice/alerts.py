"""Alerts without an account: subscriptions (filters or one call followed, an address, the time of
consent), confirmed by double opt-in, and the digest `calls send-alerts` mails from cron.

    alerts/pending/<id>.json       a subscription waiting for its address to confirm it (deleted
                                   by `calls purge` after PENDING_DAYS)
    alerts/subscribers/<id>.json   a confirmed subscription, with the cursor of the news already
                                   sent to it
    alerts/seen.json               every call as the last run saw it, with the news noticed since
                                   (kept NEWS_DAYS): new calls, openings, closings, deadlines moved,
                                   documents and answers published

News is what the platform noticed, when it noticed it (a call merged long ago but built today is
news today). A run (1) compares the catalogue with seen.json and records what changed, (2) for each
confirmed subscription, gathers the news after its cursor that concern it, moves the cursor with a
write conditioned on the subscription's version (If-Match), and only then mails the digest: two
senders at once never send the same news twice (the second's conditional write fails), and a
sender that dies between the two loses that digest rather than sending it twice. The first run ever
records the catalogue without announcing it.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Callable, Iterable, Mapping

from callmodel import urls
from callmodel.french import french_date, french_datetime
from callmodel.schema import AUDIENCES, CALL_TYPES, Call

from .delivery import months_after
from .mail import POLICY, Mailer, MailRejected, MailUnavailable, header, message_id
from .storage import ChangedMeanwhile, Storage

log = logging.getLogger(__name__)

ALERTS = "alerts"
SUBSCRIBERS = f"{ALERTS}/subscribers"
PENDING_PREFIX = f"{ALERTS}/pending"
SEEN = f"{ALERTS}/seen.json"
NEWS_DAYS = 60
PENDING_DAYS = 3  # an unconfirmed subscription is deleted after this (calls purge)
PENDING, CONFIRMED = "pending", "confirmed"
# What each kind of news says, and who hears of it: subscribers by filters hear of new calls and
# what changes their chances to answer; those who follow a call hear of everything about it.
KINDS = {
    "new": "Nouvel appel",
    "opened": "Ouverture des réponses",
    "deadline": "Date limite modifiée",
    "documents": "Documents publiés ou modifiés",
    "questions": "Nouvelles réponses aux questions",
    "closed": "Appel clos",
}
FOR_FILTERS = ("new", "opened", "deadline", "documents")


@dataclass(frozen=True)
class Subscription:
    id: str
    email: str
    created_at: dt.datetime
    types: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()  # slugs of calls followed; then the filters do not apply
    state: str = PENDING
    confirmed_at: dt.datetime | None = None
    cursor: dt.datetime | None = None  # news noticed up to this instant has been sent
    salt: str = ""

    def to_json(self) -> bytes:
        data = dataclasses.asdict(self)
        for name in ("created_at", "confirmed_at", "cursor"):
            data[name] = data[name].isoformat() if data[name] else None
        return json.dumps(data, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Subscription":
        data = json.loads(raw)
        for name in ("created_at", "confirmed_at", "cursor"):
            data[name] = dt.datetime.fromisoformat(data[name]) if data[name] else None
        for name in ("types", "themes", "partners", "audiences", "follow"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)

    def concerns(self, call: Call, kind: str) -> bool:
        if self.follow:
            return call.slug in self.follow
        return (kind in FOR_FILTERS and (not self.types or call.type in self.types)
                and (not self.themes or set(call.themes) & set(self.themes))
                and (not self.partners or call.partner in self.partners)
                and (not self.audiences or set(call.audiences) & set(self.audiences)))


def subscription_key(sid: str, state: str = CONFIRMED) -> str:
    return f"{SUBSCRIBERS if state == CONFIRMED else PENDING_PREFIX}/{sid}.json"


def link_token(secret: str, purpose: str, subscription: Subscription) -> str:
    """The token of a subscription's confirmation or unsubscription link (never stored)."""
    mac = hmac.new(secret.encode(), f"alerte\n{purpose}\n{subscription.id}\n{subscription.salt}".encode(),
                   hashlib.sha256)
    return mac.hexdigest()[:32]


def link_url(config: Mapping, purpose: str, subscription: Subscription) -> str:
    """The confirmation ("confirmer") or one-click unsubscription ("desinscription") link, on the
    form service's configured address."""
    template = urls.CONFIRM if purpose == "confirmer" else urls.UNSUBSCRIBE
    return urls.join(config["URL"], template.format(id=subscription.id,
                                                    token=link_token(config["SECRET_KEY"], purpose, subscription)))


def link_ok(secret: str, purpose: str, subscription: Subscription, token: str) -> bool:
    return hmac.compare_digest(link_token(secret, purpose, subscription).encode(), token.encode())


def load(storage: Storage, sid: str) -> tuple[Subscription, str] | None:
    """A subscription (confirmed, else pending) and its version tag, or None."""
    for state in (CONFIRMED, PENDING):
        try:
            raw, tag = storage.get_tagged(subscription_key(sid, state))
        except FileNotFoundError:
            continue
        return Subscription.from_json(raw), tag
    return None


def save(storage: Storage, subscription: Subscription, *, if_match: str | None = None, new: bool = False) -> str:
    return storage.put(subscription_key(subscription.id, subscription.state), subscription.to_json(),
                       content_type="application/json", if_none_match=new, if_match=if_match)


def confirm(storage: Storage, subscription: Subscription, now: dt.datetime) -> Subscription:
    """The pending subscription, confirmed: news from now on. Confirming twice at once confirms once."""
    confirmed = dataclasses.replace(subscription, state=CONFIRMED, confirmed_at=now, cursor=now)
    try:
        save(storage, confirmed, new=True)
    except FileExistsError:
        confirmed = load(storage, subscription.id)[0]
    storage.delete(subscription_key(subscription.id, PENDING))
    return confirmed


def remove(storage: Storage, sid: str) -> None:
    storage.delete_many([subscription_key(sid, CONFIRMED), subscription_key(sid, PENDING)])


def stale(storage: Storage, calls: Iterable[Call], *, now: dt.datetime, months: int) -> list[str]:
    """For `calls purge`: subscriptions never confirmed after PENDING_DAYS, and those that follow
    only calls gone from the catalogue or closed more than `months` ago (their answers' retention)."""
    cutoff = now - dt.timedelta(days=PENDING_DAYS)
    keys = [key for key, modified in storage.entries(PENDING_PREFIX + "/") if modified < cutoff]
    kept = {c.slug for c in calls if c.closes is None or now < months_after(c.closes, months)}

    def ended(key: str) -> bool:
        try:
            subscription = Subscription.from_json(storage.get(key))
        except FileNotFoundError:
            return False
        return bool(subscription.follow) and not set(subscription.follow) & kept

    confirmed = [k for k in storage.keys(SUBSCRIBERS + "/") if k.endswith(".json")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys += [key for key, gone in zip(confirmed, pool.map(ended, confirmed)) if gone]
    return keys


# --- what changed ------------------------------------------------------------------------------

def state_of(call: Call, now: dt.datetime) -> dict:
    """What a call looks like to someone who follows it."""
    return {"status": call.status(now), "closes": call.closes.isoformat() if call.closes else None,
            "documents": sorted(f"{d.file}:{d.size}" for d in call.documents),
            "questions": len(call.questions), "title": call.title}


def changes(before: dict | None, after: dict) -> list[str]:
    if before is None:
        return ["new"] if after["status"] != "closed" else []
    kinds = []
    if before["status"] != after["status"] and after["status"] in ("open", "closed"):
        kinds.append("opened" if after["status"] == "open" else "closed")
    if before["closes"] != after["closes"]:
        kinds.append("deadline")
    if before["documents"] != after["documents"]:
        kinds.append("documents")
    if after["questions"] > before["questions"]:
        kinds.append("questions")
    return kinds


@dataclass
class News:
    slug: str
    kind: str
    at: dt.datetime


def notice(storage: Storage, calls: Iterable[Call], now: dt.datetime) -> list[News]:
    """Record what changed since the last run (retrying if another run wrote meanwhile) and return
    every piece of news kept."""
    while True:
        try:
            raw, tag = storage.get_tagged(SEEN)
            seen = json.loads(raw)
        except FileNotFoundError:
            seen, tag = None, None
        calls = list(calls)
        known = (seen or {}).get("calls", {})
        horizon = now - dt.timedelta(days=NEWS_DAYS)
        updated = {}
        for call in calls:
            entry = known.get(call.slug)
            state = state_of(call, now)
            events = [e for e in (entry or {}).get("events", ()) if dt.datetime.fromisoformat(e["at"]) > horizon]
            if seen is not None:
                events += [{"kind": kind, "at": now.isoformat()}
                           for kind in changes(entry["state"] if entry else None, state)]
            updated[call.slug] = {"state": state, "events": events}
        body = json.dumps({"calls": updated, "since": (seen or {}).get("since") or now.isoformat()},
                          ensure_ascii=False).encode()
        try:
            if tag is None:
                storage.put(SEEN, body, content_type="application/json", if_none_match=True)
            elif updated != known:
                storage.put(SEEN, body, content_type="application/json", if_match=tag)
        except (ChangedMeanwhile, FileExistsError):
            continue  # another run wrote first: compare again with what it saw
        return [News(slug, e["kind"], dt.datetime.fromisoformat(e["at"]))
                for slug, entry in updated.items() for e in entry["events"]]


# --- the digest ----------------------------------------------------------------------------------

@dataclass
class AlertReport:
    digests: int = 0
    subscribers: int = 0
    news: int = 0
    skipped: int = 0  # taken by another sender, or changed meanwhile
    failed: list[str] = field(default_factory=list)


def digest_message(subscription: Subscription, items: list[tuple[Call, list[str]]], config: Mapping,
                   unsubscribe: str) -> EmailMessage:
    """One mail per subscriber and run, each call with what is new about it, and the way out."""
    message = EmailMessage(policy=POLICY)
    count = len(items)
    message["Subject"] = header("Subject", f"Suivi de l'appel « {items[0][0].title} »" if subscription.follow
                                else f"{count} appel{'s' if count > 1 else ''} pour vous – {config['SITENAME']}")
    message["From"] = header("From", config["MAIL_FROM"])
    message["To"] = subscription.email
    message["Date"] = header("Date", email.utils.formatdate(usegmt=True))
    message["Message-ID"] = message_id("alert", f"{subscription.id}-{int(subscription.cursor.timestamp())}",
                                       config["URL"])
    message["Auto-Submitted"] = header("Auto-Submitted", "auto-generated")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    lines = ["Bonjour,", "", "Voici les nouveautés depuis notre dernier message :", ""]
    for call, kinds in items:
        lines.append(f"- {call.title}")
        lines.append(f"  {CALL_TYPES[call.type].label} – {call.partner_name}")
        lines.append(f"  {' ; '.join(KINDS[k] for k in kinds)}")
        if call.closes:
            lines.append(f"  Date limite : {french_datetime(call.closes)}")
        lines.append(f"  {urls.call_url(config['SITE_URL'], call.slug)}")
        lines.append("")
    lines += ["Vous recevez ce message parce que vous vous êtes abonné(e) aux alertes de la plateforme"
              f" ({french_date(subscription.confirmed_at.date()) if subscription.confirmed_at else ''}).",
              f"Pour ne plus les recevoir, en un clic : {unsubscribe}", "",
              "-- ", config["SITENAME"], "Message automatique : ne pas répondre."]
    message.set_content("\n".join(lines))
    return message


def send_alerts(storage: Storage, mailer: Mailer, calls: Iterable[Call], config: Mapping, *, now: dt.datetime,
                threads: int = 8, queue: Callable | None = None) -> AlertReport:
    """One digest per confirmed subscriber with news (see the module's docstring). A digest the
    mail server could not take now goes to `queue` (the outbox) to be sent later."""
    calls = {c.slug: c for c in calls}
    news = notice(storage, calls.values(), now)
    report = AlertReport(news=len(news))

    def one(key: str) -> str:
        try:
            raw, tag = storage.get_tagged(key)
        except FileNotFoundError:
            return "gone"  # unsubscribed meanwhile
        try:
            subscription = Subscription.from_json(raw)
        except (ValueError, KeyError, TypeError) as exc:  # one bad record stops no one else's digest
            log.error("formservice: subscription %s unreadable, skipped: %s", key, exc)
            return f"failed: {key}: unreadable ({exc})"
        since = max(t for t in (subscription.cursor, subscription.confirmed_at) if t)
        by_call: dict[str, list[str]] = {}
        for item in news:
            call = calls.get(item.slug)
            if item.at > since and call is not None and subscription.concerns(call, item.kind):
                by_call.setdefault(item.slug, []).append(item.kind)
        if not by_call:
            return "nothing"
        moved = dataclasses.replace(subscription, cursor=now)
        items = [(calls[slug], list(dict.fromkeys(kinds))) for slug, kinds in by_call.items()]
        try:
            message = digest_message(moved, items, config, link_url(config, "desinscription", moved))
        except (ValueError, TypeError) as exc:  # e.g. an address a header cannot carry
            log.error("formservice: alert digest for %s cannot be written: %s", key, exc)
            return f"failed: {key}: {exc}"
        try:
            save(storage, moved, if_match=tag)
        except (ChangedMeanwhile, FileNotFoundError):
            return "skipped"
        try:
            mailer.send(message)
        except MailUnavailable:
            if queue is None:
                raise
            queue(message, f"alert-{moved.id}-{int(now.timestamp())}")
        except MailRejected as exc:
            log.warning("formservice: alert digest for %s refused: %s", moved.id, exc)
            return f"failed: {moved.id}: {exc}"
        return "sent"

    def count(outcome: str) -> None:
        report.subscribers += outcome != "gone"
        report.digests += outcome == "sent"
        report.skipped += outcome == "skipped"
        if outcome.startswith("failed"):
            report.failed.append(outcome)

    # Subscribers are taken as the listing pages arrive, a few per thread at a time: memory stays
    # flat however many there are, and the first digests go while the listing goes on.
    with mailer.batch(), ThreadPoolExecutor(max_workers=threads) as pool:
        running: collections.deque[Future] = collections.deque()
        try:
            for key in storage.keys(SUBSCRIBERS + "/"):
                if key.endswith(".json"):
                    running.append(pool.submit(one, key))
                    if len(running) > 8 * threads:
                        count(running.popleft().result())
            while running:
                count(running.popleft().result())
        finally:
            for future in running:
                future.cancel()  # after an error, no digest not yet begun
    return report


def filters_text(subscription: Subscription, labels: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The filters of a subscription in words, for the pages and mails that confirm it."""
    parts = []
    for name, title, names in (("types", "Types", {k: t.plural for k, t in CALL_TYPES.items()}),
                               ("themes", "Thèmes", labels.get("themes", {})),
                               ("partners", "Partenaires", labels.get("partners", {})),
                               ("audiences", "Publics", AUDIENCES)):
        values = getattr(subscription, name)
        if values:
            parts.append(f"{title} : {', '.join(names.get(v, v) for v in values)}")
    return parts or ["Tous les appels"]
