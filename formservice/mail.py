"""Sending mail, behind a small interface (SMTP), through a queue kept in object storage.

A receipt is never dropped: the whole message is first stored under `outbox/<submission id>.eml`,
then sent by a background thread, which removes it once the SMTP server took it. A slow or down
mail server therefore never holds the person's receipt page nor a worker, and whatever was not
sent (server down, process killed) stays queued until `send_queued` retries it (any instance can:
the queue is in the bucket, not on a local disk). A retry racing a background send may send a
receipt twice; never zero times.
"""

from __future__ import annotations

import email
import email.policy
import logging
import smtplib
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

    def __init__(self, mailer: Mailer, storage: Storage, *, threads: int = 2):
        self.mailer = mailer
        self.storage = storage
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="formservice-mail")

    def deliver(self, message: Message, submission_id: str):
        """Queue now (storage errors rise: the caller decides), send soon; returns the sending's future."""
        key = outbox_key(submission_id)
        self.storage.put(key, message.as_bytes(policy=message.policy.clone(linesep="\r\n")), content_type="message/rfc822")
        return self.executor.submit(self._send, key, message)

    def _send(self, key: str, message: Message) -> bool:
        try:
            self.mailer.send(message)
        except MailUnavailable as exc:
            log.warning("formservice: %s stays queued: %s", key, exc)
            return False
        try:
            self.storage.delete(key)
        except OSError as exc:
            log.warning("formservice: %s sent but still queued (may be sent twice): %s", key, exc)
        return True


def send_queued(mailer: Mailer, storage: Storage) -> tuple[int, int]:
    """Retry every queued message: (sent, still queued). A sent message leaves the queue."""
    sent = left = 0
    for key in list(storage.keys(OUTBOX + "/")):
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
    return sent, left
