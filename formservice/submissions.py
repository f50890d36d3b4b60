"""A submission from valid answers to its stored record: ids, numbers, objects, exactly once.

The form carries a signed random token; the submission id is an HMAC of that token, so the same form
sent twice (double click, reload, network retry) lands on the same keys and the record, written
last with IfNoneMatch='*', exists once. The receipt URL carries a random token kept in the record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer

from generator.dates import french_datetime

from .catalogue import CatalogueCall
from .storage import Storage, file_key, read_record, record_key
from .uploads import Upload

PARIS = ZoneInfo("Europe/Paris")
# Crockford's base 32: no I, L, O, U, so a number read over the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


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


def short_number(prefix: str, year: int, sub_id: str) -> str:
    value = int(sub_id[:8], 16)
    code = "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(6))
    return f"{prefix}-{year}-{code}"


def fingerprint(answers: dict, uploads: list[Upload]) -> str:
    """What makes two sendings of one form the same submission (answers and file contents)."""
    data = json.dumps([answers, sorted((u.field, u.sha256) for u in uploads)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def forget_unrecorded_files(storage: Storage, record: dict, slug: str, sub_id: str, uploads: list[Upload]) -> None:
    """Delete the files a refused sending wrote beside an existing submission (never its own)."""
    kept = {f["key"] for f in record["files"]}
    for key in {file_key(slug, sub_id, u.sha256, u.name) for u in uploads} - kept:
        storage.delete(key)


def existing(storage: Storage, slug: str, sub_id: str) -> dict | None:
    try:
        return read_record(storage, slug, sub_id)
    except FileNotFoundError:
        return None


def store(storage: Storage, call: CatalogueCall, sub_id: str, answers: dict, uploads: list[Upload], *,
          email: str, build: dict, prefix: str, now: dt.datetime) -> dict:
    """Write the files, then the record (FileExistsError if this submission already exists)."""
    files = []
    for upload in uploads:
        key = file_key(call.slug, sub_id, upload.sha256, upload.name)
        storage.put(key, upload.data, content_type=upload.content_type, sha256=upload.sha256)
        files.append({"field": upload.field, "name": upload.name, "key": key, "size": upload.size,
                      "sha256": upload.sha256, "content_type": upload.content_type})
    received = now.astimezone(dt.timezone.utc)
    record = {
        "id": sub_id,
        "number": short_number(prefix, received.astimezone(PARIS).year, sub_id),
        "slug": call.slug,
        "title": call.title,
        "received_at": received.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "received_at_local": french_datetime(received.astimezone(PARIS)),
        "build_commit": build.get("commit"),
        "call_version": call.version or build.get("commit"),
        "answers": answers,
        "labels": {f.name: f.label for f in call.fields},
        "files": files,
        "email": email,
        "receipt_token": secrets.token_urlsafe(24),
        "fingerprint": fingerprint(answers, uploads),
    }
    storage.put(record_key(call.slug, sub_id), json.dumps(record, ensure_ascii=False, indent=1).encode(),
                content_type="application/json", if_none_match=True)
    return record
