"""The answer's life in Chromium, with the real form service, SeaweedFS and mail server: an error
fixed without choosing the file again (with and without JavaScript), a draft saved then resumed
and sent by keyboard, a correction by keyboard then a withdrawal, and the receipt on a phone and
on paper. axe-core finds no violation on any of these pages."""

from __future__ import annotations

import re

import openpyxl
import pytest
from formhelpers import PDF
from playwright.sync_api import Browser, Page, expect
from test_browser import assert_accessible, field, type_into

from formservice import storage, submission
from formservice.exports import build_export
from formservice.published import PublishedCalls

CALL = "capteurs-air"


def fill_answer(page: Page, email: str, siret: str = "73282932000074"):
    type_into(page, "Raison sociale", "Cycle de Vie SAS")
    type_into(page, "SIRET", siret)
    type_into(page, "Adresse électronique", email)
    field(page, "Taille de la structure").select_option("PME")
    type_into(page, "Votre solution", "Des capteurs autonomes.")
    field(page, "J'accepte le traitement").check()


def press_on(page: Page, name: str):
    button = page.get_by_role("button", name=name)
    button.focus()
    page.keyboard.press("Enter")


def link_in(smtp, address: str, kind: str) -> str:
    [mail] = [m for m in smtp.to(address) if kind in m.get_body(("plain",)).get_content()][:1]
    return re.search(rf"http://\S+/{kind}/\S+", mail.get_body(("plain",)).get_content()).group(0)


@pytest.mark.parametrize("javascript", [True, False])
def test_an_error_fixed_without_choosing_the_file_again(browser: Browser, forms_server, smtp, s3, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{forms_server}/appels/{CALL}/repondre")
    address = f"fichier-garde-{'js' if javascript else 'sans-js'}@airpur.example"
    fill_answer(page, address, siret="123")
    field(page, "Dossier de réponse").set_input_files(
        files=[{"name": "dossier.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    press_on(page, "Envoyer ma réponse")
    expect(page.locator(".ap-error-summary")).to_contain_text("SIRET")
    expect(page.locator(".ap-kept")).to_contain_text("Fichier reçu : dossier.pdf")
    expect(page.get_by_label("Retirer ce fichier")).not_to_be_checked()
    if javascript:  # axe-core is a script: it checks the same page where scripts run
        assert_accessible(page)
    field(page, "SIRET").fill("73282932000074")
    press_on(page, "Envoyer ma réponse")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
    expect(page.locator("table")).to_contain_text("dossier.pdf")
    answer_id = page.url.split("/")[-2]
    [version] = submission.versions(storage.S3Storage(s3.bucket), CALL, answer_id)
    assert [f.name for f in version.files] == ["dossier.pdf"]
    context.close()


def test_save_resume_and_send_by_keyboard(page: Page, browser: Browser, forms_server, smtp, s3):
    page.goto(f"{forms_server}/appels/{CALL}/repondre")
    type_into(page, "Raison sociale", "Brouillon SAS")
    type_into(page, "Adresse électronique", "reprise@airpur.example")
    field(page, "Dossier de réponse").set_input_files(
        files=[{"name": "dossier.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    press_on(page, "Enregistrer et reprendre plus tard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Réponse enregistrée pour plus tard")
    assert_accessible(page)
    resume = link_in(smtp, "reprise@airpur.example", "reprendre")

    later = browser.new_context().new_page()  # another day, another browser: only the link
    later.goto(resume)
    expect(field(later, "Raison sociale")).to_have_value("Brouillon SAS")
    expect(later.locator(".ap-kept strong")).to_have_text("dossier.pdf")
    assert_accessible(later)
    field(later, "SIRET").focus()
    later.keyboard.type("73282932000074")
    field(later, "Taille de la structure").focus()
    later.keyboard.press("ArrowDown")
    field(later, "Votre solution").focus()
    later.keyboard.type("Complète.")
    field(later, "J'accepte le traitement").focus()
    later.keyboard.press("Space")
    press_on(later, "Envoyer ma réponse")
    expect(later.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
    expect(later.locator("table")).to_contain_text("dossier.pdf")
    assert_accessible(later)


def test_correct_by_keyboard_then_withdraw_and_the_export_after_both(page: Page, forms_server, smtp, s3,
                                                                      catalogue_path, recipients_path, tmp_path):
    page.goto(f"{forms_server}/appels/{CALL}/repondre")
    fill_answer(page, "cycle@airpur.example")
    field(page, "Dossier de réponse").set_input_files(
        files=[{"name": "dossier.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    press_on(page, "Envoyer ma réponse")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
    answer_id = page.url.split("/")[-2]

    page.get_by_role("link", name="Modifier ma réponse").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Modifier votre réponse"))
    expect(field(page, "Raison sociale")).to_have_value("Cycle de Vie SAS")
    assert_accessible(page)
    field(page, "Raison sociale").focus()
    page.keyboard.press("End")
    page.keyboard.type(" (corrigée)")
    press_on(page, "Envoyer la nouvelle version")
    expect(page.locator(".ap-summary")).to_contain_text("Raison sociale")  # what changed
    expect(page.get_by_role("list").filter(has_text="Version 2")).to_be_visible()
    assert_accessible(page)
    assert smtp.wait_for(lambda to, m: m["To"] == "cycle@airpur.example" and "version 2" in m["Subject"], 10)

    page.get_by_role("link", name="Retirer ma réponse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer votre réponse")
    assert_accessible(page)
    press_on(page, "Retirer ma réponse")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de retrait")
    assert_accessible(page)

    versions = submission.versions(storage.S3Storage(s3.bucket), CALL, answer_id)
    assert [(v.version, v.state) for v in versions] == [(1, "submitted"), (2, "submitted"), (3, "withdrawn")]
    call = PublishedCalls(catalogue_path, recipients_path).get(CALL)
    export = build_export(storage.S3Storage(s3.bucket), call, str(tmp_path), basename="export")
    book = openpyxl.load_workbook(export.xlsx)
    assert versions[0].number not in [r[0] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert [r[2] for r in book["Versions"].iter_rows(min_row=2, values_only=True)
            if r[0] == versions[0].number] == ["réponse", "modification", "retrait"]


def test_the_receipt_fits_a_phone_and_prints_on_one_page(browser: Browser, forms_server, smtp):
    desk = browser.new_context().new_page()
    desk.goto(f"{forms_server}/appels/{CALL}/repondre")
    fill_answer(desk, "telephone@airpur.example")
    field(desk, "Dossier de réponse").set_input_files(
        files=[{"name": "un-nom-de-fichier-plutot-long-pour-voir.pdf", "mimeType": "application/pdf",
                "buffer": PDF}])
    press_on(desk, "Envoyer ma réponse")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
    receipt = desk.url

    phone = browser.new_context(viewport={"width": 375, "height": 740}).new_page()
    phone.goto(receipt)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(phone)
    expect(phone.get_by_role("button", name="Imprimer ou enregistrer en PDF")).to_be_visible()

    pdf = desk.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
