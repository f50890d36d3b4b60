"""The call editor's configuration is generated from the call model: every key, every choice, every
rule comes from callmodel/schema.py and the registries, so the two cannot drift apart."""

from __future__ import annotations

import dataclasses
import os
import re

import pytest
import yaml
from click.testing import CliRunner

from callmodel import dates, schema
from calls_cli import main
from generator import editor
from generator.reader import CLOSES_BEFORE_OPENS, QUESTIONS_AFTER_CLOSES, read_registries

from .conftest import FIXTURE

BACKEND = {"name": "github", "repo": "rivebelle/appels", "branch": "main"}


@pytest.fixture(scope="module")
def registries():
    found, problems = read_registries(os.path.join(FIXTURE, "content"))
    assert problems == []
    return found


@pytest.fixture(scope="module")
def fields(registries):
    config = editor.editor_config(registries, calls_folder="calls", backend=BACKEND)
    [collection] = config["collections"]
    return {f["name"]: f for f in collection["fields"]}


def values(field) -> list:
    return [o["value"] for o in field["options"]]


def check_keys(table: dict, editor_fields: list):
    """Each key of a table is a field, in order, with its label, help, and whether it is required."""
    assert [f["name"] for f in editor_fields] == list(table)
    for key, field in zip(table.values(), editor_fields):
        assert (field["label"], field.get("hint", ""), field["required"]) == (key.label, key.hint, key.required)
        if key.items:
            check_keys(key.items, field["fields"])


def test_every_key_of_a_call_is_a_field_of_the_editor(fields):
    check_keys({**schema.CALL_KEYS, "body": schema.BODY}, list(fields.values()))


def test_every_choice_comes_from_the_model_and_the_registries(fields, registries):
    submission = {f["name"]: f for f in fields["submission"]["fields"]}
    form_field = {f["name"]: f for f in submission["fields"]["fields"]}
    assert values(fields["type"]) == list(schema.CALL_TYPES)
    assert [o["label"] for o in fields["type"]["options"]] == [t.label for t in schema.CALL_TYPES.values()]
    assert values(fields["partner"]) == list(registries.partners)
    assert values(fields["themes"]) == list(registries.themes)
    assert values(fields["audiences"]) == list(schema.AUDIENCES)
    assert values(submission["form"]) == list(registries.forms)
    assert values(submission["digest"]) == list(schema.DIGESTS)
    assert values(form_field["type"]) == list(schema.FIELD_TYPES)
    assert values(form_field["accept"]) == list(schema.FILE_FORMATS)
    assert values(fields["timezone"])[0] == dates.DEFAULT_TIMEZONE == fields["timezone"]["default"]


def test_every_kind_of_value_has_a_widget(registries):
    """A kind added to schema.KINDS without a widget in generator/editor.py fails here."""
    for kind in schema.KINDS:
        items = schema.DOCUMENT_KEYS if kind in ("submission", "entries", "fields") else None
        key = schema.Key("essai", False, kind, "Essai", items=items)
        assert editor.field(key, registries)["widget"]


def test_a_key_added_to_the_model_reaches_the_editor_without_a_second_definition(monkeypatch, registries):
    added = schema.Key("contact", False, "text", "Contact presse", "Qui répond aux journalistes.")
    monkeypatch.setattr(schema, "CALL_KEYS", {**schema.CALL_KEYS, "contact": added})
    config = editor.editor_config(registries, calls_folder="calls", backend=BACKEND)
    [contact] = [f for f in config["collections"][0]["fields"] if f["name"] == "contact"]
    assert contact == {"name": "contact", "label": "Contact presse", "required": False, "widget": "string",
                       "hint": "Qui répond aux journalistes."}


def test_dates_keep_their_local_time_and_the_validator_words(fields):
    assert fields["published"]["format"] == "YYYY-MM-DD" and fields["published"]["default"] == "{{now}}"
    for name in ("opens", "closes", "questions_until"):
        field = fields[name]
        # No offset: a time is local to the call's time zone, as in the file format.
        assert (field["widget"], field["format"], field["picker_utc"]) == ("call-datetime", "YYYY-MM-DDTHH:mm", False)
        assert field["messages"] == {"format": dates.NOT_A_DATETIME, "date": dates.NO_SUCH_DATE,
                                     "skipped": dates.SKIPPED_TIME}
    assert fields["closes"]["order"] == {"after": ["opens", "published"], "message": CLOSES_BEFORE_OPENS}
    assert fields["questions_until"]["order"] == {"not_after": ["closes"], "message": QUESTIONS_AFTER_CLOSES}


