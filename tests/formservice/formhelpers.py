"""Helpers of the form service tests: a mail inbox, valid answers, a person sending a form."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import re
import zipfile

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from callmodel.record import catalogue_json, read_catalogue
from callmodel.schema import FormField

SECRET = "test-secret-key"
# A minimal valid PDF, enough for the magic bytes check and a person's viewer.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


ALL_FIELDS = [
    {"name": "nom", "label": "Nom", "type": "text", "required": True, "max_length": 20},
    {"name": "message", "label": "Message", "type": "textarea", "max_length": 50},
    {"name": "courriel", "label": "Courriel", "type": "email", "required": True},
    {"name": "telephone", "label": "Téléphone", "type": "tel"},
    {"name": "site", "label": "Site web", "type": "url"},
    {"name": "effectif", "label": "Effectif", "type": "number"},
    {"name": "equipe", "label": "Membres de l'équipe", "type": "number", "min": 1, "max": 6, "step": 1},
    {"name": "creation", "label": "Date de création", "type": "date"},
    {"name": "taille", "label": "Taille", "type": "select", "choices": ["PME", "ETI"]},
    {"name": "secteurs", "label": "Secteurs", "type": "multiselect", "choices": ["Air", "Eau", "Sol"]},
    {"name": "accord", "label": "J'accepte", "type": "checkbox", "required": True},
    {"name": "siret", "label": "SIRET", "type": "siret"},
    {"name": "piece", "label": "Pièce jointe", "type": "file", "max_size_mb": 0.01,
     "accept": ["pdf", "png", "jpg", "odt", "docx", "xlsx"]},
    {"name": "annexe", "label": "Annexe", "type": "file", "accept": ["pdf"]},
]
VALID = {"nom": "Ada", "courriel": "ada@example.org", "accord": "oui"}


def zipped(entries: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


ODT = zipped({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})
DOCX = zipped({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"})
XLSX = zipped({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<w/>"})
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


def form_tokens(html: str) -> dict:
    """The hidden fields of a rendered form (CSRF and form token)."""
    return {name: value for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)}


def company_answers(**changes) -> dict:
    """Valid answers to the `entreprise` form of capteurs-air (a fresh file object each time)."""
    answers = {"raison_sociale": "Air Pur SAS", "siret": "732 829 320 00074", "email": "contact@airpur.example",
               "telephone": "01 23 45 67 89", "site_web": "https://airpur.example", "taille": "PME",
               "solution": "Des capteurs de CO2 sobres.", "consentement": "oui",
               "dossier": (PDF, "dossier réponse.pdf")}
    answers.update(changes)
    return {k: v for k, v in answers.items() if v is not None}


class Answering:
    """A person at a browser-less keyboard: opens a form, sends answers, follows the receipt."""

    def __init__(self, client, slug="capteurs-air", address="192.0.2.1"):
        self.client = client
        self.slug = slug
        self.environ = {"REMOTE_ADDR": address}
        self.hidden = {}

    @property
    def url(self):
        return f"/appels/{self.slug}/repondre"

    def open(self, url: str | None = None):
        """GET a form (by default the answer form) and keep its hidden fields for the next send."""
        response = self.client.get(url or self.url, environ_base=self.environ)
        assert response.status_code == 200, response.text
        self.hidden = form_tokens(response.text)
        return response

    def came_back(self, response) -> None:
        """The form came back: send again with what it now carries (a fresh token, kept files)."""
        self.hidden = form_tokens(response.text)

    def send(self, answers: dict, *, hidden: dict | None = None, url: str | None = None):
        """POST the form (to `url`, by default the answer form) with its hidden fields and `answers`."""
        data = dict(hidden if hidden is not None else self.hidden)
        for key, value in answers.items():
            if isinstance(value, tuple):
                value = (io.BytesIO(value[0]), value[1])
            elif isinstance(value, list):
                value = [(io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for v in value]
            data[key] = value
        builder = EnvironBuilder(path=url or self.url, method="POST", data=data, content_type="multipart/form-data",
                                 environ_base=self.environ)
        environ = builder.get_environ()
        try:
            return self.client.open(Request(environ))
        finally:
            # The test client leaves a large encoded body in an open temporary file.
            environ["wsgi.input"].close()
            builder.close()


def catalogue_with(base_path: str, target: str, calls: list[dict]) -> str:
    """Write, with the calls.json codec, a catalogue made of fixture calls changed by `calls`
    ({"from": slug, **changes}: slug, title, closes as ISO text, fields as dicts)."""
    with open(base_path, encoding="utf-8") as f:
        text = f.read()
    published, _ = read_catalogue(text)
    first = json.loads(text)["calls"][0]
    site, forms = first["url"].split("/appels/")[0], first["submit_url"].split("/appels/")[0]
    out = []
    for change in calls:
        change = dict(change)
        call = published[change.pop("from")]
        if "fields" in change:
            fields = tuple(FormField.from_dict(f) for f in change.pop("fields"))
            call = dataclasses.replace(call, submission=dataclasses.replace(call.submission, fields=fields))
        if "closes" in change:
            change["closes"] = dt.datetime.fromisoformat(change["closes"])
        out.append(dataclasses.replace(call, **change))
    tmp = target + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(catalogue_json(out, site=site, forms=forms, now=dt.datetime.now(dt.timezone.utc),
                               build={"commit": "abc123def4567890", "modified": False}))
    os.replace(tmp, target)
    return target


def iso_in(seconds: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)).isoformat()
