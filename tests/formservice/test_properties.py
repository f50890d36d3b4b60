"""Random and hostile answers for every field type and file kind (Hypothesis), on the real form
service and storage: never a server error, never a stored answer that was refused, every value
sent back escaped, every stored answer exportable."""

from __future__ import annotations

import secrets

import pytest
from formhelpers import ALL_FIELDS, DOCX, JPEG, ODT, PDF, PNG, XLSX, Answering, catalogue_with, iso_in, zipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formservice import storage, submission
from formservice.exports import build_export
from formservice.services import services

MARK = "<x-hostile>"  # must never come back unescaped
HOSTILE = [MARK, f'"{MARK}', "=HYPERLINK(\"http://evil.example\")", "+1+1", "@SUM(A1)", "\u202e" + MARK,
           "a\u200bb", "\x00", "\x1b[31m", "1e999", "-5", "NaN", "9" * 40, "../../etc/passwd", "é" * 300,
           "=?utf-8?q?x=0D=0ABcc=3A_x=40y.zz?=@b.cc", "a@b.cc\r\nBcc: x@y.zz", "   ", ""]
VALID_VALUES = {"nom": "Ada", "message": "Bonjour\nà tous", "courriel": "ada@example.org",
                "telephone": "01 23 45 67 89", "site": "https://exemple.fr", "effectif": "12,5", "equipe": "3",
                "creation": "31/01/2020", "taille": "PME", "siret": "732 829 320 00074"}
FILES = [PDF, PNG, JPEG, ODT, DOCX, XLSX, zipped({"x.txt": "x"}), b"", b"%PDF" + b"\0" * 20_000, b"MZ\x90\x00"]


def text():
    return st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60),
                     st.builds(lambda a, b: a + b, st.text(max_size=20), st.sampled_from(HOSTILE)))


def field_value(field: dict):
    kind = field["type"]
    if kind == "multiselect":
        return st.lists(st.one_of(st.sampled_from(field["choices"]), text()), max_size=4)
    if kind == "checkbox":
        return st.sampled_from(["oui", "non", "", MARK])
    if kind == "file":
        return st.tuples(st.sampled_from(FILES), st.one_of(st.sampled_from(["a.pdf", "../x.png", "\u202ex.pdf"]),
                                                            st.text(min_size=1, max_size=30)))
    return text()


@st.composite
def answers(draw) -> dict:
    """A valid answer with up to three fields replaced by random or hostile values (or left out),
    so that both stored and refused answers are explored."""
    names = [f["name"] for f in ALL_FIELDS]
    changed = draw(st.sets(st.sampled_from(names), max_size=3))
    result = {}
    for field in ALL_FIELDS:
        name = field["name"]
        if name not in changed:
            value = {"multiselect": ["Air"], "checkbox": "oui", "file": (PDF, "dossier.pdf")}.get(
                field["type"], VALID_VALUES.get(name))
        elif draw(st.booleans()):
            value = draw(field_value(field))
        else:
            continue
        result[name] = value
    return result


def sent(store, slug) -> int:
    """Answers stored (a version recorded); files kept for a form that came back do not count."""
    return sum(1 for keys in submission.answer_keys(store, slug).values() if submission.version_keys(keys))


@pytest.fixture
def slug():
    return f"proprietes-{secrets.token_hex(4)}"


@pytest.fixture
def app(make_app, catalogue_path, tmp_path, slug):
    path = catalogue_with(catalogue_path, str(tmp_path / "calls.json"),
                          [{"from": "capteurs-air", "slug": slug, "fields": ALL_FIELDS, "closes": iso_in(3600)}])
    return make_app(CATALOGUE=path, MAX_TOTAL_MB=0.05)


def test_random_and_hostile_answers(app, slug, s3, tmp_path):
    store = storage.S3Storage(s3.bucket)
    outcomes = {}

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(answers=answers())
    def send(answers):
        person = Answering(app.test_client(), slug=slug)  # a new browser each time
        person.open()
        before = sent(store, slug)
        response = person.send(answers)
        outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
        assert response.status_code in (303, 400, 409, 413, 422), response.status_code
        assert MARK not in response.text
        after = sent(store, slug)
        assert after == before + (1 if response.status_code == 303 else 0)

    send()
    assert outcomes.get(303) and outcomes.get(422), outcomes  # both paths were explored
    stored = list(submission.iter_submissions(store, slug))
    call = services(app).catalogue.get(slug)
    export = build_export(store, call, str(tmp_path), basename="export")
    assert export.count == len(stored) == outcomes[303]
