"""Sending mail, behind a small interface (SMTP), through a queue kept in object storage.

Every mail (a receipt, later any other) is first stored under `outbox/<key>.eml`, then sent by a
background thread of the process that queued it, which removes it once the SMTP server took it (the
messages sent within a second leave the queue together, in one request). A slow or down mail server
therefore never holds a person's page nor a worker, and whatever was not sent stays queued until
`send_queued` (cron, any host: the queue is in the bucket, not on a local disk) sends it.

Who sends what, so that a message goes out once:
- a message younger than `min_age` belongs to the process that queued it (it is sending it);
- older ones are taken by `send_queued` under a lease: an object `outbox-leases/<key>/<period>`
  created with IfNoneMatch, where a period is `lease` seconds. A sender takes a message only if no
  lease exists for the current or the previous period, so two senders at once never both send it,
  and a lease left by a sender that died expires after one or two periods.
- A message the mail server refuses for good (5xx for its recipient), or that cannot be read or
  sent at all, is a poison message: it is set aside under `outbox-failed/` with its reason, and
  the others go on.
The one window for a duplicate: SMTP accepted a message and the process died (or the storage stayed
down) before it left the queue. Its Message-ID is the same each time, so mail clients fold it.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import email
import email.policy
import email.utils
import functools
import json
import logging
import smtplib
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import headerregistry
from email.message import Message
from typing import ContextManager, Iterator, Protocol
from urllib.parse import urlsplit

from callmodel.addresses import BadAddress, normalize_address

from .storage import OUTBOX, Storage, StorageUnavailable, outbox_key

log = logging.getLogger(__name__)

LEASES = "outbox-leases"
FAILED = "outbox-failed"


class MailUnavailable(OSError):
    """The mail server could not take the message now (down, busy, timed out): try later."""


class MailRejected(ValueError):
    """This message will never be accepted (its recipient refused for good, or it is unreadable)."""


class Mailer(Protocol):
    def send(self, message: Message) -> None:
        """Hand the message over, or raise MailUnavailable (try later) or MailRejected (never)."""

    def batch(self) -> ContextManager[None]:
        """While it lasts, the mailer may keep its connections open from one message to the next
        (many mails sent in a row); they are closed when it ends."""


def recipients(message: Message) -> list[str]:
    """The envelope recipients: every address of To, Cc and Bcc, each one checked."""
    found = email.utils.getaddresses([str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])])
    try:
        addresses = [normalize_address(address) for _, address in found]
    except BadAddress as exc:
        raise MailRejected(f"recipient not an address: {exc}") from None
    if not addresses:
        raise MailRejected("no recipient")
    return addresses


class SMTPMailer:
    """SMTP: one connection per message, or, inside `batch()`, connections kept from one message to
    the next (one per thread sending at once), as connecting costs more than a small message. A
    kept connection is checked with NOOP before it carries another message, since the server may
    have closed it meanwhile (idle timeout, restart): a dead one is replaced before anything is
    sent, so that no message is ever sent twice."""

    def __init__(self, host: str, port: int, *, timeout: float = 10, username: str = "", password: str = "",
                 starttls: bool = False):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls
        self._kept: list[smtplib.SMTP] = []
        self._batches = 0
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        to = recipients(message)
        try:
            smtp = self._connection()
            try:
                smtp.send_message(message, to_addrs=to)
            except BaseException:
                smtp.close()  # in an unknown state: never reused
                raise
            with self._lock:
                keep = self._batches > 0
                if keep:
                    self._kept.append(smtp)
            if not keep:
                _quit(smtp)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise MailRejected(f"SMTP refused every recipient: {exc.recipients}") from exc
            raise MailUnavailable(f"SMTP {self.host}:{self.port}: {exc.recipients}") from exc
        except smtplib.SMTPDataError as exc:
            if 500 <= exc.smtp_code < 600:
                raise MailRejected(f"SMTP refused the message: {exc.smtp_code} {exc.smtp_error!r}") from exc
            raise MailUnavailable(f"SMTP {self.host}:{self.port}: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"SMTP {self.host}:{self.port}: {exc}") from exc

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        with self._lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                kept, self._kept = (self._kept, []) if self._batches == 0 else ([], self._kept)
            for smtp in kept:
                _quit(smtp)

    def _connection(self) -> smtplib.SMTP:
        """A kept connection that still answers, else a new one."""
        while True:
            with self._lock:
                if not self._kept:
                    break
                smtp = self._kept.pop()
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except (OSError, smtplib.SMTPException):
                pass
            smtp.close()
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; the message before was taken whatever the server answers to that."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class _HeaderClasses(headerregistry.HeaderRegistry):
    """The standard header classes, each made once: the standard registry makes a new class for
    every header it parses, a fifth of the time it takes to write a small mail."""

    def __init__(self):
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name):
        made = self._made.get(name.lower())
        if made is None:
            made = self._made[name.lower()] = super().__getitem__(name)
        return made


# email.policy.default, faster for mails written by the thousand (the alert digests).
POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


@functools.lru_cache(maxsize=256)
def header(name: str, value: str):
    """A header parsed once for all the mails that carry it (the sender, a subject, a date): a
    header object is never changed once made, and parsing addresses is slow. ValueError for a value
    that holds a line break, as when a header is set from a text."""
    return POLICY.header_store_parse(name, value)[1]


def message_id(kind: str, key: str, service_url: str) -> str:
    """The same Message-ID each time the same message is built, so a duplicate folds into one; its
    domain is the form service's public host."""
    return f"<{kind}-{key}@{urlsplit(service_url).hostname or 'localhost'}>"


