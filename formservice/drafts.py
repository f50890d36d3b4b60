"""Drafts: an answer saved to be finished later, resumed through a private link mailed to the
applicant. A draft is never sent to the partner (exports read `submissions/` only); sending it
makes it an answer with the same id (its link then shows that answer's receipt). `calls purge`
deletes drafts once their call has closed.

    drafts/<slug>/<answer id>.json   the typed values, the kept files, when it was saved
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass

from .storage import DRAFTS, Storage
from .submission import StoredFile


@dataclass(frozen=True)
class Draft:
    id: str  # the answer id it will be sent as
    slug: str
    form_token: str  # the token of the form it was saved from: sending it again is one answer
    email: str
    values: dict  # as typed, to fill the form again
    files: tuple[StoredFile, ...]
    saved_at: dt.datetime
    link_salt: str
    mailed_at: dt.datetime | None = None  # when the resume link was last mailed

    def to_json(self) -> bytes:
        data = dataclasses.asdict(self)
        data["saved_at"] = self.saved_at.isoformat()
        data["mailed_at"] = self.mailed_at.isoformat() if self.mailed_at else None
        return json.dumps(data, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Draft":
        data = json.loads(raw)
        data["saved_at"] = dt.datetime.fromisoformat(data["saved_at"])
        data["mailed_at"] = dt.datetime.fromisoformat(data["mailed_at"]) if data.get("mailed_at") else None
        data["files"] = tuple(StoredFile(**f) for f in data["files"])
        return cls(**data)


def draft_key(slug: str, answer_id: str) -> str:
    return f"{DRAFTS}/{slug}/{answer_id}.json"


def save(storage: Storage, draft: Draft) -> None:
    """The last save wins: a draft is the applicant's own, and only they save it."""
    storage.put(draft_key(draft.slug, draft.id), draft.to_json(), content_type="application/json")


def load(storage: Storage, slug: str, answer_id: str) -> Draft | None:
    try:
        return Draft.from_json(storage.get(draft_key(slug, answer_id)))
    except FileNotFoundError:
        return None


