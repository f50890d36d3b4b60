"""Files received with a form that comes back (an error, a notice, a draft): kept, never asked again.

A file is stored as soon as it is received, where the answer's files live
(`submissions/<slug>/<answer id>/files/...`, the answer id coming from the form's token), and the
form that comes back carries a signed reference to it for each file field. Sent again without a
new file, the field keeps the file the reference names; "retirer" drops it; a new file replaces it.
A file kept this way whose answer is never sent is removed by `calls purge` after STAGED_HOURS.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from .storage import Storage, file_key, submission_prefix
from .submission import StoredFile
from .uploads import Upload

STAGED_HOURS = 48


def stage(storage: Storage, slug: str, answer_id: str, upload: Upload) -> StoredFile:
    """Store a received file (its SHA-256 checked by the storage); the same bytes land on the same key."""
    key = file_key(slug, answer_id, upload.sha256, upload.name)
    storage.put(key, upload.data, content_type=upload.content_type, sha256=upload.sha256)
    return StoredFile(upload.field, upload.name, key, upload.size, upload.sha256, upload.content_type)


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="formservice-kept-file")


def reference(secret: str, stored: StoredFile) -> str:
    """What the form carries to keep a file: signed, so nobody can name another answer's file."""
    return _signer(secret).dumps([stored.field, stored.name, stored.key, stored.size, stored.sha256,
                                  stored.content_type])


def resolve(secret: str, slug: str, answer_id: str, field: str, token: str) -> StoredFile | None:
    """The kept file a reference names, if it is genuine and belongs to this answer and field."""
    try:
        values = _signer(secret).loads(token)
        stored = StoredFile(*values)
    except (BadSignature, TypeError, ValueError):
        return None
    if stored.field != field or not stored.key.startswith(submission_prefix(slug, answer_id) + "files/"):
        return None
    return stored
