"""The submission record: what the form service stores of an answer, version by version, and what
receipts, exports, deliveries and retention read. One class, one codec, one way in (`store`).

An answer has an id (from the form that first sent it) and one record per version:

    submissions/<slug>/<answer id>/files/<sha>-<name>   its files, content-addressed: written when
                                                        received (kept if the form comes back), and
                                                        shared by the versions that keep them
    submissions/<slug>/<answer id>/versions/0001.json   version 1, then 0002.json for a correction,
                                                        ... each created once (IfNoneMatch)

A version exists once its record exists, and a record is written after its files, so a reader never
sees a version whose files are missing. The last version is the answer; a withdrawal is a version
too (state "withdrawn", no answers). Times are kept in UTC, with the call's time zone for display.

The "empreinte" of a version is the SHA-256 of its canonical serialisation (`canonical`): the
answers and each file's name, size and SHA-256. The export ships that serialisation as
`reponse.json` beside the files, so anyone holding the export can check a receipt.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from callmodel.french import french_datetime
from callmodel.schema import Call

from .storage import SUBMISSIONS, Storage, submission_prefix, version_key

SUBMITTED, WITHDRAWN = "submitted", "withdrawn"
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
    """One version of an answer."""

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
    link_salt: str  # the private links of this answer are derived from it (formservice.tokens)
    fingerprint: str
    version: int = 1
    state: str = SUBMITTED
    changed: tuple[str, ...] = ()  # fields changed from the previous version
    build_commit: str | None = None
    call_version: str | None = None
    call_version_date: str | None = None  # the date of that version of the call text (ISO)
    write: str = ""  # a random mark of the request that wrote this version (see `store`)

    @property
    def withdrawn(self) -> bool:
        return self.state == WITHDRAWN

    @property
    def received_local(self) -> dt.datetime:
        return self.received_at.astimezone(ZoneInfo(self.timezone))

    @property
    def received_text(self) -> str:
        """15 janvier 2027 à 11 h 58 min 07 s (heure de Paris)."""
        return french_datetime(self.received_local, seconds=True)

    def files_of(self, field: str) -> list[StoredFile]:
        return [f for f in self.files if f.field == field]

    def canonical(self) -> bytes:
        """What the empreinte is computed over: sorted keys, no spaces, UTF-8."""
        data = {"appel": self.slug, "reponse": self.number, "version": self.version, "etat": self.state,
                "recue_le": _utc(self.received_at), "reponses": self.answers,
                "fichiers": sorted(({"champ": f.field, "nom": f.name, "taille": f.size, "sha256": f.sha256}
                                    for f in self.files), key=lambda f: (f["champ"], f["nom"], f["sha256"]))}
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    @property
    def digest(self) -> str:
        """The empreinte de la réponse: SHA-256 of `canonical()`."""
        return hashlib.sha256(self.canonical()).hexdigest()

    def to_json(self) -> bytes:
        data = dataclasses.asdict(self)
        data["received_at"] = _utc(self.received_at)
        data["received_at_local"] = self.received_text  # for a person reading the object itself
        data["digest"] = self.digest
        return json.dumps(data, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Submission":
        data = json.loads(raw)
        for computed in ("received_at_local", "digest"):
            data.pop(computed, None)
        data["received_at"] = dt.datetime.fromisoformat(data["received_at"].replace("Z", "+00:00"))
        data["files"] = tuple(StoredFile(**f) for f in data["files"])
        data["changed"] = tuple(data.get("changed") or ())
        return cls(**data)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def short_number(prefix: str, year: int, sub_id: str) -> str:
    value = int(sub_id[:8], 16)
    code = "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(6))
    return f"{prefix}-{year}-{code}"


def fingerprint(answers: dict, files: Iterable[StoredFile]) -> str:
    """What makes two sendings of one form the same version (answers and file contents)."""
    data = json.dumps([answers, sorted((f.field, f.sha256) for f in files)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def changes(previous: Submission, answers: dict, files: Iterable[StoredFile]) -> tuple[str, ...]:
    """The fields whose value or file differs from the previous version, in form order."""
    names = list(dict.fromkeys([*previous.labels, *answers, *(f.field for f in previous.files),
                                *(f.field for f in files)]))
    before = {n: sorted(f.sha256 for f in previous.files_of(n)) for n in names}
    after = {n: sorted(f.sha256 for f in files if f.field == n) for n in names}
    return tuple(n for n in names if previous.answers.get(n) != answers.get(n) or before[n] != after[n])


def store(storage: Storage, call: Call, answer_id: str, answers: dict, files: list[StoredFile], *, email: str,
          build: dict, prefix: str, now: dt.datetime, previous: Submission | None = None,
          state: str = SUBMITTED) -> Submission:
    """Write a version's record (its files are already stored); FileExistsError if that version of
    this answer already exists (a form sent twice, or two corrections at once). When the storage
    kept a record but its reply was lost, the client's retry meets that record: its `write` mark
    tells it is this very call's, which then succeeds."""
    received = now.astimezone(dt.timezone.utc).replace(microsecond=0)
    history = call.history.entries if call.history else ()
    submission = Submission(
        id=answer_id, slug=call.slug, title=call.title, received_at=received, timezone=call.timezone,
        number=previous.number if previous else short_number(
            prefix, received.astimezone(ZoneInfo(call.timezone)).year, answer_id),
        answers=answers, labels={f.name: f.label for f in call.fields}, files=tuple(files), email=email,
        link_salt=previous.link_salt if previous else secrets.token_urlsafe(16),
        fingerprint=fingerprint(answers, files), version=previous.version + 1 if previous else 1, state=state,
        changed=changes(previous, answers, files) if previous else (),
        build_commit=build.get("commit"), call_version=call.version or build.get("commit"),
        call_version_date=history[-1].date.date().isoformat() if history else None, write=secrets.token_hex(8))
    try:
        storage.put(version_key(call.slug, answer_id, submission.version), submission.to_json(),
                    content_type="application/json", if_none_match=True)
    except FileExistsError:
        if load(storage, call.slug, answer_id, submission.version).write != submission.write:
            raise
    return submission


