"""Bad input, one test per kind: each comes back with a message next to its field, nothing stored."""

from __future__ import annotations

import html
import re
import secrets

import pytest

from formhelpers import (ALL_FIELDS, DOCX, JPEG, ODT, PDF, PNG, VALID, XLSX, Answering, catalogue_with, zipped,
                         company_answers, iso_in)
from formservice import storage, submission
from formservice.uploads import safe_name, sniff
from formservice.validation import siret_ok

@pytest.fixture
def slug():
    """A call of its own for each test, so its stored records are its own."""
    return f"tous-champs-{secrets.token_hex(4)}"


@pytest.fixture
def all_fields_app(make_app, catalogue_path, tmp_path, slug):
    path = catalogue_with(catalogue_path, str(tmp_path / "calls.json"),
                          [{"from": "capteurs-air", "slug": slug, "fields": ALL_FIELDS, "closes": iso_in(3600)}])
    return make_app(CATALOGUE=path, MAX_TOTAL_MB=0.05)


@pytest.fixture
def person(all_fields_app, slug):
    person = Answering(all_fields_app.test_client(), slug=slug)
    person.open()
    return person


def refused(response, field: str, message: str):
    """The answer came back: summary link, message tied to the field, nothing stored."""
    assert response.status_code == 422, response.status_code
    page = html.unescape(response.text)
    assert 'class="ap-error-summary"' in page and f'href="#champ-{field}"' in page
    assert f'id="champ-{field}-erreur"' in page and message in page
    tag = re.search(rf'<(?:input|select|textarea|fieldset)[^>]*(?:id="champ-{field}"|aria-describedby="[^"]*champ-{field}-erreur)[^>]*>', page)
    assert tag and f"champ-{field}-erreur" in tag.group(0) and 'aria-invalid="true"' in tag.group(0)
    return page


@pytest.mark.parametrize("field, value, message", [
    ("courriel", "ada@", "adresse électronique valide"),
    ("courriel", "ada@example", "adresse électronique valide"),
    ("courriel", "=?utf-8?q?x=0D=0ABcc=3A_x=40y.zz?=@b.cc", "adresse électronique valide"),
    ("courriel", "ada@exemple.fr\r\nBcc: x@y.zz", "caractères invisibles"),
    ("telephone", "12345", "numéro de téléphone français"),
    ("telephone", "+44 20 7946 0958", "numéro de téléphone français"),
    ("siret", "1234567890123", "14 chiffres"),
    ("siret", "73282932000075", "n'existe pas"),
    ("site", "javascript:alert(1)", "adresse web valide"),
    ("site", "http://localhost", "adresse web valide"),
    ("effectif", "douze", "Saisissez un nombre"),
    ("effectif", "NaN", "Saisissez un nombre"),
    ("effectif", "1e999", "Saisissez un nombre"),
    ("effectif", "9" * 31, "Saisissez un nombre"),
    ("equipe", "-5", "Un nombre entier entre 1 et 6 est attendu."),
    ("equipe", "7", "Un nombre entier entre 1 et 6 est attendu."),
    ("equipe", "2,5", "Un nombre entier entre 1 et 6 est attendu."),
    ("creation", "2026-02-30", "date réelle"),
    ("creation", "demain", "date réelle"),
    ("taille", "Multinationale", "réponses proposées"),
    ("nom", "A" * 21, "20 au maximum"),
    ("message", "x" * 51, "50 au maximum"),
    ("nom", "Ada\x00Lovelace", "caractères invisibles"),
    ("message", "ligne\x1b[31m", "caractères invisibles"),
    ("nom", "Ada\nLovelace", "caractères invisibles"),
    ("nom", "", '<a href="#champ-nom">Nom : Renseignez ce champ.</a>'),
    ("nom", "Ada\u202eecalevol", "caractères invisibles qui peuvent en changer la lecture"),
    ("nom", "Ada\u200bLovelace", "caractères invisibles qui peuvent en changer la lecture"),
    ("message", "Bonjour \u2067x\u2069", "caractères invisibles qui peuvent en changer la lecture"),
])
def test_a_bad_field_value_is_refused_next_to_its_field(person, s3, field, value, message):
    answers = {**VALID, field: value, "piece": (PDF, "cv.pdf")}
    page = refused(person.send(answers), field, message)
    if field != "courriel":
        assert 'value="ada@example.org"' in page
    assert "Fichier reçu : <strong>cv.pdf</strong>" in page and 'name="_garder_piece"' in page  # never asked again
    assert list(submission.iter_submissions(storage.S3Storage(s3.bucket), person.slug)) == []


