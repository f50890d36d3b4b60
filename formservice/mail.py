"""Sending mail, behind a small interface (SMTP), with a queue in object storage for when it is down.

A receipt is never dropped: if the SMTP server cannot take it, the whole message is stored under
`outbox/<submission id>.eml` and `send_queued` retries every queued message later (any instance
can, since the queue is in the bucket, not on a local disk).
"""

from __future__ import annotations

import email
import email.policy
import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from .storage import OUTBOX, Storage, outbox_key

log = logging.getLogger(__name__)


class MailUnavailable(OSError):
    """The mail server could not take the message (down, refused, timed out)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message over, or raise MailUnavailable."""


class SMTPMailer:
    def __init__(self, host: str, port: int, *, timeout: float = 10, username: str = "", password: str = "",
                 starttls: bool = False):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"SMTP {self.host}:{self.port}: {exc}") from exc


def deliver(mailer: Mailer, storage: Storage, message: EmailMessage, submission_id: str) -> bool:
    """Send now, or queue in storage; True when sent. Storage errors rise (nothing may be lost)."""
    try:
        mailer.send(message)
        return True
    except MailUnavailable as exc:
        log.warning("formservice: receipt %s queued: %s", submission_id, exc)
        storage.put(outbox_key(submission_id), message.as_bytes(policy=email.policy.SMTP),
                    content_type="message/rfc822")
        return False


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
