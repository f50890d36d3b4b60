"""The staff guide (docs/publier-un-appel.md) stays true: its steps are walked in a real Chromium,
against `make serve`, by the labels the guide names; every field of the editor is explained there;
its screenshots are taken here. `make screenshots` writes them again into docs/images/; otherwise
this test checks that the committed ones are those of the steps it walks (same pictures, same sizes)."""

from __future__ import annotations

import os
import re
import struct

import pytest
import yaml
from playwright.sync_api import expect

from formservice import create_app
from generator import editor as editor_config

from .conftest import ROOT
from .editorhelpers import WAIT, editor_session, serve_fixture_copy

GUIDE = os.path.join(ROOT, "docs", "publier-un-appel.md")
IMAGES = os.path.join(ROOT, "docs", "images")
UPDATE = os.environ.get("UPDATE_GUIDE_SCREENSHOTS") == "1"
# A fixed day for the pictures: statuses and "today" do not change from one run to the next.
TODAY = "2026-11-28T10:00:00+01:00"


def guide() -> str:
    """The guide's text, its lines joined (a label may wrap)."""
    with open(GUIDE, encoding="utf-8") as handle:
        return re.sub(r"\s+", " ", handle.read())


def named(label: str) -> str:
    """How the guide names something on screen: between French quotes."""
    text = guide()
    assert f"« {label} »" in text, f"the guide should name « {label} »"
    return label


def png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as handle:
        header = handle.read(24)
    return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with serve_fixture_copy(tmp_path_factory, "guide") as running:
        yield running


@pytest.fixture
def screenshot(tmp_path):
    """Takes a picture the guide shows: into docs/images/ with `make screenshots`, else beside the
    test, and then it must have the size of the committed one."""
    referenced = set(re.findall(r"\]\(images/([\w-]+\.png)\)", guide()))
    taken = []

    def take(target, name: str):
        assert name in referenced, f"the guide does not show {name}"
        path = os.path.join(IMAGES if UPDATE else str(tmp_path), name)
        target.screenshot(path=path, animations="disabled")
        taken.append(name)
        if not UPDATE:
            committed = os.path.join(IMAGES, name)
            assert os.path.exists(committed), f"{name} is missing: run `make screenshots`"
            assert png_size(path) == png_size(committed), f"{name} has changed: run `make screenshots`"
        assert os.path.getsize(path) < 200_000, f"{name} is too heavy for the documentation"

    yield take
    assert sorted(taken) == sorted(referenced), "every picture of the guide is taken by this test"


def test_the_guide_walks_through_publishing_a_call(browser, platform, screenshot):
    login = browser.new_page(locale="fr-FR", viewport={"width": 1100, "height": 700})
    login.goto(f"{platform.where.site_url}/admin/")
    expect(login.get_by_role("button", name=named("Se connecter"))).to_be_visible(timeout=WAIT)
    login.close()

    with editor_session(browser, platform, today=TODAY, viewport={"width": 1100, "height": 700}) as editor:
        page = editor.page
        new = page.get_by_role("link", name="Créer une entrée de type appel")
        expect(new).to_have_text(named("Créer un appel"), timeout=WAIT)
        screenshot(page, "editeur-appels.png")

        new.click()
        editor.fill(named("Titre"), "Capteurs de bruit pour les cours d'école")
        editor.choose(named("Type d'appel"), "Appel à solutions")
        editor.choose(named("Partenaire"), "Métropole de Testville")
        editor.fill(named("Résumé"), "Des capteurs sobres pour mesurer le bruit dans les cours d'école.")
        editor.choose("Thèmes (facultatif)", "Environnement")
        editor.fill("Ouverture des réponses (facultatif)", "2026-12-01T09:00")
        editor.fill("Date limite de réponse (facultatif)", "2027-02-01T12:00")
        page.get_by_role("button", name=named("Aperçu")).wait_for()
        page.locator("input").first.focus()
        screenshot(page, "editeur-nouvel-appel.png")

        text = page.get_by_text(named("Texte de l'appel"), exact=True)
        text.scroll_into_view_if_needed()
        body = page.locator("[data-slate-editor=true]").last
        expect(body).to_contain_text("[À compléter : présentez l'organisation", timeout=WAIT)
        assert "« [À compléter : …] »" in guide()
        page.get_by_role("button", name=named("Titres")).click()
        expect(page.get_by_text(named("Titre 2"), exact=True)).to_be_visible(timeout=WAIT)
        page.keyboard.press("Escape")
        screenshot(page, "editeur-texte.png")

        page.get_by_role("button", name=named("Ajouter documents")).click()
        page.get_by_role("textbox", name=named("Titre du document")).fill("Cahier des charges")
        page.get_by_role("button", name=named("Choisir un fichier")).click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("button", name=named("Téléverser une nouvelle ressource"))).to_be_visible(
            timeout=WAIT)
        expect(dialog.get_by_role("button", name=named("Choisir les éléments sélectionnés"))).to_be_visible(
            timeout=WAIT)
        screenshot(page, "editeur-documents.png")
        dialog.get_by_role("button", name="Close").click()

        editor.fill("Date limite de réponse (facultatif)", "2026-11-30T12:00")
        editor.publish()
        assert "la date limite (2026-11-30T12:00) doit suivre l'ouverture des réponses (2026-12-01T09:00)" in \
            editor.problems()
        screenshot(page, "editeur-erreurs.png")


def test_every_field_of_the_editor_is_explained_in_the_guide(platform):
    with open(os.path.join(platform.where.output, "admin", "config.yml"), encoding="utf-8") as handle:
        config = yaml.safe_load(handle)

    def labels(fields):
        for field in fields:
            yield field["label"]
            yield from labels(field.get("fields", []))

    for label in labels(config["collections"][0]["fields"]):
        named(label)


def test_the_words_of_the_published_editor_are_those_of_the_guide(browser, platform):
    """On the forge the editor saves drafts and publishes (editorial workflow): those screens need an
    account, so the guide's words for them are checked against the French of the editor we ship."""
    page = browser.new_page()
    page.goto(f"{platform.where.site_url}/admin/")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible(timeout=WAIT)
    words = set(page.evaluate("""() => {
        const found = [];
        const walk = (value) => typeof value === "string" ? found.push(value) : Object.values(value).forEach(walk);
        walk(window.CMS.getLocale("fr"));
        return found;
    }"""))
    page.close()
    for label in ("Se connecter avec GitHub", "Enregistrer", "Brouillon", "En cours de révision", "Prêt",
                  "Publier", "Publier maintenant", "Voir l'aperçu", "Flux", "Titre 1", "Titre 3",
                  "Choisir un fichier différent"):
        assert named(label) in words, label
    assert editor_config.PREVIEW_CONTEXT == "Aperçu"  # the status whose link « Voir l'aperçu » opens


def test_the_guide_links_the_partner_export_page():
    example = re.search(r"https://[\w.]+/(appels/[\w-]+/export)", guide())
    assert example and named("Envoyer l'export à ces adresses")
    app = create_app({"SECRET_KEY": "x" * 20, "TESTING": True})
    assert any(rule.rule == "/appels/<slug>/export" for rule in app.url_map.iter_rules())
    assert re.fullmatch(r"appels/[\w-]+/export", example.group(1))
