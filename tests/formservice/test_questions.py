"""Questions to a call's organiser, on the real SeaweedFS and SMTP server: asked on the call's page,
stored, mailed to the organiser and acknowledged; listed by `calls questions`; the answer mailed
once to whoever asked after the build that publishes it; closed after `questions_until`."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets

import pytest
from click.testing import CliRunner
from formhelpers import SECRET, Answering, catalogue_with, iso_in

from callmodel.record import read_catalogue
from callmodel.schema import Question
from calls_cli import main
from formservice import questions
from formservice.storage import S3Storage

CALL = "capteurs-air"
ORGANISER = "questions@metropole.example.org"  # the fixture call's questions_to


@pytest.fixture
def asking(make_app, bucket):
    app = make_app(BUCKET=bucket)

    def start(catalogue=None, slug=CALL):
        client = (make_app(BUCKET=bucket, CATALOGUE=catalogue) if catalogue else app).test_client()
        return Answering(client, slug, f"203.0.113.{secrets.randbelow(250) + 1}")

    return start


def ask(person: Answering, **answers):
    values = {"question": "Les capteurs doivent-ils mesurer le radon ?", "nom": "Ada Lovelace",
              "organisation": "Air Pur SAS", "courriel": f"ada-{secrets.token_hex(3)}@airpur.example",
              "consentement": "oui"}
    values.update(answers)
    return person.send({k: v for k, v in values.items() if v is not None}, url=f"/appels/{person.slug}/question")


def cli_env(catalogue_path, recipients_path, bucket, smtp, ports) -> dict:
    return {"FORMSERVICE_CATALOGUE": catalogue_path, "FORMSERVICE_RECIPIENTS": recipients_path,
            "FORMSERVICE_BUCKET": bucket, "FORMSERVICE_SMTP_PORT": str(smtp.port), "FORMSERVICE_SECRET_KEY": SECRET,
            "FORMSERVICE_SITE_URL": f"http://127.0.0.1:{ports['site']}",
            "FORMSERVICE_URL": f"http://127.0.0.1:{ports['forms']}"}


def test_a_question_is_stored_mailed_listed_and_its_answer_mailed_once(
        asking, bucket, smtp, tmp_path, catalogue_path, recipients_path, ports):
    person = asking()
    person.open(f"/appels/{CALL}/question")
    address = f"ada-{secrets.token_hex(3)}@airpur.example"
    sent = ask(person, courriel=address, question="Les capteurs doivent-ils\nmesurer le radon ?")
    assert sent.status_code == 200, sent.text
    assert "Question transmise" in sent.text
    qid = re.search(r"Q-[0-9A-Z]{6}", sent.text).group(0)

    stored = questions.load(S3Storage(bucket), CALL, qid)
    assert (stored.text, stored.email, stored.name, stored.organisation) == (
        "Les capteurs doivent-ils\nmesurer le radon ?", address, "Ada Lovelace", "Air Pur SAS")

    [to_organiser] = smtp.wait_for(lambda to, m: qid in m["Subject"] and m["To"] == ORGANISER, 10)
    body = to_organiser[1].get_body(("plain",)).get_content()
    assert "> mesurer le radon ?" in body and "Ada Lovelace, Air Pur SAS" in body and address in body
    assert qid in body and "répondez publiquement" in body
    [acknowledged] = smtp.to(address)
    assert qid in acknowledged["Subject"] and "transmise à l'organisateur" in acknowledged.get_content()

    # The same form sent again (a double click): one question, one acknowledgement.
    again = person.send({"question": "Les capteurs doivent-ils\nmesurer le radon ?", "nom": "Ada Lovelace",
                         "organisation": "Air Pur SAS", "courriel": address, "consentement": "oui"},
                        url=f"/appels/{CALL}/question")
    assert again.status_code == 200 and qid in again.text
    assert len(list(S3Storage(bucket).keys(f"questions/{CALL}/"))) == 1
    assert len(smtp.to(address, timeout=0.5)) == 1

    env = cli_env(catalogue_path, recipients_path, bucket, smtp, ports)
    listed = CliRunner().invoke(main, ["questions", CALL], env=env)
    assert listed.exit_code == 0, listed.output
    assert qid in listed.output and "sans réponse" in listed.output and "mesurer le radon" in listed.output

    # Staff publish the answer with the question's id; the next send-alerts mails it, once.
    published_question = Question(dt.date.today(), "Faut-il mesurer le radon ?", "Non, seulement CO2 et PM2.5.", qid)
    answered = catalogue_with(catalogue_path, str(tmp_path / "calls.json"), [
        {"from": CALL, "questions": (published_question,)}])
    env["FORMSERVICE_CATALOGUE"] = answered
    for _ in range(2):
        run = CliRunner().invoke(main, ["send-alerts"], env=env)
        assert run.exit_code == 0, run.output
    mails = [m for m in smtp.to(address, timeout=10) if "Réponse à votre question" in m["Subject"]]
    assert len(mails) == 1
    assert "Non, seulement CO2 et PM2.5." in mails[0].get_content() and qid in mails[0]["Subject"]
    assert len([m for m in smtp.to(address, timeout=0.5) if "Réponse" in m["Subject"]]) == 1

    listed = CliRunner().invoke(main, ["questions", CALL], env=env)
    assert qid not in listed.output
    assert qid in CliRunner().invoke(main, ["questions", CALL, "--all"], env=env).output


def test_the_published_answers_carry_no_name_nor_address(catalogue_path):
    with open(catalogue_path, encoding="utf-8") as f:
        data = json.load(f)
    call = next(c for c in data["calls"] if c["slug"] == CALL)
    assert call["questions"] and all(set(q) == {"id", "date", "question", "answer"} for q in call["questions"])
    assert ORGANISER not in json.dumps(data)  # questions_to, like exports_to, stays private
    calls, _ = read_catalogue(json.dumps(data))
    assert calls[CALL].questions_to == ()


def test_mistakes_are_said_in_french_and_keep_what_was_typed(asking, bucket, smtp):
    person = asking()
    person.open(f"/appels/{CALL}/question")
    sent = ask(person, question="", courriel="pas-une-adresse", consentement=None, nom="Grace")
    assert sent.status_code == 422
    assert "La question n'a pas été envoyée : 3 erreurs à corriger" in sent.text
    assert 'value="pas-une-adresse"' in sent.text and 'value="Grace"' in sent.text
    assert not list(S3Storage(bucket).keys("questions/"))
    person.came_back(sent)
    fixed = ask(person, question="Une question <script>alert(1)</script>", courriel="grace@exemple.fr", nom="Grace")
    assert fixed.status_code == 200
    assert "<script>alert(1)" not in fixed.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in fixed.text


def test_hostile_sends_store_nothing(asking, bucket):
    person = asking()
    person.open(f"/appels/{CALL}/question")
    url = f"/appels/{CALL}/question"
    answers = {"question": "Q ?", "courriel": "a@exemple.fr", "consentement": "oui"}
    robot = person.send({**answers, "_website": "http://spam.example"}, url=url)
    assert robot.status_code == 400
    without_token = person.send(answers, hidden={"_csrf": person.hidden["_csrf"]}, url=url)
    assert without_token.status_code == 400 and "expiré" in without_token.text
    without_csrf = person.send(answers, hidden={k: v for k, v in person.hidden.items() if k != "_csrf"}, url=url)
    assert without_csrf.status_code == 400
    encoded = ask(person, courriel="=?utf-8?q?x?=@exemple.fr")
    assert encoded.status_code == 422 and "adresse" in encoded.text
    too_long = ask(person, question="x" * 2001)
    assert too_long.status_code == 422
    assert not list(S3Storage(bucket).keys("questions/"))


def test_after_questions_until_the_form_is_closed(asking, tmp_path, catalogue_path, bucket):
    closed = catalogue_with(catalogue_path, str(tmp_path / "calls.json"), [
        {"from": CALL, "questions_until": dt.datetime.fromisoformat(iso_in(-60))},
        {"from": "telesurveillance"}, {"from": "challenge-donnees"}])
    for slug in (CALL, "telesurveillance", "challenge-donnees"):
        person = asking(closed, slug)
        page = person.client.get(f"/appels/{slug}/question")
        assert page.status_code == 200
        assert "Les questions sont closes pour cet appel" in page.text and "L'heure de ce service fait foi" in page.text
    person = asking(closed)
    person.hidden = {}
    posted = person.send({"question": "Trop tard ?", "courriel": "tard@exemple.fr", "consentement": "oui"},
                         url=f"/appels/{CALL}/question")
    assert posted.status_code in (400, 403)
    assert not list(S3Storage(bucket).keys("questions/"))
    assert asking().client.get("/appels/inconnu/question").status_code == 404


def test_questions_go_with_the_answers_at_retention(asking, bucket, smtp, tmp_path, catalogue_path,
                                                    recipients_path, ports):
    person = asking()
    person.open(f"/appels/{CALL}/question")
    assert ask(person).status_code == 200
    env = cli_env(catalogue_path, recipients_path, bucket, smtp, ports)
    soon = CliRunner().invoke(main, ["purge", "--dry-run"], env=env)
    assert "questions/" not in soon.output
    later = (dt.datetime(2027, 1, 15, 12) + dt.timedelta(days=400)).isoformat()
    purged = CliRunner().invoke(main, ["purge", "--now", later], env=env)
    assert purged.exit_code == 0, purged.output
    assert f"questions/{CALL}/" in purged.output
    assert not list(S3Storage(bucket).keys("questions/"))