def versions(storage: Storage, slug: str, answer_id: str) -> list[Submission]:
    """Every version of an answer, oldest first (none if it was never sent)."""
    keys = sorted(k for k in storage.keys(submission_prefix(slug, answer_id) + "versions/") if k.endswith(".json"))
    found = []
    for key in keys:
        try:
            found.append(Submission.from_json(storage.get(key)))
        except FileNotFoundError:
            continue
    return found


def latest(storage: Storage, slug: str, answer_id: str) -> Submission | None:
    """The answer as it stands (its last version), or None."""
    found = versions(storage, slug, answer_id)
    return found[-1] if found else None


def load(storage: Storage, slug: str, answer_id: str, version: int) -> Submission:
    """FileNotFoundError when there is no such version."""
    return Submission.from_json(storage.get(version_key(slug, answer_id, version)))


def submission_ids(storage: Storage, slug: str) -> list[str]:
    """The ids of a call's answers, sent or only begun (files received, no record yet)."""
    prefix = f"{SUBMISSIONS}/{slug}/"
    return [p[len(prefix):].rstrip("/") for p in storage.children(prefix)]


def answer_keys(storage: Storage, slug: str) -> dict[str, list[str]]:
    """Every object of a call's answers, by answer id, in one listing."""
    prefix = f"{SUBMISSIONS}/{slug}/"
    grouped: dict[str, list[str]] = collections.defaultdict(list)
    for key in storage.keys(prefix):
        grouped[key[len(prefix):].split("/", 1)[0]].append(key)
    return grouped


def version_keys(keys: Iterable[str]) -> list[str]:
    return sorted(k for k in keys if "/versions/" in k and k.endswith(".json"))


def iter_submissions(storage: Storage, slug: str) -> Iterator[Submission]:
    """The last version of every answer of a call that was sent, streamed one at a time."""
    for keys in answer_keys(storage, slug).values():
        records = version_keys(keys)
        if records:
            yield Submission.from_json(storage.get(records[-1]))
