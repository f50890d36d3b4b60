"""A person in Chromium: from the call page to the receipt, by keyboard, checked by axe-core."""

from __future__ import annotations

import hashlib
import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from formhelpers import PDF
from formservice import storage, submission

AXE = Axe()


def assert_accessible(page: Page):
    violations = AXE.run(page).response["violations"]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def field(page: Page, label: str):
    """The form control whose label starts with `label` (a required mark may follow)."""
    return page.get_by_label(re.compile("^" + re.escape(label)))


def type_into(page: Page, label: str, text: str):
    field(page, label).focus()
    page.keyboard.type(text)


def test_answer_a_call_in_a_browser(page: Page, site_server, forms_server, smtp, s3):
    page.goto(f"{site_server}/appels/capteurs-air/")
    page.get_by_role("link", name="Répondre à l'appel").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{forms_server}/appels/capteurs-air/repondre")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Capteurs de qualité de l'air")
    assert_accessible(page)

    type_into(page, "Raison sociale", "Navigateur SAS")
    type_into(page, "Adresse électronique", "pas-une-adresse")
    page.get_by_role("button", name="Envoyer ma réponse").focus()
    page.keyboard.press("Enter")
    summary = page.locator(".ap-error-summary")
    expect(summary).to_contain_text("Adresse électronique : Saisissez une adresse électronique valide")
    expect(summary).to_be_focused()  # what to fix is where the person (and their screen reader) lands
    assert page.title().startswith("Erreur – ")
    expect(field(page, "Raison sociale")).to_have_value("Navigateur SAS")
    assert_accessible(page)

    summary.get_by_role("link", name=re.compile("^SIRET")).click()
    page.keyboard.type("73282932000074")
    email = field(page, "Adresse électronique")
    email.fill("")
    type_into(page, "Adresse électronique", "navigateur@airpur.example")
    field(page, "Taille de la structure").select_option("Startup")
    type_into(page, "Votre solution", "Un capteur qui tient dans la main.")
    page.keyboard.press("Enter")
    page.keyboard.type("Il se recharge au soleil.")
    field(page, "Dossier de réponse").set_input_files(
        files=[{"name": "dossier.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    field(page, "J'accepte le traitement").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Envoyer ma réponse").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
    number = re.search(r"RVB-\d{4}-[0-9A-Z]{6}", page.locator(".ap-notice").inner_text()).group(0)
    digest = hashlib.sha256(PDF).hexdigest()
    expect(page.locator("table")).to_contain_text(digest)
    expect(page.locator("main")).to_contain_text("Navigateur SAS")
    # A multi-line answer keeps its lines on the receipt.
    answer = page.locator(".ap-answers dd").filter(has_text="Un capteur")
    assert answer.inner_text() == "Un capteur qui tient dans la main.\nIl se recharge au soleil."
    assert_accessible(page)

    [mail] = smtp.to("navigateur@airpur.example")
    assert number in mail["Subject"] and page.url in mail.get_body(("plain",)).get_content()
    sub_id = page.url.split("/")[-2]
    record = submission.latest(storage.S3Storage(s3.bucket), "capteurs-air", sub_id)
    assert record.number == number and record.files[0].sha256 == digest
    stored = s3.client().get_object(Bucket=s3.bucket, Key=record.files[0].key)["Body"].read()
    assert stored == PDF


def test_a_file_over_its_limit_is_caught_before_sending(page: Page, forms_server, s3):
    page.goto(f"{forms_server}/appels/capteurs-air/repondre")
    type_into(page, "Raison sociale", "Trop Lourd SAS")
    sent = []
    page.on("request", lambda request: sent.append(request.method) if request.method == "POST" else None)
    big = PDF + b"0" * (5 * 1024 * 1024)  # the fixture's dossier field takes 5 MB at most
    field(page, "Dossier de réponse").set_input_files(
        files=[{"name": "gros.pdf", "mimeType": "application/pdf", "buffer": big}])
    page.get_by_role("button", name="Envoyer ma réponse").click()
    dossier = field(page, "Dossier de réponse")
    expect(dossier).to_be_focused()
    expect(dossier).to_have_accessible_description(re.compile("Le fichier dépasse 5 Mo : réduisez-le"))
    expect(field(page, "Raison sociale")).to_have_value("Trop Lourd SAS")
    assert sent == []
    assert_accessible(page)

    field(page, "Dossier de réponse").set_input_files(
        files=[{"name": "dossier.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Envoyer ma réponse").click()
    expect(page.locator(".ap-error-summary")).to_be_visible()  # the server's own checks, other fields
    expect(page.get_by_text("Le fichier dépasse 5 Mo")).to_have_count(0)


def test_partner_export_request_pages_are_accessible(page: Page, forms_server, s3, smtp):
    page.goto(f"{forms_server}/appels/capteurs-air/export")  # open: answers are sealed
    expect(page.get_by_role("heading", level=1)).to_have_text("Les réponses sont scellées jusqu'à la clôture")
    assert_accessible(page)
    page.goto(f"{forms_server}/appels/challenge-donnees/export")  # closed
    assert "@transports.example.org" not in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="Recevoir un lien par courriel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    assert "data@transports.example.org" not in page.content()
    assert_accessible(page)
    [mail] = smtp.to("data@transports.example.org")
    link = re.search(r"http://\S+/export/\S+", mail.get_content()).group(0)
    page.goto(link)
    assert_accessible(page)
    page.get_by_role("button", name="Recevoir les réponses par courriel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Envoi demandé")
    assert_accessible(page)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien a déjà servi")
    assert_accessible(page)