def test_lengths_and_formats_follow_the_model(fields):
    def accepts(field, text):
        return re.fullmatch(field["pattern"][0], text) is not None

    assert accepts(fields["title"], "x" * schema.TITLE_MAX)
    assert not accepts(fields["title"], "x" * (schema.TITLE_MAX + 1))
    assert not accepts(fields["summary"], "x" * (schema.SUMMARY_MAX + 1))
    submission = {f["name"]: f for f in fields["submission"]["fields"]}
    address = submission["exports_to"]["field"]
    assert accepts(address, "innovation@metropole.example.org") and not accepts(address, "innovation.metropole")
    assert not accepts(submission["external_url"], "http://marches.example.org")


@pytest.mark.parametrize("text, ok", [
    ("## Contexte\n\nLe port cherche des capteurs.\n", True),
    (schema.body_skeleton(), False),
    ("## Contexte\n\n[à compléter : le contexte]\n", False),
    ("# Contexte\n\nLe port cherche des capteurs.\n", False),
    ("## Contexte\n\n## Calendrier\n", False),
])
def test_the_text_is_refused_where_calls_check_refuses_it(fields, text, ok):
    """Decap applies the pattern with JavaScript's RegExp; this one means the same in Python's re."""
    assert (re.match(fields["body"]["pattern"][0], text) is not None) == ok


def test_a_new_call_starts_from_the_skeleton(fields):
    assert fields["body"]["default"] == schema.body_skeleton()
    assert all(f"## {section}" in fields["body"]["default"] for section in schema.BODY_SECTIONS)


def test_the_built_site_ships_the_editor_generated_from_the_model(site_dir, registries):
    with open(os.path.join(site_dir, "admin", "config.yml"), encoding="utf-8") as handle:
        shipped = yaml.safe_load(handle)
    assert shipped["collections"] == editor.editor_config(
        registries, calls_folder="calls", backend=BACKEND)["collections"]
    assert shipped["publish_mode"] == "editorial_workflow" and "local_backend" not in shipped
    assert (shipped["collections"][0]["folder"], shipped["collections"][0]["path"]) == ("calls", "{{slug}}/call")
    assert shipped["collections"][0]["media_folder"] == ""  # documents go into the call's own folder
    assert os.path.getsize(os.path.join(site_dir, "admin", "decap-cms.js")) > 1_000_000
    with open(os.path.join(site_dir, "admin", "index.html"), encoding="utf-8") as handle:
        page = handle.read()
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        "/admin/config.yml", "/theme/favicon.svg", "/theme/css/editor.css", "/theme/js/editor.js",
        "/admin/decap-cms.js"]


def test_the_editor_page_is_not_in_the_sitemap(site_dir):
    with open(os.path.join(site_dir, "sitemap.xml"), encoding="utf-8") as handle:
        assert "/admin/" not in handle.read()


def test_a_build_without_the_editor_installed_says_how_to_install_it(catalogue_copy, tmp_path):
    settings = catalogue_copy / "settings.py"
    settings.write_text(settings.read_text() + f"CALLS_EDITOR_ASSETS = {str(tmp_path / 'vide')!r}\n")
    result = CliRunner().invoke(main, ["build", "--settings", str(settings), "--output", str(tmp_path / "out"),
                                       "--no-search"])
    assert result.exit_code == 1
    assert "l'éditeur des appels (Decap CMS) n'est pas installé" in result.output
    assert "lancez `npm ci` (make le fait)" in result.output


def test_keys_name_their_kind():
    for table in (schema.CALL_KEYS, schema.SUBMISSION_KEYS, schema.DOCUMENT_KEYS, schema.QUESTION_KEYS,
                  schema.AMENDMENT_KEYS, schema.FORM_KEYS, schema.FIELD_KEYS, schema.PARTNER_KEYS):
        for key in table.values():
            assert key.kind in schema.KINDS and key.label, dataclasses.asdict(key)
