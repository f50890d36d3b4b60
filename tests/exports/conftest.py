"""Fixtures of the export tests (on the session's SeaweedFS and SMTP server, tests/conftest.py): calls
written to a small catalogue (api/calls.json shape) with submissions stored the way the form service
stores them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets

import pytest

from callmodel.record import catalogue_json, recipients_json
from callmodel.schema import Call, FormField, SubmissionSpec
from formservice import staging, submission
from formservice.config import defaults
from formservice.mail import SMTPMailer
from formservice.storage import S3Storage
from formservice.uploads import Upload, safe_name

PARIS = dt.timezone(dt.timedelta(hours=1))
FIELDS = tuple(FormField.from_dict(f) for f in [
    {"name": "raison_sociale", "label": "Raison sociale", "type": "text", "required": True},
    {"name": "email", "label": "Adresse électronique", "type": "email", "required": True},
    {"name": "effectif", "label": "Effectif", "type": "number"},
    {"name": "creation", "label": "Date de création", "type": "date"},
    {"name": "themes", "label": "Thèmes", "type": "multiselect", "choices": ["Air", "Eau", "Énergie"]},
    {"name": "solution", "label": "Votre solution", "type": "textarea"},
    {"name": "dossier", "label": "Dossier de réponse", "type": "file", "accept": ["pdf"], "max_size_mb": 10},
    {"name": "consentement", "label": "J'accepte le règlement", "type": "checkbox"},
])


@pytest.fixture
def storage(s3):
    return S3Storage(s3.bucket)  # its own client, as the form service and the commands build it


@pytest.fixture
def mailer(smtp):
    return SMTPMailer("127.0.0.1", smtp.port, timeout=5)


@pytest.fixture
def config(smtp):
    values = defaults()
    values.update(SMTP_PORT=smtp.port, SECRET_KEY="export-test-secret")
    return values


class World:
    """Calls of a test (slugs made unique, since the bucket is shared), written to a catalogue with
    the calls.json codec, and their submissions, stored through the form service's own `store`."""

    def __init__(self, folder, storage):
        self.path = os.path.join(folder, "calls.json")
        self.recipients = os.path.join(folder, "recipients.json")
        self.storage = storage
        self.tag = secrets.token_hex(3)
        self.records: dict[str, list[submission.Submission]] = {}
        self.calls: list[Call] = []

    def call(self, name: str, *, opens: dt.datetime, closes: dt.datetime, digest=None,
             exports_to=("innovation@rivebelle.example.org", "achats@partenaire.example.com")) -> str:
        slug = f"{name}-{self.tag}"
        self.calls.append(Call(
            slug=slug, title=f"Appel [{slug}]", type="appel-a-solutions", partner="metropole",
            partner_name="Métropole de Rivebelle", summary="Un appel de test.", published=opens.date(),
            opens=opens, closes=closes, timezone="Europe/Paris",
            submission=SubmissionSpec(fields=FIELDS, exports_to=tuple(exports_to), digest=digest or "")))
        build = {"commit": None, "modified": None}
        with open(self.path, "w", encoding="utf-8") as out:
            out.write(catalogue_json(self.calls, site="http://127.0.0.1:8000", forms="http://127.0.0.1:5000",
                                     now=dt.datetime.now(dt.timezone.utc), build=build))
        with open(self.recipients, "w", encoding="utf-8") as out:
            out.write(recipients_json(self.calls, build=build))
        return slug

    @property
    def env(self) -> dict:
        """What points the `calls` commands at this catalogue."""
        return {"FORMSERVICE_CATALOGUE": self.path, "FORMSERVICE_RECIPIENTS": self.recipients}

    def get(self, slug: str) -> Call:
        return next(c for c in self.calls if c.slug == slug)

    def submit(self, slug: str, received: dt.datetime, *, files=(("dossier", "dossier réponse.pdf", None),),
               **answers) -> submission.Submission:
        """Store one submission with the form service's `store`: files first, record last, create-only."""
        n = len(self.records.get(slug, ())) + 1
        values = {"raison_sociale": f"Entreprise {n}", "email": f"contact{n}@candidat.example", "effectif": 12,
                  "creation": "2019-03-04", "themes": ["Air", "Énergie"], "solution": "Des capteurs sobres.",
                  "consentement": True}
        values.update(answers)
        answer_id = secrets.token_hex(16)
        stored = []
        for field, name, data in files:
            data = data if data is not None else b"%PDF-1.4\n" + secrets.token_bytes(2000)
            upload = Upload(field, safe_name(name, "pdf"), data, "pdf", hashlib.sha256(data).hexdigest())
            stored.append(staging.stage(self.storage, slug, answer_id, upload))
        record = submission.store(self.storage, self.get(slug), answer_id, values, stored,
                                  email=values["email"], build={}, prefix="RVB", now=received)
        self.records.setdefault(slug, []).append(record)
        return record

    def correct(self, record: submission.Submission, received: dt.datetime, *, files=None,
                **answers) -> submission.Submission:
        """A new version, as the correction form stores it (files kept unless given)."""
        kept = record.files if files is None else ()
        return submission.store(self.storage, self.get(record.slug), record.id, {**record.answers, **answers},
                                list(kept), email=record.email, build={}, prefix="RVB", now=received,
                                previous=record)

    def withdraw(self, record: submission.Submission, received: dt.datetime) -> submission.Submission:
        return submission.store(self.storage, self.get(record.slug), record.id, {}, [], email=record.email,
                                build={}, prefix="RVB", now=received, previous=record, state=submission.WITHDRAWN)


@pytest.fixture
def world(tmp_path, storage):
    return World(str(tmp_path), storage)


@pytest.fixture
def now():
    """The tests' frozen clock (seconds dropped, so stored times compare exactly)."""
    return dt.datetime.now(PARIS).replace(microsecond=0, second=0)
