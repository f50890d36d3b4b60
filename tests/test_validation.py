"""The validator speaks like a compiler: one test per kind of error, asserting the message."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from calls_cli import main
from generator.reader import read_catalogue

VALID = """\
---
title: Capteurs pour le port
type: appel-a-solutions
partner: metropole
summary: Des capteurs pour le port.
themes: [environnement]
published: 2026-11-02
opens: 2026-11-02T09:00
closes: 2027-01-15T12:00
submission:
  form: entreprise
  exports_to: [innovation@metropole.example.org]
---
## Contexte

Le port cherche des capteurs.
"""


def write_call(root, slug, text, folder="calls"):
    path = root / folder / slug / "call.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(root):
    catalogue = read_catalogue(str(root / "content"), str(root / "calls"))
    return [str(p) for p in catalogue.problems]


def call_problems(root, text, slug="port-capteurs"):
    write_call(root, slug, text)
    return [p for p in problems(root) if f"/{slug}/" in p]


@pytest.fixture
def root(catalogue_copy, monkeypatch):
    monkeypatch.chdir(catalogue_copy)
    return catalogue_copy


def test_fixture_catalogue_is_valid(root):
    assert problems(root) == []


def test_valid_call_has_no_problem(root):
    assert call_problems(root, VALID) == []


def test_invalid_date_names_file_line_and_field(root):
    text = VALID.replace("closes: 2027-01-15T12:00", 'closes: "2027-02-30"')
    assert call_problems(root, text) == ['calls/port-capteurs/call.md:9: closes: "2027-02-30" is not a valid date']


def test_datetime_without_time(root):
    text = VALID.replace("closes: 2027-01-15T12:00", "closes: 2027-01-15")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:9: closes: "2027-01-15" needs a time of day, e.g. 2027-01-15T12:00']


def test_local_time_skipped_by_daylight_saving(root):
    text = VALID.replace("closes: 2027-01-15T12:00", "closes: 2027-03-28T02:30")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:9: closes: "2027-03-28T02:30" does not exist in Europe/Paris '
        '(skipped by the daylight-saving change)']


def test_missing_required_field(root):
    text = VALID.replace("title: Capteurs pour le port\n", "")
    assert call_problems(root, text) == ["calls/port-capteurs/call.md:2: title: title is required (text)"]


def test_unknown_key_suggests_the_right_one(root):
    text = VALID.replace("summary:", "sumary:")
    found = call_problems(root, text)
    assert 'calls/port-capteurs/call.md:5: sumary: unknown key "sumary" (did you mean "summary"?)' in found
    assert "calls/port-capteurs/call.md:2: summary: summary is required (text)" in found


def test_unknown_type(root):
    text = VALID.replace("type: appel-a-solutions", "type: appel-a-solution")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:3: type: unknown type "appel-a-solution" (did you mean "appel-a-solutions"?)']


def test_unknown_partner(root):
    text = VALID.replace("partner: metropole", "partner: metropol")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:4: partner: unknown partner "metropol" (did you mean "metropole"?)']


def test_unknown_theme(root):
    text = VALID.replace("themes: [environnement]", "themes: [environnement, mobilites]")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:6: themes: unknown theme "mobilites" (did you mean "mobilite"?)']


def test_unknown_form(root):
    text = VALID.replace("form: entreprise", "form: entreprises")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:11: submission.form: unknown form "entreprises" (did you mean "entreprise"?)']


def test_closes_before_opens(root):
    text = VALID.replace("closes: 2027-01-15T12:00", "closes: 2026-10-15T12:00")
    assert call_problems(root, text) == [
        "calls/port-capteurs/call.md:9: closes: closes (2026-10-15T12:00) is before opens (2026-11-02T09:00)"]


def test_summary_too_long(root):
    text = VALID.replace("summary: Des capteurs pour le port.", "summary: " + "x" * 301)
    assert call_problems(root, text) == [
        "calls/port-capteurs/call.md:5: summary: summary is too long: 301 characters, at most 300"]


def test_missing_document_file(root):
    text = VALID.replace("---\n## Contexte", "documents:\n  - {title: Annexe, file: annexe.pdf}\n---\n## Contexte")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:14: documents.file: document file "annexe.pdf" not found in calls/port-capteurs/']


def test_invalid_export_address(root):
    text = VALID.replace("[innovation@metropole.example.org]", "[innovation@metropole.example.org, innovation.metropole]")
    assert call_problems(root, text) == [
        'calls/port-capteurs/call.md:12: submission.exports_to: "innovation.metropole" is not a valid e-mail address']


def test_inline_form_without_email_field(root):
    text = VALID.replace("  form: entreprise\n", "  fields:\n    - {name: nom, label: Nom, type: text}\n")
    assert call_problems(root, text) == [
        "calls/port-capteurs/call.md:11: submission.fields: a form needs exactly one field of type email "
        "(the applicant's address, where the receipt goes); found 0"]


def test_shared_form_with_two_email_fields(root):
    form = root / "content" / "forms" / "citoyen.yaml"
    form.write_text(form.read_text() + "  - {name: email2, label: Autre adresse, type: email}\n")
    assert problems(root) == [
        "content/forms/citoyen.yaml:2: fields: a form needs exactly one field of type email "
        "(the applicant's address, where the receipt goes); found 2"]


def test_unknown_field_type(root):
    text = VALID.replace("  form: entreprise\n", "  fields:\n    - {name: courriel, label: Courriel, type: mail}\n")
    found = call_problems(root, text)
    assert 'calls/port-capteurs/call.md:12: submission.fields.type: unknown field type "mail" (did you mean "email"?)' in found


def test_duplicate_slugs(root):
    write_call(root, "port-capteurs", VALID, folder="calls/2026")
    write_call(root, "port-capteurs", VALID, folder="calls/2027")
    assert problems(root) == [
        'calls/2027/port-capteurs/call.md:1: slug: duplicate slug "port-capteurs": also used by '
        'calls/2026/port-capteurs/call.md']


def test_bad_slug(root):
    assert call_problems(root, VALID, slug="Port_Capteurs") == [
        'calls/Port_Capteurs/call.md:1: slug: folder name "Port_Capteurs" is not a valid slug '
        '(lowercase letters, digits and hyphens, e.g. capteurs-air-ecoles)']


def test_key_written_twice(root):
    text = VALID.replace("themes: [environnement]", "themes: [environnement]\nthemes: [mobilite]")
    assert call_problems(root, text) == ["calls/port-capteurs/call.md:7: themes: this key is written twice"]


def test_yaml_syntax_error_has_its_line(root):
    text = VALID.replace("themes: [environnement]", "themes: [environnement")
    found = call_problems(root, text)
    assert len(found) == 1 and found[0].startswith("calls/port-capteurs/call.md:") and "invalid YAML" in found[0]


def test_level_one_heading_in_body(root):
    text = VALID.replace("## Contexte", "# Contexte")
    assert call_problems(root, text) == [
        "calls/port-capteurs/call.md:14: body: a level-1 heading (# ...) in the text: the title is the page's "
        "only h1, start sections with ##"]


def test_information_notice_takes_no_answers(root):
    text = VALID.replace("type: appel-a-solutions", "type: avis-information")
    assert call_problems(root, text) == [
        "calls/port-capteurs/call.md:10: submission: an information notice (avis-information) takes no answers: "
        "remove submission"]


def test_every_error_is_reported_at_once(root):
    text = (VALID.replace("partner: metropole", "partner: inconnu")
            .replace("closes: 2027-01-15T12:00", 'closes: "2027-02-30"')
            .replace("[innovation@metropole.example.org]", "[pas-une-adresse]"))
    assert len(call_problems(root, text)) == 3


def test_check_command_exits_1_and_prints_every_error(root):
    write_call(root, "port-capteurs", VALID.replace("partner: metropole", "partner: inconnu"))
    result = CliRunner().invoke(main, ["check", "--settings", str(root / "settings.py")])
    assert result.exit_code == 1
    assert 'calls/port-capteurs/call.md:4: partner: unknown partner "inconnu"' in result.output
    assert "1 error found: nothing was published." in result.output


def test_check_command_accepts_the_fixture(root):
    result = CliRunner().invoke(main, ["check", "--settings", str(root / "settings.py")])
    assert result.exit_code == 0, result.output
    assert "7 calls, 3 partners, 3 themes, 2 forms: all valid." in result.output


def test_build_refuses_an_invalid_catalogue_and_keeps_the_previous_site(root, tmp_path):
    output = tmp_path / "output"
    settings = str(root / "settings.py")
    runner = CliRunner()
    assert runner.invoke(main, ["build", "--settings", settings, "--output", str(output), "--no-search"]).exit_code == 0
    before = sorted(os.listdir(output))
    write_call(root, "port-capteurs", VALID.replace('closes: 2027-01-15T12:00', 'closes: "2027-02-30"'))
    result = runner.invoke(main, ["build", "--settings", settings, "--output", str(output), "--no-search"])
    assert result.exit_code == 1
    assert '"2027-02-30" is not a valid date' in result.output
    assert sorted(os.listdir(output)) == before
    assert not (output / "appels" / "port-capteurs").exists()
    assert [p for p in os.listdir(tmp_path) if p.startswith("output.")] == []