def test_unknown_multiselect_choice_and_unticked_box_are_refused(person):
    page = refused(person.send({**VALID, "secteurs": ["Air", "Feu"], "accord": None}), "secteurs", "réponses proposées")
    assert 'href="#champ-accord"' in page and "Cochez cette case pour continuer." in page
    assert re.search(r'<input type="checkbox" id="champ-secteurs" name="secteurs" value="Air" checked>', page)


def test_all_values_typed_are_kept_after_an_error(person):
    typed = {"nom": "Ada <b>", "message": "Bonjour\nà tous", "courriel": "faux", "telephone": "01 02 03 04 05",
             "site": "exemple.fr", "effectif": "12,5", "creation": "2020-01-31", "taille": "ETI",
             "secteurs": ["Eau"], "accord": "oui", "siret": "732 829 320 00074"}
    page = person.send(typed).text
    assert 'value="Ada &lt;b&gt;"' in page and ">Bonjour\nà tous</textarea>" in page
    for value in ("01 02 03 04 05", "exemple.fr", "12,5", "2020-01-31", "732 829 320 00074"):
        assert f'value="{value}"' in page
    assert "<option selected>ETI</option>" in page and 'value="Eau" checked' in page
    assert 'name="accord" value="oui" checked' in page


def test_valid_values_of_every_type_are_stored_clean(person, s3):
    sent = person.send({**VALID, "telephone": "+33 6 12 34 56 78", "site": "www.exemple.fr", "effectif": "12,5",
                        "creation": "31/01/2020", "secteurs": ["Sol", "Air"], "siret": "356 000 000 00048",
                        "message": "Deux\r\nlignes", "equipe": " 6 ", "piece": (PNG, "photo.png")})
    assert sent.status_code == 303, re.findall(r"ap-error-message.*|ap-notice.*", sent.text)
    [record] = submission.iter_submissions(storage.S3Storage(s3.bucket), person.slug)
    assert record.answers == {"nom": "Ada", "message": "Deux\nlignes", "courriel": "ada@example.org",
                                 "telephone": "06 12 34 56 78", "site": "https://www.exemple.fr", "effectif": 12.5,
                                 "creation": "2020-01-31", "taille": None, "secteurs": ["Air", "Sol"],
                                 "accord": True, "siret": "35600000000048", "equipe": 6}


@pytest.mark.parametrize("data, name, detected", [
    (PDF, "a.pdf", "pdf"), (PNG, "a.png", "png"), (JPEG, "a.jpeg", "jpg"), (ODT, "a.odt", "odt"),
    (DOCX, "a.docx", "docx"), (XLSX, "tableau.xlsx", "xlsx"),
])
def test_accepted_files_are_recognised_by_content(person, s3, data, name, detected):
    assert sniff(data) == detected
    assert person.send({**VALID, "piece": (data, name)}).status_code == 303


@pytest.mark.parametrize("data, name", [
    (b"MZ\x90\x00" + b"\0" * 100, "rapport.pdf"),
    (zipped({"autre.txt": "x"}), "dossier.docx"),
    (b"<html><script>alert(1)</script></html>", "page.pdf"),
    (PNG, "image.pdf"),
])
def test_a_file_whose_content_is_not_an_accepted_format_is_refused(person, data, name):
    if data == PNG:
        person.open()
        refused(person.send({**VALID, "annexe": (data, name)}), "annexe", "pas au format attendu")
    else:
        refused(person.send({**VALID, "piece": (data, name)}), "piece", "pas au format attendu")


def test_a_file_over_its_size_limit_is_refused_next_to_its_field(person):
    big = PDF + b"0" * 11 * 1024
    refused(person.send({**VALID, "piece": (big, "gros.pdf")}), "piece", "Le fichier dépasse 10 ko")


def test_files_over_the_total_limit_come_back_with_the_values_kept(person, s3):
    # 0.05 MB in all for this form; the annexe alone is within its own limit (10 MB).
    response = person.send({**VALID, "nom": "Grace", "annexe": (PDF + b"0" * 60 * 1024, "lourde.pdf")})
    assert response.status_code == 413
    page = html.unescape(response.text)
    assert "Fichiers trop volumineux" in page and "l'ensemble des fichiers joints dépasse 51 ko" in page
    assert 'value="Grace"' in page and 'value="ada@example.org"' in page
    assert "choisissez-les à nouveau" in page and 'name="_form"' in page
    assert list(submission.iter_submissions(storage.S3Storage(s3.bucket), person.slug)) == []


