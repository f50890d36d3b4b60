"""Talking with the public in Chromium, with the real form service, SeaweedFS and mail server: a
question asked from the call page, acknowledged, mailed to the organiser, and its answer mailed
after the catalogue that publishes it; an alert subscription confirmed from its mail, one digest
after a new call, a one-click unsubscription, and nothing more. axe-core finds no violation."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from click.testing import CliRunner
from formhelpers import SECRET, catalogue_with
from playwright.sync_api import Page, expect
from test_alerts import digests, with_new_calls
from test_browser import assert_accessible, field, type_into

from callmodel.schema import Question
from calls_cli import main

CALL = "capteurs-air"


def send_alerts(catalogue, recipients_path, smtp, ports):
    """`calls send-alerts` as cron runs it, on the catalogue a build just published."""
    result = CliRunner().invoke(main, ["send-alerts"], env={
        "FORMSERVICE_CATALOGUE": catalogue, "FORMSERVICE_RECIPIENTS": recipients_path,
        "FORMSERVICE_SMTP_PORT": str(smtp.port), "FORMSERVICE_SECRET_KEY": SECRET,
        "FORMSERVICE_SITE_URL": f"http://127.0.0.1:{ports['site']}", "FORMSERVICE_URL": f"http://127.0.0.1:{ports['forms']}"})
    assert result.exit_code == 0, result.output


def press(page: Page, name: str):
    page.get_by_role("button", name=name).focus()
    page.keyboard.press("Enter")


def test_ask_a_question_and_receive_the_answer(page: Page, site_server, forms_server, smtp, tmp_path,
                                               catalogue_path, recipients_path, ports):
    page.goto(f"{site_server}/appels/{CALL}/")
    page.get_by_role("link", name="Poser une question").click()
    expect(page).to_have_url(f"{forms_server}/appels/{CALL}/question")
    expect(page.get_by_role("heading", level=1)).to_have_text("Poser une question sur l'appel")
    assert_accessible(page)

    type_into(page, "Votre nom", "Grace Hopper")
    press(page, "Envoyer ma question")
    summary = page.locator(".ap-error-summary")
    expect(summary).to_contain_text("3 erreurs")
    expect(summary).to_be_focused()
    expect(field(page, "Votre nom")).to_have_value("Grace Hopper")
    assert_accessible(page)

    address = f"grace-{secrets.token_hex(3)}@airpur.example"
    type_into(page, "Votre question", "Les écoles maternelles sont-elles concernées ?")
    type_into(page, "Votre adresse électronique", address)
    field(page, "J'accepte que ma question").check()
    press(page, "Envoyer ma question")
    expect(page.get_by_role("heading", level=1)).to_have_text("Question transmise")
    qid = re.search(r"Q-[0-9A-Z]{6}", page.locator(".ap-notice").inner_text()).group(0)
    assert_accessible(page)

    [acknowledgement] = smtp.to(address)
    assert qid in acknowledgement["Subject"]
    [(_, to_organiser)] = smtp.wait_for(lambda to, m: qid in m["Subject"] and "questions@metropole" in m["To"], 10)
    assert "Les écoles maternelles sont-elles concernées ?" in to_organiser.get_content()

    published = catalogue_with(catalogue_path, str(tmp_path / "calls.json"), [
        {"from": CALL, "questions": (Question(dt.date(2026, 11, 30), "Les maternelles sont-elles concernées ?",
                                              "Oui, toutes les écoles publiques.", qid),)}])
    send_alerts(published, recipients_path, smtp, ports)
    send_alerts(published, recipients_path, smtp, ports)
    answers = [m for m in smtp.to(address) if "Réponse à votre question" in m["Subject"]]
    assert len(answers) == 1 and "Oui, toutes les écoles publiques." in answers[0].get_content()


def test_subscribe_confirm_receive_one_digest_and_unsubscribe(page: Page, site_server, forms_server, smtp, tmp_path,
                                                               catalogue_path, recipients_path, ports):
    page.goto(f"{site_server}/")
    page.get_by_role("link", name="Recevoir les nouveaux appels par courriel").click()
    expect(page).to_have_url(f"{forms_server}/alertes")
    assert_accessible(page)
    address = f"veille-{secrets.token_hex(3)}@airpur.example"
    page.get_by_role("group", name="Thèmes").get_by_label("Environnement").check()
    type_into(page, "Votre adresse électronique", "pas une adresse")
    press(page, "Recevoir les alertes")
    expect(page.locator(".ap-error-summary")).to_be_focused()
    expect(page.get_by_role("group", name="Thèmes").get_by_label("Environnement")).to_be_checked()
    assert_accessible(page)
    field(page, "Votre adresse électronique").fill(address)
    field(page, "J'accepte de recevoir").check()
    press(page, "Recevoir les alertes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    assert_accessible(page)

    send_alerts(catalogue_path, recipients_path, smtp, ports)  # what the platform already knew
    [confirmation] = smtp.to(address)
    page.goto(re.search(r"http://\S+/alertes/confirmer/\S+", confirmation.get_content()).group(0))
    assert_accessible(page)
    press(page, "Confirmer mon abonnement")
    expect(page.get_by_role("heading", level=1)).to_have_text("Abonnement confirmé")
    assert_accessible(page)

    new = f"air-creches-{secrets.token_hex(2)}"
    send_alerts(with_new_calls(catalogue_path, str(tmp_path / "a.json"), {"slug": new}), recipients_path, smtp, ports)
    [digest] = digests(smtp, address)
    assert f"/appels/{new}/" in digest.get_content()

    page.goto(digest["List-Unsubscribe"].strip("<>"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Se désinscrire")
    assert_accessible(page)
    press(page, "Me désinscrire")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes désinscrit(e)")
    assert_accessible(page)
    send_alerts(with_new_calls(catalogue_path, str(tmp_path / "b.json"), {"slug": new},
                               {"slug": f"air-lycees-{secrets.token_hex(2)}"}), recipients_path, smtp, ports)
    assert len(digests(smtp, address, timeout=0.5)) == 1
