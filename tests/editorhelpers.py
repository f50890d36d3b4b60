"""What a staff member does in the call editor (/admin/), for the browser tests and the guide's
screenshots: each step named by the editor's own labels."""

from __future__ import annotations

import contextlib
import shutil

from playwright.sync_api import expect

from .conftest import FIXTURE
from .servers import local_platform

# Generous waits: the machine may be busy (a build, Chromium and Decap share two cores).
WAIT = 30_000
BODY = """## Contexte

Les bancs de la place centrale sont brûlants l'été.

## Ce qui est recherché

Des bancs qui restent frais, sans climatisation.
"""


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
        calls = self.page.get_by_role("link", name="Capteurs de qualité de l'air pour les écoles")
        expect(calls).to_be_visible(timeout=WAIT)

    def new_call(self):
        self.page.get_by_role("link", name="Créer une entrée de type appel").click()
        expect(self.page.get_by_label("Titre", exact=True)).to_be_visible(timeout=WAIT)

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
        last = markdown.strip().splitlines()[-1].lstrip("#[ ")
        for attempt in range(3):  # on a loaded machine, select-all may miss part of the placeholder text
            text.click()
            self.page.keyboard.press("Control+a")
            self.page.keyboard.press("Delete")
            self.page.keyboard.insert_text(markdown)
            body = self.preview.locator(".ap-body")
            expect(body).to_contain_text(last, timeout=WAIT)
            if "À compléter" in markdown or "À compléter" not in body.inner_text():
                return
        expect(body).not_to_contain_text("À compléter")

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
            saved.wait_for(timeout=WAIT)
        except Exception:
            found = self.page.locator('[class*="-ControlErrorsList"] li').all_text_contents()
            raise AssertionError(f"not saved; the editor says: {found}") from None

    def problems(self) -> list[str]:
        """The messages shown by the fields, once the editor has said the call is not saved."""
        expect(self.page.locator("#ap-editor-status")).to_contain_text("L'appel n'est pas enregistré", timeout=WAIT)
        return self.page.locator('[class*="-ControlErrorsList"] li').all_text_contents()


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


@contextlib.contextmanager
def serve_fixture_copy(tmp_path_factory, name: str):
    """`make serve` on a copy of the fixture catalogue; stopped with one Ctrl-C, leaving nothing."""
    root = tmp_path_factory.mktemp(name) / "site"
    shutil.copytree(FIXTURE, root)
    with local_platform(str(root / "settings.py"), str(root.parent / "serve.log")) as running:
        yield running
        assert running.stop() == []


@contextlib.contextmanager
def editor_session(browser, platform, *, today: str = "", **context_options):
    """A logged-in editor in a fresh French browser (whose clock says `today`, if given); no request
    may leave the machine meanwhile."""
    context = browser.new_context(**{"locale": "fr-FR", "viewport": {"width": 1280, "height": 900}, **context_options})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    if today:
        page.clock.set_fixed_time(today)
    editor = Editor(page, platform)
    try:
        editor.login()
        yield editor
    finally:
        context.close()
    outside = {url for url in editor.requests if not url.startswith(("http://127.0.0.1:", "data:", "blob:", "about:"))}
    assert outside == set(), "the editor must make no third-party request"