def test_a_request_far_over_the_total_limit_gets_a_clear_page_not_a_raw_413(person):
    # Beyond four times the total, the body is not even read: a page, without the values.
    response = person.send({**VALID, "annexe": (PDF + b"0" * (2 * 1024 * 1024), "enorme.pdf")})
    assert response.status_code == 413
    page = html.unescape(response.text)
    assert "Envoi trop volumineux" in page and "n'a pas été enregistrée" in page
    assert "l'envoi pèse 2 Mo" in page and "51 ko pour l'ensemble des fichiers joints" in page
    assert f'href="/appels/{person.slug}/repondre"' in page and "ap-header" in page


def test_more_files_than_fields_are_refused(person):
    response = person.send({**VALID, "piece": [(PDF, "un.pdf"), (PDF, "deux.pdf")], "autre": (PDF, "trois.pdf")})
    assert response.status_code == 422 and "Trop de fichiers" in html.unescape(response.text)


def test_stored_file_names_are_safe(person, s3):
    sent = person.send({**VALID, "piece": (PDF, "..\\..\\etc/pa\u0301ss\x07wd <1>.exe")})
    assert sent.status_code == 303
    [record] = submission.iter_submissions(storage.S3Storage(s3.bucket), person.slug)
    [file] = record.files
    assert file.name.endswith(".pdf")
    assert "/" not in file.name and "\\" not in file.name and "\x07" not in file.name
    assert file.name == safe_name("..\\..\\etc/pa\u0301ss\x07wd <1>.exe", "pdf")
    assert "\u0301" not in file.name and "á" in file.name
    assert file.key.startswith(f"submissions/{person.slug}/{record.id}/files/")
    assert safe_name("", "pdf") == "document.pdf" and safe_name("x" * 300 + ".pdf", "pdf") == "x" * 96 + ".pdf"


def test_siret_check_digits():
    assert siret_ok("73282932000074") and siret_ok("35600000000048")
    assert not siret_ok("73282932000075") and not siret_ok("7328293200007")


def test_a_text_answer_far_too_long_comes_back_with_its_reason_and_the_values(person, s3):
    sent = person.send({**VALID, "nom": "Ada Lovelace", "message": "é" * 300_000})  # 600 kB of text
    page = refused(sent, "message", "300000 caractères : 50 au maximum.")
    assert 'value="Ada Lovelace"' in page and "Fichiers trop volumineux" not in page
    assert list(submission.iter_submissions(storage.S3Storage(s3.bucket), person.slug)) == []


def test_a_text_beyond_what_can_be_read_gets_the_true_reason(answering, s3):
    person = answering()
    sent = person.send(company_answers(email="texte@airpur.example", solution="x" * (3 * 1024 * 1024)))
    assert sent.status_code == 413
    assert "Un texte saisi est trop long" in sent.text and "fichiers" not in sent.text.split("<h1>")[1][:80]
    assert not [r for r in submission.iter_submissions(storage.S3Storage(s3.bucket), "capteurs-air")
                if r.email == "texte@airpur.example"]


def test_more_form_parts_than_any_form_has_come_back_with_the_values(person, s3):
    extra = {f"x{n}": "1" for n in range(1200)}
    sent = person.send({**VALID, "nom": "Ada Parts", **extra})
    assert sent.status_code == 422
    assert "Trop de champs envoyés" in sent.text and 'value="Ada Parts"' in sent.text
    assert list(submission.iter_submissions(storage.S3Storage(s3.bucket), person.slug)) == []


def test_invisible_characters_are_removed_and_shown_before_anything_is_stored(person, s3):
    sent = person.send({**VALID, "nom": "Ada\u202eLove\u200blace", "message": "Un\u200d\U0001F469\u202c texte"})
    page = refused(sent, "nom", "nous les avons retirés")
    assert 'value="AdaLovelace"' in page and "Un\u200d\U0001F469 texte</textarea>" in page
    assert 'id="champ-message-erreur"' in page  # the bidi mark in the text; its zero-width joiner stays
    assert list(submission.iter_submissions(storage.S3Storage(s3.bucket), person.slug)) == []
    assert person.send({**VALID, "nom": "AdaLovelace", "message": "Un\u200d\U0001F469 texte"}).status_code == 303
