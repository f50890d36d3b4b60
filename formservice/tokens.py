"""The identity of one showing of a form, so that the same form sent twice is one submission.

The form carries a signed random token; the submission id is an HMAC of that token, so the same
form sent twice (double click, reload, network retry) lands on the same keys and the record,
written last with IfNoneMatch='*', exists once. The receipt URL carries a random token kept in
the record (formservice.submission).
"""

from __future__ import annotations

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
