"""Alerts without an account, on the real SeaweedFS and SMTP server: subscribe (double opt-in), one
digest per run with what is new for each subscriber, one-click unsubscription (RFC 8058), two
senders at once, one bad record or address, and the purge of subscriptions never confirmed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import threading
import time

import pytest
from click.testing import CliRunner
from formhelpers import SECRET, catalogue_with, form_tokens, iso_in
from test_questions import cli_env

from callmodel.record import read_catalogue
from calls_cli import main
from formservice import alerts
from formservice.config import defaults
from formservice.mail import SMTPMailer
from formservice.storage import S3Storage
from tests.servers import Inbox

CALL = "capteurs-air"


@pytest.fixture
def client(make_app, bucket):
    return make_app(BUCKET=bucket).test_client()


@pytest.fixture
def env(catalogue_path, recipients_path, bucket, smtp, ports):
    return cli_env(catalogue_path, recipients_path, bucket, smtp, ports)


def subscribe(client, **form):
    page = client.get("/alertes" + (f"?suivre={form['suivre']}" if "suivre" in form else ""))
    assert page.status_code == 200
    return client.post("/alertes", data={**form_tokens(page.text), **form})


def mailed_link(smtp, address: str, kind: str) -> str:
    [mail] = smtp.to(address)[-1:]
    return re.search(rf"http://\S+/alertes/{kind}/\S+", mail.get_content()).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("//", 1)[1].split("/", 1)[1]


def confirm(client, smtp, address: str):
    link = path_of(mailed_link(smtp, address, "confirmer"))
    page = client.get(link)
    assert page.status_code == 200 and "Confirmer mon abonnement" in page.text
    done = client.post(link, data=form_tokens(page.text))
    assert done.status_code == 200 and "Votre abonnement est confirmé" in done.text


def read(path):
    with open(path, encoding="utf-8") as f:
        return read_catalogue(f.read())[0]


def with_new_calls(catalogue_path, target, *new):
    """The fixture catalogue plus new calls made from capteurs-air ({"slug":…, changes})."""
    calls = read(catalogue_path)
    return catalogue_with(catalogue_path, target, [{"from": slug} for slug in calls]
                          + [{"from": CALL, "title": f"Appel {c['slug']}", **c} for c in new])


def digests(smtp, address: str, timeout: float = 10) -> list:
    return [m for m in smtp.to(address, timeout=timeout) if "List-Unsubscribe" in m]


def test_subscribe_confirm_one_digest_one_click_out(client, smtp, env, tmp_path, catalogue_path, bucket):
    storage = S3Storage(bucket)
    address = f"veille-{secrets.token_hex(3)}@airpur.example"
    form = client.get("/alertes").text
    assert "Environnement" in form and "Appels à solutions" in form and "Métropole de Rivebelle" in form
    sent = subscribe(client, themes="environnement", courriel=address, consentement="oui")
    assert sent.status_code == 202 and "Un lien de confirmation vient d'être envoyé" in sent.text
    [pending] = list(storage.keys("alerts/pending/"))
    assert not list(storage.keys("alerts/subscribers/"))
    assert "Thèmes : Environnement" in smtp.to(address)[0].get_content()

    # A mail scanner opening the link confirms nothing.
    link = path_of(mailed_link(smtp, address, "confirmer"))
    assert client.get(link).status_code == 200
    assert list(storage.keys("alerts/pending/")) == [pending]
    CliRunner().invoke(main, ["send-alerts"], env=env)  # the first run ever records the catalogue
    assert not digests(smtp, address, timeout=0.3)
    confirm(client, smtp, address)
    assert not list(storage.keys("alerts/pending/")) and len(list(storage.keys("alerts/subscribers/"))) == 1

    mine = {"slug": f"air-ecoles-{secrets.token_hex(2)}", "themes": ("environnement",)}
    other = {"slug": f"sante-{secrets.token_hex(2)}", "themes": ("sante",)}
    env["FORMSERVICE_CATALOGUE"] = with_new_calls(catalogue_path, str(tmp_path / "new.json"), mine, other)
    for _ in range(2):  # the second run has nothing new for anyone
        run = CliRunner().invoke(main, ["send-alerts"], env=env)
        assert run.exit_code == 0, run.output
    [digest] = digests(smtp, address)
    text = digest.get_content()
    assert f"Appel {mine['slug']}" in text and "Nouvel appel" in text and other["slug"] not in text
    assert f"/appels/{mine['slug']}/" in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = digest["List-Unsubscribe"].strip("<>")
    assert unsubscribe in text and unsubscribe.startswith(env["FORMSERVICE_URL"] + "/alertes/desinscription/")

    # RFC 8058: the mail client POSTs, without a form or cookie.
    out = client.post(path_of(unsubscribe), data={"List-Unsubscribe": "One-Click"})
    assert out.status_code == 200 and "Vous ne recevrez plus ces courriels" in out.text
    assert not list(storage.keys("alerts/subscribers/"))
    env["FORMSERVICE_CATALOGUE"] = with_new_calls(catalogue_path, str(tmp_path / "more.json"), mine, other,
                                                  {"slug": f"encore-{secrets.token_hex(2)}"})
    assert CliRunner().invoke(main, ["send-alerts"], env=env).exit_code == 0
    assert len(digests(smtp, address, timeout=0.5)) == 1
    assert client.post(path_of(unsubscribe)).status_code == 404  # already gone: said so, nothing breaks


def test_following_one_call(client, smtp, env, tmp_path, catalogue_path):
    address = f"suivi-{secrets.token_hex(3)}@airpur.example"
    page = client.get(f"/alertes?suivre={CALL}")
    assert "Suivre cet appel par courriel" in page.text and "Capteurs de qualité de l" in page.text
    assert subscribe(client, suivre=CALL, courriel=address, consentement="oui").status_code == 202
    confirm(client, smtp, address)
    CliRunner().invoke(main, ["send-alerts"], env=env)
    others_change = with_new_calls(catalogue_path, str(tmp_path / "a.json"), {"slug": f"x-{secrets.token_hex(2)}"})
    env["FORMSERVICE_CATALOGUE"] = others_change
    CliRunner().invoke(main, ["send-alerts"], env=env)
    assert not digests(smtp, address, timeout=0.3)
    moved = catalogue_with(catalogue_path, str(tmp_path / "b.json"), [
        {"from": CALL, "closes": "2027-01-29T12:00:00+01:00"}])
    env["FORMSERVICE_CATALOGUE"] = moved
    CliRunner().invoke(main, ["send-alerts"], env=env)
    [digest] = digests(smtp, address)
    assert "Suivi de l'appel" in digest["Subject"] and "Date limite modifiée" in digest.get_content()
    assert "29 janvier 2027" in digest.get_content()


def test_bad_requests_are_said_and_store_nothing(client, bucket):
    storage = S3Storage(bucket)
    wrong = subscribe(client, themes=["environnement", "inconnu"], courriel="pas une adresse")
    assert wrong.status_code == 422
    assert "Choisissez parmi les propositions" in wrong.text and "Saisissez une adresse électronique valide" in wrong.text
    assert "Cochez cette case" in wrong.text and 'value="pas une adresse"' in wrong.text
    assert re.search(r'value="environnement" checked', wrong.text)
    assert subscribe(client, courriel="=?utf-8?b?YQ==?=@exemple.fr", consentement="oui").status_code == 422
    assert client.post("/alertes", data={"courriel": "a@exemple.fr", "consentement": "oui"}).status_code == 400
    assert client.get("/alertes?suivre=inconnu").status_code == 404
    fake = "0" * 32
    assert client.get(f"/alertes/confirmer/{fake}/{'a' * 32}").status_code == 404
    assert client.post(f"/alertes/desinscription/{fake}/{'a' * 32}").status_code == 404
    assert not list(storage.keys("alerts/"))
    # A listing's link preselects its theme.
    assert re.search(r'value="sante" checked', client.get("/alertes?themes=sante&themes=nope").text)


def test_a_forged_unsubscription_removes_nothing(client, smtp, bucket):
    address = f"garde-{secrets.token_hex(3)}@airpur.example"
    subscribe(client, courriel=address, consentement="oui")
    confirm(client, smtp, address)
    [key] = S3Storage(bucket).keys("alerts/subscribers/")
    sid = key.rsplit("/", 1)[1][:-5]
    assert client.post(f"/alertes/desinscription/{sid}/{'f' * 32}").status_code == 404
    assert list(S3Storage(bucket).keys("alerts/subscribers/")) == [key]


def test_an_address_gets_few_confirmation_mails(client, smtp):
    address = f"flood-{secrets.token_hex(3)}@airpur.example"
    for _ in range(5):
        assert subscribe(client, courriel=address, consentement="oui").status_code == 202
    deadline = time.monotonic() + 10
    while len(smtp.to(address, timeout=0)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the outbox sends in the background: a fourth would be there by now
    assert len(smtp.to(address, timeout=0)) == 3


def subscription(address: str, now: dt.datetime, **filters) -> alerts.Subscription:
    return alerts.Subscription(id=secrets.token_hex(16), email=address, created_at=now, state=alerts.CONFIRMED,
                               confirmed_at=now, cursor=now, salt=secrets.token_urlsafe(8), **filters)


def test_two_senders_at_once_send_each_news_once(bucket, smtp, catalogue_path, tmp_path):
    storage = S3Storage(bucket)
    config = {**defaults(), "SECRET_KEY": SECRET, "URL": "http://127.0.0.1:5000"}
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    calls = read(catalogue_path)
    alerts.notice(storage, calls.values(), start)  # the platform has seen the fixture calls
    tag = secrets.token_hex(3)
    people = [f"duo-{tag}-{n}@airpur.example" for n in range(24)]
    for address in people:
        alerts.save(storage, subscription(address, start), new=True)
    new = read(with_new_calls(catalogue_path, str(tmp_path / "c.json"), {"slug": f"duo-{tag}"}))
    now = dt.datetime.now(dt.timezone.utc)
    reports = []

    def run():
        reports.append(alerts.send_alerts(S3Storage(bucket), SMTPMailer("127.0.0.1", smtp.port, timeout=5),
                                          new.values(), config, now=now, threads=4))

    runners = [threading.Thread(target=run) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert sum(r.digests for r in reports) == len(people)
    for address in people:
        assert len(digests(smtp, address, timeout=5)) == 1, address


def test_one_bad_record_or_address_stops_no_one_else(bucket, smtp, catalogue_path, tmp_path):
    storage = S3Storage(bucket)
    config = {**defaults(), "SECRET_KEY": SECRET, "URL": "http://127.0.0.1:5000"}
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    calls = read(catalogue_path)
    alerts.notice(storage, calls.values(), start)
    fine = f"bien-{secrets.token_hex(3)}@airpur.example"
    alerts.save(storage, subscription(fine, start), new=True)
    alerts.save(storage, subscription(f"x@{Inbox.REFUSED_DOMAIN}", start), new=True)
    storage.put("alerts/subscribers/" + "b" * 32 + ".json", b'{"id": "not a subscription"')
    new = read(with_new_calls(catalogue_path, str(tmp_path / "d.json"), {"slug": f"bad-{secrets.token_hex(2)}"}))
    report = alerts.send_alerts(storage, SMTPMailer("127.0.0.1", smtp.port, timeout=5), new.values(), config,
                                now=dt.datetime.now(dt.timezone.utc))
    assert report.digests == 1 and len(report.failed) == 2
    assert len(digests(smtp, fine)) == 1


def test_purge_removes_unconfirmed_and_expired_follows(client, smtp, env, bucket):
    storage = S3Storage(bucket)
    now = dt.datetime.now(dt.timezone.utc)
    subscribe(client, courriel=f"jamais-{secrets.token_hex(3)}@airpur.example", consentement="oui")
    kept = subscription("reste@airpur.example", now)
    follows = dataclasses.replace(subscription("suit@airpur.example", now), follow=("challenge-donnees",))
    for s in (kept, follows):
        alerts.save(storage, s, new=True)
    soon = CliRunner().invoke(main, ["purge", "--dry-run"], env=env)
    assert "alerts/pending/" not in soon.output
    purged = CliRunner().invoke(main, ["purge", "--now", iso_in(4 * 86400)], env=env)
    assert purged.exit_code == 0, purged.output
    assert not list(storage.keys("alerts/pending/"))
    # challenge-donnees closed in May 2026: a year later its followers have nothing more to hear.
    remaining = sorted(storage.keys("alerts/subscribers/"))
    assert alerts.subscription_key(kept.id) in remaining
    assert (alerts.subscription_key(follows.id) in remaining) == (now < dt.datetime(2027, 6, 1, tzinfo=dt.timezone.utc))
