"""Sending an answer: stored exactly once, acknowledged by page and mail, whatever goes wrong."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import time

import time_machine
from click.testing import CliRunner
from formhelpers import PDF, SECRET, Answering, catalogue_with, company_answers, iso_in

from calls_cli import main
from formservice import attempt, mail as outbox_mail, storage, submission
from formservice.services import services


def records_of(s3, slug):
    return list(submission.iter_submissions(storage.S3Storage(s3.bucket), slug))


def stored(s3, slug, sub_id):
    prefix = storage.submission_prefix(slug, sub_id)
    listing = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return {o["Key"][len(prefix):]: o["Size"] for o in listing.get("Contents", [])}


def test_an_answer_is_stored_acknowledged_and_mailed(answering, client, s3, smtp, catalogue_path):
    person = answering()
    sent = person.send(company_answers(email="sent@airpur.example"))
    assert sent.status_code == 303
    location = sent.headers["Location"]
    _, _, slug, sub_id, token = location.split("/")
    assert slug == "capteurs-air" and len(token) >= 32

    receipt = client.get(location)
    assert receipt.status_code == 200
    assert receipt.headers["Cache-Control"] == "no-store"
    html = receipt.text
    record = json.loads(s3.client().get_object(Bucket=s3.bucket,
                                               Key=f"submissions/capteurs-air/{sub_id}/versions/0001.json")["Body"].read())
    assert record["number"] in html and record["number"].startswith("RVB-2026-")
    assert record["received_at"].endswith("Z") and record["received_at_local"] in html
    assert "(heure de Paris)" in record["received_at_local"]
    with open(catalogue_path, encoding="utf-8") as handle:
        catalogue = json.load(handle)
    published = next(c for c in catalogue["calls"] if c["slug"] == "capteurs-air")
    # The receipt names the version of the call its public history shows (the last commit of its
    # folder), or the build's commit where the history is unavailable (a shallow clone).
    expected = published["version"] or catalogue["build"]["commit"]
    assert expected and record["call_version"] == expected and expected[:12] in html
    assert record["answers"]["siret"] == "73282932000074" and "73282932000074" in html
    assert record["answers"]["telephone"] == "01 23 45 67 89"
    assert record["answers"]["consentement"] is True
    assert record["email"] == "sent@airpur.example"
    assert record["title"] == "Capteurs de qualité de l'air pour les écoles"
    digest = hashlib.sha256(PDF).hexdigest()
    [file] = record["files"]
    assert file == {"field": "dossier", "name": "dossier-réponse.pdf", "size": len(PDF), "sha256": digest,
                    "content_type": "application/pdf",
                    "key": f"submissions/capteurs-air/{sub_id}/files/{digest[:16]}-dossier-réponse.pdf"}
    assert digest in html and "dossier-réponse.pdf" in html
    assert stored(s3, "capteurs-air", sub_id) == {f"files/{digest[:16]}-dossier-réponse.pdf": len(PDF),
                                                    "versions/0001.json": stored(s3, "capteurs-air", sub_id)["versions/0001.json"]}
    assert record["version"] == 1 and record["state"] == "submitted"
    assert record["digest"] == hashlib.sha256(submission.Submission.from_json(json.dumps(record).encode()).canonical()).hexdigest()
    assert record["digest"] in html and "Empreinte de la réponse" in html

    [mail] = smtp.to("sent@airpur.example")
    assert record["number"] in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html_mail = mail.get_body(("html",)).get_content()
    for part in (text, html_mail):
        assert record["number"] in part and digest in part and "Air Pur SAS" in part
        assert location in part


def test_a_resent_form_is_one_submission_with_the_same_receipt(answering, s3, smtp):
    person = answering()
    first = person.send(company_answers(email="twice@airpur.example"))
    second = person.send(company_answers(email="twice@airpur.example"))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    sub_id = first.headers["Location"].split("/")[3]
    assert [r.id for r in records_of(s3, "capteurs-air") if r.email == "twice@airpur.example"] == [sub_id]
    assert smtp.to("twice@airpur.example")  # the receipt arrived...
    time.sleep(0.5)
    assert len(smtp.to("twice@airpur.example")) == 1  # ...and no second one after it


def test_a_form_token_cannot_be_reused_for_different_answers(answering, client):
    person = answering()
    first = person.send(company_answers(email="first@airpur.example"))
    other = person.send(company_answers(email="first@airpur.example", raison_sociale="Autre SAS"))
    assert first.status_code == 303 and other.status_code == 409
    assert "Ce formulaire a déjà servi" in other.text and 'value="Autre SAS"' in other.text
    assert "Autre SAS" not in client.get(first.headers["Location"]).text


def test_a_reused_form_token_with_another_file_leaves_the_first_submission_whole(answering, s3):
    person = answering()
    first = person.send(company_answers(email="file@airpur.example"))
    other_pdf = PDF + b"% another version\n"
    other = person.send(company_answers(email="file@airpur.example", dossier=(other_pdf, "dossier réponse.pdf")))
    assert first.status_code == 303 and other.status_code == 409
    sub_id = first.headers["Location"].split("/")[3]
    kept = f"files/{hashlib.sha256(PDF).hexdigest()[:16]}-dossier-réponse.pdf"
    assert stored(s3, "capteurs-air", sub_id)[kept] == len(PDF)
    [version] = submission.versions(storage.S3Storage(s3.bucket), "capteurs-air", sub_id)
    assert [f.key.rsplit("/", 2)[-2:] for f in version.files] == [kept.split("/")]


def test_the_receipt_is_readable_only_with_its_token(answering, client):
    location = answering().send(company_answers()).headers["Location"]
    base, token = location.rsplit("/", 1)
    assert client.get(location).status_code == 200
    for guess in (base + "/" + "A" * len(token), base + "/" + token[:-1], base.rsplit("/", 1)[0] + "/" + "0" * 32 + "/" + token,
                  location.replace("capteurs-air", "consultation-velo")):
        page = client.get(guess)
        assert page.status_code == 404 and "Air Pur SAS" not in page.text


def test_a_post_without_csrf_token_is_refused_with_values_kept(answering, s3):
    person = answering()
    hidden = {k: v for k, v in person.hidden.items() if k != "_csrf"}
    refused = person.send(company_answers(email="nocsrf@airpur.example"), hidden=hidden)
    assert refused.status_code == 400
    assert "La page avait expiré" in refused.text and 'value="nocsrf@airpur.example"' in refused.text
    assert not [r for r in records_of(s3, "capteurs-air") if r.email == "nocsrf@airpur.example"]


def test_a_filled_honeypot_stores_nothing(answering, s3):
    refused = answering().send(company_answers(email="robot@airpur.example", _website="http://spam.example"))
    assert refused.status_code == 400 and "envoi automatique" in refused.text
    assert not [r for r in records_of(s3, "capteurs-air") if r.email == "robot@airpur.example"]


def test_too_many_submissions_from_one_address_get_a_clear_page(make_app):
    app = make_app(RATE_LIMIT=2)
    statuses = []
    for n in range(3):  # three people, three browsers, one address (an office behind one router)
        person = Answering(app.test_client(), address="203.0.113.77")
        person.open()
        statuses.append(person.send(company_answers(email=f"limit{n}@airpur.example")))
    assert [r.status_code for r in statuses] == [303, 303, 429]
    assert "Trop d&#39;envois depuis votre connexion" in statuses[2].text
    other = Answering(app.test_client(), address="203.0.113.78")
    other.open()
    assert other.send(company_answers()).status_code == 303


def test_storage_down_saves_nothing_and_keeps_the_values(make_app, monkeypatch, unused_endpoint):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", unused_endpoint)
    person = Answering(make_app().test_client())
    person.open()
    down = person.send(company_answers(raison_sociale="Pas Enregistrée SARL"))
    assert down.status_code == 503 and "Location" not in down.headers
    assert "n'a pas été enregistrée" in down.text and "Réessayez" in down.text
    assert 'value="Pas Enregistrée SARL"' in down.text and "choisissez-les à nouveau" in html.unescape(down.text)
    assert "Accusé de réception" not in down.text


def test_mail_down_queues_the_receipt_and_sends_it_later(make_app, s3, smtp, unused_endpoint, catalogue_path):
    app = make_app(SMTP_PORT=int(unused_endpoint.rsplit(":", 1)[1]), SMTP_TIMEOUT=1)
    person = Answering(app.test_client())
    person.open()
    sent = person.send(company_answers(email="queued@airpur.example"))
    assert sent.status_code == 303
    sub_id = sent.headers["Location"].split("/")[3]
    assert app.test_client().get(sent.headers["Location"]).status_code == 200
    queued = s3.client().get_object(Bucket=s3.bucket, Key=f"outbox/receipt-{sub_id}-v1.eml")["Body"].read()
    assert b"queued@airpur.example" in queued
    assert smtp.to("queued@airpur.example", timeout=0.5) == []

    # The mail server is still down (the bucket is shared: other tests' mails may be queued too).
    report = outbox_mail.send_queued(services(app).mailer, services(app).storage, min_age=0)
    assert report.sent == 0 and report.left >= 1
    assert s3.client().head_object(Bucket=s3.bucket, Key=f"outbox/receipt-{sub_id}-v1.eml")
    # What cron runs in production, with the mail server back: a receipt queued a moment ago is
    # left to the form service that queued it (it may be sending it), an older one is sent.
    env = {"FORMSERVICE_SMTP_PORT": str(smtp.port), "FORMSERVICE_SECRET_KEY": SECRET,
           "FORMSERVICE_CATALOGUE": catalogue_path}
    young = CliRunner().invoke(main, ["send-receipts"], env=env)
    assert young.exit_code == 0 and "less than 120 s ago left to the form service" in young.output
    assert smtp.to("queued@airpur.example", timeout=0.5) == []
    result = CliRunner().invoke(main, ["send-receipts", "--min-age", "0"], env=env)
    assert result.exit_code == 0 and "still queued" in result.output and "0 still queued" in result.output
    [mail] = smtp.to("queued@airpur.example")
    assert mail["Subject"].startswith("Accusé de réception RVB-")
    assert "Contents" not in s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"outbox/receipt-{sub_id}-v1.eml")


def test_a_sent_receipt_leaves_the_queue(answering, s3, smtp):
    sub_id = answering().send(company_answers(email="unqueued@airpur.example")).headers["Location"].split("/")[3]
    assert smtp.to("unqueued@airpur.example")
    deadline = time.monotonic() + 5
    while "Contents" in s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"outbox/receipt-{sub_id}-v1.eml"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_an_answer_arriving_after_the_deadline_is_refused_with_values_kept(make_app, catalogue_path, tmp_path, s3):
    path = catalogue_with(catalogue_path, str(tmp_path / "calls.json"),
                          [{"from": "capteurs-air", "slug": "bientot-clos", "closes": iso_in(60)}])
    person = Answering(make_app(CATALOGUE=path).test_client(), slug="bientot-clos")
    person.open()  # the form is opened before the deadline...
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=61)
    with time_machine.travel(later):  # ...and sent one second after it, by the service's clock
        late = person.send(company_answers(raison_sociale="En Retard SA"))
    assert late.status_code == 403
    assert "La date limite est passée" in late.text and "En Retard SA" in late.text
    assert "n'a pas été enregistrée" in late.text and "<form" not in late.text
    assert records_of(s3, "bientot-clos") == []


def test_a_post_without_its_form_token_is_refused_and_stores_nothing(answering, s3):
    person = answering()
    hidden = {k: v for k, v in person.hidden.items() if k != "_form"}
    refused = person.send(company_answers(email="sansjeton@airpur.example"), hidden=hidden)
    assert refused.status_code == 400
    assert "La page avait expiré" in refused.text and 'value="sansjeton@airpur.example"' in refused.text
    assert 'name="_form" value="' in refused.text  # a fresh token, to send again
    again = person.send(company_answers(email="sansjeton@airpur.example"), hidden=hidden)
    assert again.status_code == 400
    assert not [r for r in records_of(s3, "capteurs-air") if r.email == "sansjeton@airpur.example"]


def test_a_second_answer_from_the_same_browser_is_never_silent(answering, client, s3):
    person = answering()
    first = person.send(company_answers(email="retour@airpur.example"))
    assert first.status_code == 303
    number = client.get(first.headers["Location"]).text.split("numéro ")[1].split(".")[0]
    again = person.open()  # Back, or the form opened again later: a new form token
    assert "Vous avez déjà envoyé une réponse à cet appel depuis ce navigateur" in again.text
    assert f'href="{first.headers["Location"]}"' in again.text and number in again.text
    second = person.send(company_answers(email="retour@airpur.example", raison_sociale="Deuxième SAS"))
    assert second.status_code == 409
    assert "Vous avez déjà répondu à cet appel" in second.text and 'value="Deuxième SAS"' in second.text
    assert len([r for r in records_of(s3, "capteurs-air") if r.email == "retour@airpur.example"]) == 1
    confirmed = person.send(company_answers(email="retour@airpur.example", raison_sociale="Deuxième SAS",
                                            _seconde="oui"))
    assert confirmed.status_code == 303 and confirmed.headers["Location"] != first.headers["Location"]
    assert len([r for r in records_of(s3, "capteurs-air") if r.email == "retour@airpur.example"]) == 2


def test_an_answer_accepted_before_the_deadline_is_dated_before_it(make_app, catalogue_path, tmp_path, s3,
                                                                   monkeypatch):
    """The deadline and the time of receipt are one reading of the clock, even when storing is slow."""
    path = catalogue_with(catalogue_path, str(tmp_path / "calls.json"),
                          [{"from": "capteurs-air", "slug": "derniere-seconde", "closes": iso_in(2)}])
    person = Answering(make_app(CATALOGUE=path).test_client(), slug="derniere-seconde")
    person.open()
    read = attempt.read

    def slow(*args, **kwargs):
        time.sleep(2.5)  # checks and storage slow under load: the deadline passes meanwhile
        return read(*args, **kwargs)

    monkeypatch.setattr(attempt, "read", slow)
    sent = person.send(company_answers(email="seconde@airpur.example"))
    assert sent.status_code == 303
    [record] = records_of(s3, "derniere-seconde")
    with open(path, encoding="utf-8") as handle:
        closes = dt.datetime.fromisoformat(json.load(handle)["calls"][0]["closes"])
    assert record.received_at < closes


def test_a_stored_answer_whose_write_reply_was_lost_still_gets_its_receipt(make_app, s3, smtp, monkeypatch):
    """The storage kept the record but its reply was lost: the client's retry meets 'already exists'."""
    app = make_app()
    store = services(app).storage
    real_put = type(store).put

    def put_then_retry(self, key, data, **kwargs):
        real_put(self, key, data, **kwargs)
        if "/versions/" in key:
            real_put(self, key, data, **kwargs)  # what boto3's retry does: IfNoneMatch now fails

    monkeypatch.setattr(type(store), "put", put_then_retry)
    person = Answering(app.test_client())
    person.open()
    sent = person.send(company_answers(email="reponse-perdue@airpur.example"))
    assert sent.status_code == 303
    monkeypatch.setattr(type(store), "put", real_put)
    [mail] = smtp.to("reponse-perdue@airpur.example")
    assert mail["Subject"].startswith("Accusé de réception RVB-")
    again = person.send(company_answers(email="reponse-perdue@airpur.example"))  # the same form, sent again
    assert again.status_code == 303
    time.sleep(0.5)
    assert len(smtp.to("reponse-perdue@airpur.example")) == 1  # this browser has its receipt: no second mail