class Outbox:
    """Queue a message in storage, then send it in the background and unqueue it."""

    def __init__(self, mailer: Mailer, storage: Storage, *, threads: int = 2, unqueue_delay: float = 1.0):
        self.mailer = mailer
        self.storage = storage
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="formservice-mail")
        self.unqueue_delay = unqueue_delay
        self._sent: list[str] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        atexit.register(self.unqueue_sent)

    def deliver(self, message: Message, key: str):
        """Queue now (storage errors rise: the caller decides), send soon; returns the sending's future."""
        return self.executor.submit(self._send, queue(self.storage, message, key), message)

    def _send(self, key: str, message: Message) -> bool:
        try:
            self.mailer.send(message)
        except (MailUnavailable, MailRejected) as exc:
            # A rejected one is set aside by the next `send_queued`, with its reason.
            log.warning("formservice: %s stays queued: %s", key, exc)
            return False
        with self._lock:
            self._sent.append(key)
            self._schedule()
        return True

    def _schedule(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.unqueue_delay, self.unqueue_sent)
            self._timer.daemon = True
            self._timer.start()

    def unqueue_sent(self) -> None:
        """Remove the messages sent since the last call from the queue, in one request; if the
        storage is down, keep them and try again (they would otherwise be sent a second time)."""
        with self._lock:
            keys, self._sent, self._timer = self._sent, [], None
        if not keys:
            return
        try:
            self.storage.delete_many(keys)
        except OSError as exc:
            log.warning("formservice: %d sent mail(s) still queued, retrying: %s", len(keys), exc)
            with self._lock:
                self._sent = keys + self._sent
                if not getattr(self.executor, "_shutdown", False):
                    self._schedule()


def queue(storage: Storage, message: Message, key: str) -> str:
    """Put a message in the queue, for the next sender; its queue key."""
    queued = outbox_key(key)
    storage.put(queued, message.as_bytes(policy=message.policy.clone(linesep="\r\n")), content_type="message/rfc822")
    return queued


def send_or_queue(mailer: Mailer, storage: Storage, message: Message, key: str) -> bool:
    """Send now, from a command; if the mail server cannot take it now, queue it for
    `send_queued` (True when sent)."""
    try:
        mailer.send(message)
        return True
    except MailUnavailable as exc:
        log.warning("formservice: %s queued for later: %s", key, exc)
        queue(storage, message, key)
        return False


