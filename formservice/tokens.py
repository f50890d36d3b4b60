"""The identity of one showing of a form, so that the same form sent twice is one submission.

The form carries a signed random token; the submission id is an HMAC of that token, so the same
form sent twice (double click, reload, network retry) lands on the same keys and the record,
written last with IfNoneMatch='*', exists once. The receipt URL carries a random token kept in
the record (formservice.submission).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeSerializer


class BadFormToken(ValueError):
    """The form's hidden token is missing or was not issued by us."""


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="formservice-form-token")


def new_form_token(secret: str) -> str:
    return _signer(secret).dumps(secrets.token_urlsafe(16))


def submission_id(secret: str, slug: str, form_token: str) -> str:
    try:
        _signer(secret).loads(form_token)
    except BadSignature:
        raise BadFormToken(form_token[:40]) from None
    return hmac.new(secret.encode(), f"{slug}\n{form_token}".encode(), hashlib.sha256).hexdigest()[:32]


# The private links of an answer, each good for one purpose only: reading its receipt, correcting
# it, withdrawing it, or resuming it as a draft. A link is an HMAC of its purpose, the call, the
# answer and a random salt kept with the answer: it can be written again in every mail, is never
# stored, and is worthless without the service's secret.
PURPOSES = ("recu", "modifier", "retirer", "reprendre")


def link_token(secret: str, purpose: str, slug: str, answer_id: str, salt: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    mac = hmac.new(secret.encode(), f"{purpose}\n{slug}\n{answer_id}\n{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:24]).decode().rstrip("=")


def link_ok(secret: str, purpose: str, slug: str, answer_id: str, salt: str, token: str) -> bool:
    return hmac.compare_digest(link_token(secret, purpose, slug, answer_id, salt).encode(), token.encode())


def _edit_signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="formservice-correction")


def correction_token(secret: str, answer_id: str, version: int) -> str:
    """What a correction form carries: which answer, and the version it corrects."""
    return _edit_signer(secret).dumps([answer_id, version])


def correction_of(secret: str, token: str) -> tuple[str, int]:
    try:
        answer_id, version = _edit_signer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise BadFormToken(token[:40]) from None
    return str(answer_id), int(version)
