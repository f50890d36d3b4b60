"""The call editor in a real Chromium, against `make serve`'s local backend: a staff member writes a
call in the browser, the file passes `calls check`, the page appears on the local site; what the
validator would refuse is refused in the editor first, in French; its own pages pass axe-core."""

from __future__ import annotations

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from click.testing import CliRunner
from playwright.sync_api import expect

from calls_cli import main

from .editorhelpers import WAIT, editor_session, fill_a_call, serve_fixture_copy

AXE = Axe()


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with serve_fixture_copy(tmp_path_factory, "editor") as running:
        yield running


@pytest.fixture
def editor(browser, platform):
    with editor_session(browser, platform) as session:
        yield session


def test_a_call_written_in_the_editor_passes_the_check_and_is_built(editor, platform):
    before = set(os.listdir(editor.calls))
    fill_a_call(editor, "Bancs rafraîchissants pour l'été")
    editor.publish()
    editor.wait_saved()
    [slug] = set(os.listdir(editor.calls)) - before
    assert slug == "bancs-rafraichissants-pour-lete"
    check = CliRunner().invoke(main, ["check", "--settings", os.path.join(platform.where.root, "settings.py")])
    assert check.exit_code == 0, check.output
    assert "Aucune erreur : 8 appels" in check.output
    page = platform.wait_for_page(f"appels/{slug}/", "Bancs rafraîchissants pour l")
    assert "Des bancs qui restent frais, sans climatisation." in page
    assert "1er février 2027 à 12 h 00 (heure de Paris)" in page


def test_a_required_field_left_empty_is_refused(editor):
    before = set(os.listdir(editor.calls))
    fill_a_call(editor, title="", partner="")
    editor.publish()
    expect(editor.page.get_by_role("alert")).to_contain_text(
        "L'appel n'est pas enregistré : corrigez les champs signalés en rouge.", timeout=WAIT)
    assert editor.problems() == ["Titre : ce champ est obligatoire.", "Partenaire : ce champ est obligatoire."]
    assert set(os.listdir(editor.calls)) == before


def test_dates_are_checked_in_french_as_calls_check_does(editor):
    before = set(os.listdir(editor.calls))
    fill_a_call(editor, "Un appel aux dates impossibles")
    editor.fill("Date limite de réponse (facultatif)", "2026-11-30T12:00")
    editor.fill("Date limite des questions (facultatif)", "2027-03-28T02:30")
    editor.publish()
    assert editor.problems() == [
        "la date limite (2026-11-30T12:00) doit suivre l'ouverture des réponses (2026-12-01T09:00)",
        "« 2027-03-28T02:30 » n'existe pas dans le fuseau Europe/Paris : cette heure est sautée au passage à "
        "l'heure d'été ; choisissez-en une autre"]
    assert set(os.listdir(editor.calls)) == before


def test_a_text_left_to_write_is_refused(editor):
    fill_a_call(editor, "Un appel au texte à écrire")
    editor.write_text("## Contexte\n\n[À compléter : présentez l'organisation.]\n")
    editor.publish()
    assert editor.problems() == [
        "Texte de l'appel : remplacez chaque « [À compléter : …] » par votre texte ; les parties commencent par "
        "un titre de niveau 2 (##), jamais de niveau 1."]


def test_a_document_is_uploaded_into_the_call_folder(editor, platform, tmp_path):
    editor.page.get_by_role("link", name="Capteurs de qualité de l'air pour les écoles").click()
    editor.page.get_by_role("button", name="Ajouter documents").click()
    editor.page.get_by_role("textbox", name="Titre du document").last.fill("Annexe technique")
    editor.page.get_by_role("button", name="Choisir un fichier").last.click()
    pdf = tmp_path / "annexe-technique.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    editor.page.locator("input[type=file]").set_input_files(str(pdf))
    editor.page.get_by_role("button", name="Choisir les éléments sélectionnés").click()
    editor.publish()
    editor.wait_saved()
    folder = os.path.join(editor.calls, "capteurs-air")
    with open(os.path.join(folder, "annexe-technique.pdf"), "rb") as handle:
        assert handle.read() == pdf.read_bytes()
    with open(os.path.join(folder, "call.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert "title: Annexe technique\n    file: annexe-technique.pdf" in text
    platform.wait_for_page("appels/capteurs-air/", "Annexe technique")


def test_the_login_page_passes_axe(browser, platform):
    page = browser.new_page(locale="fr-FR")
    page.set_default_timeout(WAIT)
    page.goto(f"{platform.where.site_url}/admin/")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible(timeout=WAIT)
    violations = AXE.run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
    page.close()


def test_the_preview_is_the_call_page_and_passes_axe(editor):
    editor.page.get_by_role("link", name="Capteurs de qualité de l'air pour les écoles").click()
    preview = editor.preview
    title = preview.get_by_role("heading", level=1)
    expect(title).to_have_text("Capteurs de qualité de l'air pour les écoles", timeout=WAIT)
    expect(preview.locator(".ap-summary")).to_contain_text("Clôture15 janvier 2027 à 12 h 00 (heure de Paris)",
                                                           timeout=WAIT)
    expect(preview.get_by_role("heading", name="Questions et réponses")).to_be_visible(timeout=WAIT)
    stylesheets = preview.locator("link[rel=stylesheet]")
    expect(stylesheets.first).to_have_attribute("href", "/theme/css/main.css", timeout=WAIT)
    editor.fill("Titre", "Capteurs d'air pour les écoles")
    expect(title).to_have_text("Capteurs d'air pour les écoles", timeout=WAIT)
    frame = next(f for f in editor.page.frames if f.name == "preview-pane")
    violations = AXE.run(frame).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
