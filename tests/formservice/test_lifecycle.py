"""The life of an answer without an account, on the real form service, storage and mail server:
files kept when the form comes back, drafts, corrections and withdrawals through private links,
and what the partner's export then holds."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re

import openpyxl
import pytest
import time_machine
from formhelpers import PDF, Answering, catalogue_with, company_answers, iso_in

from formservice import drafts, storage, submission
from formservice.exports import build_export
from formservice.services import services

OTHER_PDF = PDF + b"% version corrigee\n"


def links_in(mail) -> dict[str, str]:
    """The private links of a mail, by what they do (their path's first part)."""
    text = mail.get_body(("plain",)).get_content()
    return {m.group(2): m.group(1) for m in re.finditer(r"https?://[^/\s]+(/(recu|modifier|retirer|reprendre)/\S+)",
                                                        text)}


def stored_versions(s3, slug, answer_id):
    return submission.versions(storage.S3Storage(s3.bucket), slug, answer_id)


def test_a_file_once_sent_is_never_asked_again(answering, s3):
    person = answering()
    wrong = person.send(company_answers(email="garde@airpur.example", siret="123"))
    assert wrong.status_code == 422
    page = html.unescape(wrong.text)
    assert "Fichier reçu : <strong>dossier-réponse.pdf</strong>" in page and "Retirer ce fichier" in page
    assert "Les fichiers déjà reçus sont conservés" in page
    person.came_back(wrong)
    fixed = person.send(company_answers(email="garde@airpur.example", dossier=None))  # no file chosen again
    assert fixed.status_code == 303
    answer_id = fixed.headers["Location"].split("/")[3]
    [version] = stored_versions(s3, "capteurs-air", answer_id)
    assert [f.sha256 for f in version.files] == [hashlib.sha256(PDF).hexdigest()]
    assert version.answers["siret"] == "73282932000074"


def test_a_kept_file_can_be_removed_or_replaced_and_only_a_refused_one_is_asked_again(answering, s3):
    person = answering()
    first = person.send(company_answers(email="remplace@airpur.example", siret="123"))
    person.came_back(first)
    removed = person.send(company_answers(email="remplace@airpur.example", dossier=None, _retirer_dossier="oui"))
    assert removed.status_code == 422 and "Dossier de réponse : Joignez ce fichier." in html.unescape(removed.text)
    person.came_back(removed)
    refused = person.send(company_answers(email="remplace@airpur.example", dossier=(b"MZ\x90", "virus.pdf")))
    assert refused.status_code == 422 and "pas au format attendu" in html.unescape(refused.text)
    person.came_back(refused)
    replaced = person.send(company_answers(email="remplace@airpur.example", dossier=(OTHER_PDF, "v2.pdf")))
    assert replaced.status_code == 303
    [version] = stored_versions(s3, "capteurs-air", replaced.headers["Location"].split("/")[3])
    assert [(f.name, f.sha256) for f in version.files] == [("v2.pdf", hashlib.sha256(OTHER_PDF).hexdigest())]


def test_a_kept_file_reference_cannot_name_another_answer_s_file(answering):
    victim = answering()
    kept = victim.send(company_answers(email="victime@airpur.example", siret="123"))
    victim.came_back(kept)
    thief = answering()
    stolen = thief.send(company_answers(email="voleur@airpur.example", dossier=None),
                        hidden={**thief.hidden, "_garder_dossier": victim.hidden["_garder_dossier"]})
    assert stolen.status_code == 422 and "Joignez ce fichier." in html.unescape(stolen.text)


def test_save_resume_and_send_a_draft(answering, client, smtp, s3):
    person = answering()
    saved = person.send(company_answers(email="brouillon@airpur.example", siret="", solution="À compléter",
                                        _action="brouillon"))
    assert saved.status_code == 200 and "Réponse enregistrée pour plus tard" in saved.text
    [mail] = smtp.to("brouillon@airpur.example")
    resume = links_in(mail)["reprendre"]
    answer_id = resume.split("/")[3]
    assert drafts.load(storage.S3Storage(s3.bucket), "capteurs-air", answer_id).values["solution"] == "À compléter"
    assert stored_versions(s3, "capteurs-air", answer_id) == []  # a draft is not an answer

    back = Answering(client, "capteurs-air")  # later, from the link
    page = back.open(resume)
    assert ">À compléter</textarea>" in page.text and "Fichier reçu : <strong>dossier-réponse.pdf</strong>" in page.text
    sent = back.send(company_answers(email="brouillon@airpur.example", solution="Complet.", dossier=None))
    assert sent.status_code == 303 and sent.headers["Location"].split("/")[3] == answer_id
    [version] = stored_versions(s3, "capteurs-air", answer_id)
    assert version.answers["solution"] == "Complet." and len(version.files) == 1
    again = client.get(resume)
    assert again.status_code == 200 and "Ce brouillon a été envoyé" in html.unescape(again.text)


def test_a_draft_needs_an_address_to_send_its_link_to(answering, smtp):
    person = answering()
    refused = person.send(company_answers(email="", _action="brouillon"))
    assert refused.status_code == 422
    assert "Pour recevoir le lien qui permet de reprendre votre réponse" in html.unescape(refused.text)


def test_correct_then_withdraw_an_answer_and_what_the_export_holds(answering, client, smtp, s3, tmp_path):
    person = answering()
    first = person.send(company_answers(email="corrige@airpur.example", raison_sociale="Avant SAS"))
    [receipt_mail] = smtp.to("corrige@airpur.example")
    links = links_in(receipt_mail)
    assert set(links) == {"recu", "modifier", "retirer"}
    receipt = client.get(first.headers["Location"])
    assert "Modifier ma réponse" in receipt.text and "Retirer ma réponse" in receipt.text

    form = person.open(links["modifier"])
    assert 'value="Avant SAS"' in form.text and "Vous modifiez la réponse" in html.unescape(form.text)
    corrected = person.send(company_answers(email="corrige@airpur.example", raison_sociale="Après SAS", dossier=None),
                            url=links["modifier"])
    assert corrected.status_code == 303 and "version=2" in corrected.headers["Location"]
    again = person.send(company_answers(email="corrige@airpur.example", raison_sociale="Après SAS", dossier=None),
                        url=links["modifier"])  # the same correction sent twice: the same version
    assert again.status_code == 303 and again.headers["Location"] == corrected.headers["Location"]
    answer_id = first.headers["Location"].split("/")[3]
    versions = stored_versions(s3, "capteurs-air", answer_id)
    assert [v.version for v in versions] == [1, 2] and versions[1].changed == ("raison_sociale",)
    assert versions[1].files == versions[0].files  # the file kept, not sent again
    # the first receipt is already there: wait for the second one itself (mails are sent meanwhile)
    [(_, second)] = smtp.wait_for(lambda to, m: m["To"] == "corrige@airpur.example" and "version 2" in m["Subject"],
                                  10)
    assert "Ce qui a changé : Raison sociale" in second.get_body(("plain",)).get_content()
    assert versions[1].digest in second.get_body(("plain",)).get_content()

    call = services(person.client.application).catalogue.get("capteurs-air")
    confirm = client.get(links["retirer"])
    assert confirm.status_code == 200 and "Retirer votre réponse" in confirm.text
    assert client.post(links["retirer"]).status_code == 400  # CSRF
    token = re.search(r'name="_csrf" value="([^"]+)"', confirm.text).group(1)
    withdrawn = client.post(links["retirer"], data={"_csrf": token})
    assert withdrawn.status_code == 303
    assert stored_versions(s3, "capteurs-air", answer_id)[-1].state == "withdrawn"
    assert smtp.wait_for(lambda to, m: m["To"] == "corrige@airpur.example" and "Accusé de retrait" in m["Subject"], 10)
    after = client.get(links["modifier"])
    assert after.status_code == 200 and "Cette réponse a été retirée" in html.unescape(after.text)
    assert client.get(links["retirer"]).status_code == 200

    export = build_export(storage.S3Storage(s3.bucket), call, str(tmp_path))
    book = openpyxl.load_workbook(export.xlsx)
    numbers = [r[0] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert versions[0].number not in numbers
    audit = [(r[0], r[1], r[2]) for r in book["Versions"].iter_rows(min_row=2, values_only=True)
             if r[0] == versions[0].number]
    assert audit == [(versions[0].number, 1, "réponse"), (versions[0].number, 2, "modification"),
                     (versions[0].number, 3, "retrait")]


def test_two_corrections_opened_at_once_do_not_overwrite_each_other(answering, smtp, s3):
    person = answering()
    first = person.send(company_answers(email="deux-onglets@airpur.example"))
    links = links_in(smtp.to("deux-onglets@airpur.example")[0])
    tab_one, tab_two = Answering(person.client, "capteurs-air"), Answering(person.client, "capteurs-air")
    tab_one.open(links["modifier"])
    tab_two.open(links["modifier"])
    assert tab_one.send(company_answers(email="deux-onglets@airpur.example", raison_sociale="Onglet un", dossier=None),
                        url=links["modifier"]).status_code == 303
    late = tab_two.send(company_answers(email="deux-onglets@airpur.example", raison_sociale="Onglet deux", dossier=None),
                        url=links["modifier"])
    assert late.status_code == 409 and "Votre réponse a changé entre-temps" in html.unescape(late.text)
    assert 'value="Onglet deux"' in late.text
    answer_id = first.headers["Location"].split("/")[3]
    assert [v.answers["raison_sociale"] for v in stored_versions(s3, "capteurs-air", answer_id)] == [
        "Air Pur SAS", "Onglet un"]


def test_links_are_single_purpose_and_unguessable(answering, client, smtp):
    person = answering()
    person.send(company_answers(email="liens@airpur.example"))
    links = links_in(smtp.to("liens@airpur.example")[0])
    token = links["recu"].rsplit("/", 1)[1]
    assert client.get(links["modifier"].rsplit("/", 1)[0] + "/" + token).status_code == 404  # a receipt link
    assert client.get(links["retirer"].rsplit("/", 1)[0] + "/" + "A" * len(token)).status_code == 404
    assert client.get(links["modifier"].replace("capteurs-air", "consultation-velo")).status_code == 404
    assert client.get("/reprendre/capteurs-air/" + "0" * 32 + "/x").status_code == 404


@pytest.fixture
def closing(make_app, catalogue_path, tmp_path):
    """A call that closes in one minute, on its own catalogue."""
    path = catalogue_with(catalogue_path, str(tmp_path / "calls.json"),
                          [{"from": "capteurs-air", "slug": "clos-bientot", "closes": iso_in(60)}])
    return make_app(CATALOGUE=path)


def test_after_the_deadline_links_show_the_final_state_read_only(closing, smtp, s3):
    person = Answering(closing.test_client(), "clos-bientot")
    person.open()
    person.send(company_answers(email="apres@airpur.example"))
    links = links_in(smtp.to("apres@airpur.example")[0])
    drafter = Answering(closing.test_client(), "clos-bientot")
    drafter.open()
    drafter.send(company_answers(email="brouillon-tard@airpur.example", _action="brouillon"))
    resume = links_in(smtp.to("brouillon-tard@airpur.example")[0])["reprendre"]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=61)
    with time_machine.travel(later):
        client = closing.test_client()
        final = client.get(links["modifier"])
        assert final.status_code == 200 and "L'appel est clos" in html.unescape(final.text)
        assert "Modifier ma réponse" not in final.text and "<form" not in final.text
        assert client.get(links["retirer"]).status_code == 200
        late = client.get(resume)
        assert late.status_code == 410 and "Ce brouillon ne peut plus être envoyé" in html.unescape(late.text)


def test_rate_limits_apply_to_corrections_and_drafts(make_app, smtp):
    app = make_app(RATE_LIMIT=2)
    person = Answering(app.test_client(), address="203.0.113.90")
    person.open()
    assert person.send(company_answers(email="limite-vie@airpur.example")).status_code == 303  # 1
    links = links_in(smtp.to("limite-vie@airpur.example")[0])
    person.open(links["modifier"])
    assert person.send(company_answers(email="limite-vie@airpur.example", raison_sociale="V2", dossier=None),
                       url=links["modifier"]).status_code == 303  # 2
    person.open(links["modifier"])
    third = person.send(company_answers(email="limite-vie@airpur.example", raison_sociale="V3", dossier=None),
                        url=links["modifier"])
    assert third.status_code == 429
    drafter = Answering(app.test_client(), address="203.0.113.90")
    drafter.open()
    assert drafter.send(company_answers(email="x@airpur.example", _action="brouillon")).status_code == 429
