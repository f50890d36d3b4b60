"""The call editor in a real Chromium, against `make serve`'s local backend: a staff member writes a
call in the browser, the file passes `calls check`, the page appears on the local site; what the
validator would refuse is refused in the editor first, in French; its own pages pass axe-core."""

from __future__ import annotations

import os
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
from click.testing import CliRunner
from playwright.sync_api import expect

from calls_cli import main

from .conftest import FIXTURE
from .servers import local_platform

AXE = Axe()
BODY = """## Contexte

Les bancs de la place centrale sont brûlants l'été.

## Ce qui est recherché

Des bancs qui restent frais, sans climatisation.
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """`make serve` on a copy of the fixture catalogue; stopped with one Ctrl-C, leaving nothing."""
    root = tmp_path_factory.mktemp("editor") / "site"
    shutil.copytree(FIXTURE, root)
    with local_platform(str(root / "settings.py"), str(root.parent / "serve.log")) as running:
        yield running
        assert running.stop() == []


class Editor:
    """What a staff member does in /admin/, named as the editor's own labels say it."""

    def __init__(self, page, platform):
        self.page, self.platform = page, platform
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))

    @property
    def calls(self):
        return self.platform.where.root + "/calls"

    def open(self, path: str = ""):
        self.page.goto(f"{self.platform.where.site_url}/admin/{path}")

    def login(self):
        self.open()
        self.page.get_by_role("button", name="Se connecter").click()
        expect(self.page.get_by_role("link", name="Capteurs de qualité de l'air pour les écoles")).to_be_visible()

    def new_call(self):
        self.page.get_by_role("link", name="Créer une entrée de type appel").click()
        expect(self.page.get_by_label("Titre", exact=True)).to_be_visible()

    def fill(self, label: str, value: str):
        self.page.get_by_label(label, exact=True).fill(value)

    def choose(self, label: str, *options: str):
        box = self.page.get_by_role("combobox", name=label)
        for option in options:
            box.click()
            self.page.get_by_role("option", name=option, exact=True).click()

    def write_text(self, markdown: str):
        """The text of the call, typed in the editor's Markdown mode (the switch of the last field),
        once the preview shows it."""
        mode = self.page.get_by_role("switch").last
        if mode.get_attribute("aria-checked") != "true":
            mode.click()
        text = self.page.locator("[data-slate-editor=true]").last
        text.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(markdown)
        last = markdown.strip().splitlines()[-1].lstrip("#[ ")
        expect(self.preview.locator(".ap-body")).to_contain_text(last)

    @property
    def preview(self):
        return self.page.frame_locator("#preview-pane")

    def publish(self):
        self.page.get_by_role("button", name="Publier", exact=True).click()
        self.page.get_by_text("Publier maintenant").click()

    def wait_saved(self):
        """The call is saved: the button says so (or the test says which fields the editor refused)."""
        saved = self.page.get_by_role("button", name="Publiée")
        try:
            saved.wait_for(timeout=20_000)
        except Exception:
            found = self.page.locator('[class*="-ControlErrorsList"] li').all_text_contents()
            raise AssertionError(f"not saved; the editor says: {found}") from None

    def problems(self) -> list[str]:
        """The messages shown by the fields, once the editor has said the call is not saved."""
        expect(self.page.locator("#ap-editor-status")).to_contain_text("L'appel n'est pas enregistré")
        return self.page.locator('[class*="-ControlErrorsList"] li').all_text_contents()


@pytest.fixture
def editor(browser, platform):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    editor = Editor(page, platform)
    editor.login()
    yield editor
    context.close()
    outside = {url for url in editor.requests if not url.startswith(("http://127.0.0.1:", "data:", "blob:", "about:"))}
    assert outside == set(), "the editor must make no third-party request"


def fill_a_call(editor: Editor, title: str = "", partner: str = "Métropole de Testville"):
    """Every field of a new call, as a staff member fills it; `title` or `partner` left empty if not given."""
    editor.new_call()
    if title:
        editor.fill("Titre", title)
    editor.choose("Type d'appel", "Appel à solutions")
    if partner:
        editor.choose("Partenaire", partner)
    editor.fill("Résumé", "Des bancs publics qui restent frais en été.")
    editor.choose("Thèmes (facultatif)", "Environnement")
    editor.fill("Date de publication", "2026-11-28")
    editor.fill("Ouverture des réponses (facultatif)", "2026-12-01T09:00")
    editor.fill("Date limite de réponse (facultatif)", "2027-02-01T12:00")
    editor.choose("Publics visés (facultatif)", "PME", "Startups")
    editor.choose("Formulaire de réponse (facultatif)", "Votre avis (citoyen)")
    editor.page.get_by_role("button", name="Ajouter destinataires des réponses").click()
    editor.fill("Adresse électronique", "innovation@metropole.example.org")
    editor.write_text(BODY)


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
        "L'appel n'est pas enregistré : corrigez les champs signalés en rouge.")
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
    page.goto(f"{platform.where.site_url}/admin/")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    violations = AXE.run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
    page.close()


def test_the_preview_is_the_call_page_and_passes_axe(editor):
    editor.page.get_by_role("link", name="Capteurs de qualité de l'air pour les écoles").click()
    preview = editor.preview
    expect(preview.get_by_role("heading", level=1)).to_have_text("Capteurs de qualité de l'air pour les écoles")
    expect(preview.locator(".ap-summary")).to_contain_text("Clôture15 janvier 2027 à 12 h 00 (heure de Paris)")
    expect(preview.get_by_role("heading", name="Questions et réponses")).to_be_visible()
    stylesheets = preview.locator("link[rel=stylesheet]")
    expect(stylesheets.first).to_have_attribute("href", "/theme/css/main.css")
    editor.fill("Titre", "Capteurs d'air pour les écoles")
    expect(preview.get_by_role("heading", level=1)).to_have_text("Capteurs d'air pour les écoles")
    frame = next(f for f in editor.page.frames if f.name == "preview-pane")
    violations = AXE.run(frame).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
