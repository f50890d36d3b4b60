"""The submission record: what the form service stores for one answer, and what receipts, exports,
deliveries and retention read. One class, one codec (`record.json`), one way in (`store`).

A submission exists once its record exists: `store` writes the files first, then the record with
IfNoneMatch='*' (exactly once), so a reader never sees a submission whose files are missing.
Times are kept in UTC, with the call's time zone for display.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator
from zoneinfo import ZoneInfo

from callmodel.french import french_datetime
from callmodel.schema import Call

from .storage import SUBMISSIONS, Storage, file_key, record_key

if TYPE_CHECKING:
    from .uploads import Upload

# Crockford's base 32: no I, L, O, U, so a number read over the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class StoredFile:
    """One attachment as stored: the name the applicant gave (made safe) and its SHA-256."""

    field: str
    name: str
    key: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class Submission:
    id: str
    number: str
    slug: str
    title: str
    received_at: dt.datetime  # UTC, to the second: the time of receipt that counts
    timezone: str  # the call's, in which the receipt and the export show times
    answers: dict
    labels: dict
    files: tuple[StoredFile, ...]
    email: str
    receipt_token: str
    fingerprint: str
    build_commit: str | None = None
    call_version: str | None = None

    @property
    def received_local(self) -> dt.datetime:
        return self.received_at.astimezone(ZoneInfo(self.timezone))

    @property
    def received_text(self) -> str:
        """15 janvier 2027 à 11 h 58 (heure de Paris)."""
        return french_datetime(self.received_local)

    def files_of(self, field: str) -> list[StoredFile]:
        return [f for f in self.files if f.field == field]

    def to_json(self) -> bytes:
        data = dataclasses.asdict(self)
        data["received_at"] = self.received_at.isoformat(timespec="seconds").replace("+00:00", "Z")
        data["received_at_local"] = self.received_text  # for a person reading the object itself
        return json.dumps(data, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Submission":
        data = json.loads(raw)
        data.pop("received_at_local", None)
        data["received_at"] = dt.datetime.fromisoformat(data["received_at"].replace("Z", "+00:00"))
        data["files"] = tuple(StoredFile(**f) for f in data["files"])
        return cls(**data)


def short_number(prefix: str, year: int, sub_id: str) -> str:
    value = int(sub_id[:8], 16)
    code = "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(6))
    return f"{prefix}-{year}-{code}"


def fingerprint(answers: dict, uploads: Iterable[Upload]) -> str:
    """What makes two sendings of one form the same submission (answers and file contents)."""
    data = json.dumps([answers, sorted((u.field, u.sha256) for u in uploads)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def store(storage: Storage, call: Call, sub_id: str, answers: dict, uploads: list[Upload], *, email: str,
          build: dict, prefix: str, now: dt.datetime) -> Submission:
    """Write the files, then the record (FileExistsError if this submission already exists)."""
    files = []
    for upload in uploads:
        key = file_key(call.slug, sub_id, upload.sha256, upload.name)
        storage.put(key, upload.data, content_type=upload.content_type, sha256=upload.sha256)
        files.append(StoredFile(upload.field, upload.name, key, upload.size, upload.sha256, upload.content_type))
    received = now.astimezone(dt.timezone.utc).replace(microsecond=0)
    submission = Submission(
        id=sub_id, number=short_number(prefix, received.astimezone(ZoneInfo(call.timezone)).year, sub_id),
        slug=call.slug, title=call.title, received_at=received, timezone=call.timezone,
        answers=answers, labels={f.name: f.label for f in call.fields}, files=tuple(files), email=email,
        receipt_token=secrets.token_urlsafe(24), fingerprint=fingerprint(answers, uploads),
        build_commit=build.get("commit"), call_version=call.version or build.get("commit"))
    storage.put(record_key(call.slug, sub_id), submission.to_json(), content_type="application/json",
                if_none_match=True)
    return submission


def load(storage: Storage, slug: str, sub_id: str) -> Submission:
    """FileNotFoundError when there is no such submission."""
    return Submission.from_json(storage.get(record_key(slug, sub_id)))


def existing(storage: Storage, slug: str, sub_id: str) -> Submission | None:
    try:
        return load(storage, slug, sub_id)
    except FileNotFoundError:
        return None


def submission_ids(storage: Storage, slug: str) -> list[str]:
    """The ids of a call's submissions, complete or not (a submission without record is skipped
    by whoever reads it)."""
    prefix = f"{SUBMISSIONS}/{slug}/"
    return [p[len(prefix):].rstrip("/") for p in storage.children(prefix)]


def iter_submissions(storage: Storage, slug: str) -> Iterator[Submission]:
    """Every complete submission of a call, streamed one at a time."""
    for sub_id in submission_ids(storage, slug):
        found = existing(storage, slug, sub_id)
        if found is not None:
            yield found


def forget_unrecorded_files(storage: Storage, kept: Submission | None, slug: str, sub_id: str,
                            uploads: list[Upload]) -> None:
    """Delete the files a refused sending wrote beside an existing submission (never its own)."""
    recorded = {f.key for f in kept.files} if kept else set()
    for key in {file_key(slug, sub_id, u.sha256, u.name) for u in uploads} - recorded:
        storage.delete(key)