def test_an_answer_stored_during_an_outage_gets_its_receipt_when_sent_again(make_app, s3, smtp, monkeypatch):
    """The record was kept but the storage went down before replying: the person saw the 'service
    indisponible' page, sends the same form again later, and gets the receipt, once."""
    app = make_app()
    store = services(app).storage
    real_put = type(store).put

    def put_then_fail(self, key, data, **kwargs):
        real_put(self, key, data, **kwargs)
        if "/versions/" in key:
            raise storage.StorageUnavailable("storage down before its reply (test)")

    monkeypatch.setattr(type(store), "put", put_then_fail)
    person = Answering(app.test_client())
    person.open()
    down = person.send(company_answers(email="panne-enregistree@airpur.example"))
    assert down.status_code == 503
    monkeypatch.setattr(type(store), "put", real_put)
    assert smtp.to("panne-enregistree@airpur.example", timeout=0.5) == []
    again = person.send(company_answers(email="panne-enregistree@airpur.example"))
    assert again.status_code == 303
    [mail] = smtp.to("panne-enregistree@airpur.example")
    assert mail["Subject"].startswith("Accusé de réception RVB-")
    third = person.send(company_answers(email="panne-enregistree@airpur.example"))
    assert third.status_code == 303
    time.sleep(0.5)
    assert len(smtp.to("panne-enregistree@airpur.example")) == 1
