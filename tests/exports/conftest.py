"""Fixtures of the export tests (on the session's SeaweedFS and SMTP server, tests/conftest.py): calls
written to a small catalogue (api/calls.json shape) with submissions stored the way the form service
stores them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets

import pytest

from formservice.mail import SMTPMailer
from formservice.settings import defaults
from formservice.storage import S3Storage, file_key, record_key

PARIS = dt.timezone(dt.timedelta(hours=1))
FIELDS = [
    {"name": "raison_sociale", "label": "Raison sociale", "type": "text", "required": True},
    {"name": "email", "label": "Adresse électronique", "type": "email", "required": True},
    {"name": "effectif", "label": "Effectif", "type": "number"},
    {"name": "creation", "label": "Date de création", "type": "date"},
    {"name": "themes", "label": "Thèmes", "type": "multiselect", "choices": ["Air", "Eau", "Énergie"]},
    {"name": "solution", "label": "Votre solution", "type": "textarea"},
    {"name": "dossier", "label": "Dossier de réponse", "type": "file"},
    {"name": "consentement", "label": "J'accepte le règlement", "type": "checkbox"},
]


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
    """Calls of a test (slugs made unique, since the bucket is shared) and their submissions."""

    def __init__(self, folder, storage):
        self.path = os.path.join(folder, "calls.json")
        self.storage = storage
        self.tag = secrets.token_hex(3)
        self.records: dict[str, list[dict]] = {}
        self.calls: list[dict] = []

    def call(self, name: str, *, opens: dt.datetime, closes: dt.datetime, digest=None,
             exports_to=("innovation@rivebelle.example.org", "achats@partenaire.example.com")) -> str:
        slug = f"{name}-{self.tag}"
        self.calls.append({
            "slug": slug, "title": f"Appel [{slug}]", "type": "appel-a-solutions", "partner": "metropole",
            "partner_name": "Métropole de Rivebelle", "opens": opens.isoformat(), "closes": closes.isoformat(),
            "timezone": "Europe/Paris", "url": f"http://127.0.0.1:8000/appels/{slug}/",
            "submit_url": f"http://127.0.0.1:5000/appels/{slug}/repondre", "external_url": None,
            "fields": FIELDS, "exports_to": list(exports_to), "digest": digest})
        with open(self.path, "w", encoding="utf-8") as out:
            json.dump({"calls": self.calls}, out, ensure_ascii=False)
        return slug

    def submit(self, slug: str, received: dt.datetime, *, files=(("dossier", "dossier réponse.pdf", None),),
               **answers) -> dict:
        """Store one submission like the form service: files first, record.json last, create-only."""
        sub_id = secrets.token_hex(16)
        n = len(self.records.get(slug, ())) + 1
        values = {"raison_sociale": f"Entreprise {n}", "email": f"contact{n}@candidat.example", "effectif": 12,
                  "creation": "2019-03-04", "themes": ["Air", "Énergie"], "solution": "Des capteurs sobres.",
                  "consentement": True}
        values.update(answers)
        stored = []
        for field, name, data in files:
            data = data if data is not None else secrets.token_bytes(2000)
            key = file_key(slug, sub_id, hashlib.sha256(data).hexdigest(), name.replace(" ", "-"))
            self.storage.put(key, data, content_type="application/pdf")
            stored.append({"field": field, "name": name, "key": key, "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest(), "content_type": "application/pdf"})
        utc = received.astimezone(dt.timezone.utc)
        record = {"id": sub_id, "number": f"RVB-{utc.year}-{sub_id[:6].upper()}", "slug": slug,
                  "title": f"Appel [{slug}]", "received_at": utc.isoformat(timespec="seconds").replace("+00:00", "Z"),
                  "received_at_local": "", "build_commit": None, "answers": values,
                  "labels": {f["name"]: f["label"] for f in FIELDS}, "files": stored, "email": values["email"],
                  "receipt_token": secrets.token_urlsafe(8), "fingerprint": ""}
        self.storage.put(record_key(slug, sub_id), json.dumps(record, ensure_ascii=False).encode(),
                         content_type="application/json", if_none_match=True)
        self.records.setdefault(slug, []).append(record)
        return record


@pytest.fixture
def world(tmp_path, storage):
    return World(str(tmp_path), storage)


@pytest.fixture
def now():
    """The tests' frozen clock (seconds dropped, so stored times compare exactly)."""
    return dt.datetime.now(PARIS).replace(microsecond=0, second=0)
