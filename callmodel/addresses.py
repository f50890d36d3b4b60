"""E-mail addresses, checked once the same way everywhere (answers, exports_to, subscriptions).

email-validator checks the syntax (no DNS lookup: a form must not wait on the network, and tests
run offline); we add what it lets through and a mail system would mangle: an RFC 2047 encoded word
(`=?utf-8?q?...?=`), which some mail software decodes into header lines. Addresses are kept in
their ASCII form (an internationalised domain as punycode), which every SMTP server accepts.
"""

from __future__ import annotations

import functools
import re

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254
_ENCODED_WORD = re.compile(r"=\?.*\?=", re.S)
# A quick check where only a pattern can run (the call editor, in the browser); `calls check` and
# the form service decide with `normalize_address`.
BROWSER_PATTERN = r"^[^@\s=?]+@[^@\s]+\.[^@\s]+$"


class BadAddress(ValueError):
    """Not an address we can send to; the message says why, in French."""


def normalize_address(text: str) -> str:
    """The address to store and send to, or BadAddress."""
    if not isinstance(text, str):
        raise BadAddress("adresse invalide")
    address, problem = _checked(text)
    if problem:
        raise BadAddress(problem)
    return address


@functools.lru_cache(maxsize=4096)  # the same recipients are written in many calls
def _checked(text: str) -> tuple[str | None, str | None]:
    if not text or len(text) > MAX_LENGTH or _ENCODED_WORD.search(text):
        return None, "adresse invalide"
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return None, str(exc)
    return result.ascii_email or result.normalized, None


def is_address(text: str) -> bool:
    try:
        normalize_address(text)
    except BadAddress:
        return False
    return True
