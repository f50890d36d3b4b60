"""Sending mail, behind a small interface (SMTP), through a queue kept in object storage.

A receipt is never dropped: the whole message is first stored under `outbox/<submission id>.eml`,
then sent by a background thread, which removes it once the SMTP server took it (the messages sent
within a second leave the queue together, in one request). A slow or down mail server therefore
never holds the person's receipt page nor a worker, and whatever was not sent (server down, process
killed) stays queued until `send_queued` retries it (any instance can: the queue is in the bucket,
not on a local disk). `send_queued` leaves alone the messages queued in the last minutes, which a
background sender still has in hand; a message can still be sent twice (sent, then the process
killed before it left the queue), never zero times.
"""

from __future__ import annotations

import atexit
import datetime as dt
import email
import email.policy
import logging
import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from typing import Protocol

from .storage import OUTBOX, Storage, outbox_key

log = logging.getLogger(__name__)


class MailUnavailable(OSError):
    """The mail server could not take the message (down, refused, timed out)."""


class Mailer(Protocol):
    def send(self, message: Message) -> None:
        """Hand the message over, or raise MailUnavailable."""


class SMTPMailer:
    def __init__(self, host: str, port: int, *, timeout: float = 10, username: str = "", password: str = "",
                 starttls: bool = False):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: Message) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"SMTP {self.host}:{self.port}: {exc}") from exc


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

    def deliver(self, message: Message, submission_id: str):
        """Queue now (storage errors rise: the caller decides), send soon; returns the sending's future."""
        key = outbox_key(submission_id)
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        self.storage.put(key, raw, content_type="message/rfc822")
        return self.executor.submit(self._send, key, message)

    def _send(self, key: str, message: Message) -> bool:
        try:
            self.mailer.send(message)
        except MailUnavailable as exc:
            log.warning("formservice: %s stays queued: %s", key, exc)
            return False
        with self._lock:
            self._sent.append(key)
            if self._timer is None:
                self._timer = threading.Timer(self.unqueue_delay, self.unqueue_sent)
                self._timer.daemon = True
                self._timer.start()
        return True

    def unqueue_sent(self) -> None:
        """Remove the messages sent since the last call from the queue, in one request."""
        with self._lock:
            keys, self._sent, self._timer = self._sent, [], None
        if keys:
            try:
                self.storage.delete_many(keys)
            except OSError as exc:
                log.warning("formservice: sent but still queued (may be sent twice): %s", exc)


def send_queued(mailer: Mailer, storage: Storage, *, min_age: float = 120) -> tuple[int, int, int]:
    """Retry every message queued at least `min_age` seconds ago: (sent, still queued, younger
    ones left to the background sender that queued them). A sent message leaves the queue."""
    sent = left = 0
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=min_age)
    queued = list(storage.entries(OUTBOX + "/"))
    due = [key for key, modified in queued if modified <= cutoff]
    for key in due:
        try:
            raw = storage.get(key)
        except FileNotFoundError:
            continue
        message = email.message_from_bytes(raw, policy=email.policy.default)
        try:
            mailer.send(message)
        except MailUnavailable as exc:
            log.warning("formservice: queued mail %s not sent: %s", key, exc)
            left += 1
            continue
        storage.delete(key)
        sent += 1
    return sent, left, len(queued) - len(due)