@dataclass
class QueueReport:
    """What a `send_queued` run did."""

    sent: int = 0
    left: int = 0  # still queued: the mail server will be tried again
    recent: int = 0  # younger than min_age, left to the process that queued them
    leased: int = 0  # being sent by another sender
    set_aside: list[str] = field(default_factory=list)  # poison messages, with why


def lease_key(key: str, period: int) -> str:
    return f"{LEASES}/{key.removeprefix(OUTBOX + '/')}/{period}"


def take_lease(storage: Storage, key: str, *, now: dt.datetime, lease: float, sender: str) -> str | None:
    """The lease this sender now holds on `key`, or None if another sender may be sending it."""
    period = int(now.timestamp() // lease)
    try:
        storage.get(lease_key(key, period - 1))
        return None
    except FileNotFoundError:
        pass
    held = lease_key(key, period)
    try:
        storage.put(held, json.dumps({"sender": sender, "at": now.isoformat()}).encode(),
                    content_type="application/json", if_none_match=True)
    except FileExistsError:
        return None
    return held


def set_aside(storage: Storage, key: str, raw: bytes, reason: str, *, now: dt.datetime) -> None:
    """Move a poison message out of the queue, with why, for a person to look at."""
    name = key.removeprefix(OUTBOX + "/")
    storage.put(f"{FAILED}/{name}", raw, content_type="message/rfc822")
    storage.put(f"{FAILED}/{name}.json", json.dumps({"reason": reason, "at": now.isoformat()},
                                                    ensure_ascii=False).encode(), content_type="application/json")
    storage.delete(key)
    log.error("formservice: mail %s set aside: %s", key, reason)


def unqueue(storage: Storage, keys: list[str], *, attempts: int = 5, pause: float = 2.0) -> None:
    """Delete sent messages (and their leases), retrying a while if the storage is down."""
    for attempt in range(attempts):
        try:
            storage.delete_many(keys)
            return
        except OSError as exc:
            if attempt == attempts - 1:
                log.error("formservice: sent but still queued, may be sent again: %s", exc)
                raise
            time.sleep(pause * (attempt + 1))


def send_queued(mailer: Mailer, storage: Storage, *, min_age: float = 120, lease: float = 300,
                now: dt.datetime | None = None, sender: str | None = None) -> QueueReport:
    """Send every queued message old enough and not leased by another sender; set poison messages
    aside. A sent message leaves the queue."""
    now = now or dt.datetime.now(dt.timezone.utc)
    sender = sender or f"{socket.gethostname()}:{threading.get_native_id()}:{time.monotonic_ns()}"
    report = QueueReport()
    cutoff = now - dt.timedelta(seconds=min_age)
    for key, modified in list(storage.entries(OUTBOX + "/")):
        if not key.endswith(".eml"):
            continue
        if modified > cutoff:
            report.recent += 1
            continue
        held = take_lease(storage, key, now=now, lease=lease, sender=sender)
        if not held:
            report.leased += 1
            continue
        try:
            raw = storage.get(key)
        except FileNotFoundError:
            storage.delete(held)  # sent and unqueued by another sender meanwhile
            continue
        try:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            mailer.send(message)
        except MailUnavailable as exc:
            log.warning("formservice: queued mail %s not sent: %s", key, exc)
            storage.delete(held)  # the next run tries again
            report.left += 1
            continue
        except StorageUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever breaks on one message must not stop the others
            set_aside(storage, key, raw, f"{type(exc).__name__}: {exc}", now=now)
            report.set_aside.append(f"{key}: {exc}")
            continue
        # The message first, its leases after: a lease never disappears before its message does.
        unqueue(storage, [key])
        unqueue(storage, list(storage.keys(f"{LEASES}/{key.removeprefix(OUTBOX + '/')}/")))
        report.sent += 1
    return report
