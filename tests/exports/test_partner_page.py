"""The page where a partner asks for a call's answers again: it hands out nothing but a single-use
link mailed to exports_to, folded per window, limited per day."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import openpyxl
import pytest
import time_machine

from formservice import create_app, delivery

ADDRESSES = ["achats@partenaire.example.com", "innovation@rivebelle.example.org"]


@pytest.fixture
def client_for(world, smtp):
    def make(**config):
        app = create_app({"SECRET_KEY": "export-page-secret", "CATALOGUE": world.path, "RECIPIENTS": world.recipients,
                          "CATALOGUE_CHECK_SECONDS": 0,
                          "SMTP_PORT": smtp.port, "WTF_CSRF_ENABLED": True,
                          "URL": "https://reponses.rivebelle.example", **config})
        return app.test_client()

    return make


def csrf(html: str) -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', html).group(1)


def link_mails(smtp, title: str, wait: float = 5) -> list:
    return smtp.wait_for(lambda to, m: m["Subject"] == f"Lien pour recevoir les réponses : {title}", wait)


def ask_for_link(client, slug):
    page = client.get(f"/appels/{slug}/export")
    assert page.status_code == 200
    return client.post(f"/appels/{slug}/export", data={"_csrf": csrf(page.text)})


def test_a_request_mails_a_single_use_link_to_the_recipients_only(world, storage, mailer, config, smtp,
                                                                  client_for, now):
    slug = world.call("page", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    record = world.submit(slug, now - dt.timedelta(days=2))
    client = client_for()
    page = client.get(f"/appels/{slug}/export")
    assert "innovation@" not in page.text and "***" not in page.text  # the page tells no address
    assert client.post(f"/appels/{slug}/export").status_code == 400  # no CSRF token
    refused = client.post(f"/appels/{slug}/export", data={"_csrf": csrf(page.text), "email": "pirate@evil.example"})
    assert refused.status_code == 400 and "Rien n'a été demandé" in refused.text

    sent = ask_for_link(client, slug)
    assert sent.status_code == 202 and "Si votre adresse est l'une de celles" in sent.text
    assert "innovation@" not in sent.text
    [(to, mail)] = link_mails(smtp, f"Appel [{slug}]")
    assert sorted(to) == ADDRESSES and "pirate@evil.example" not in str(mail)
    link = re.search(r"https://reponses\.rivebelle\.example(/appels/\S+)", mail.get_content()).group(1)
    assert list(storage.keys(f"{delivery.REQUESTS}/{slug}/")) == []  # a link, not an export yet

    assert ask_for_link(client, slug).status_code == 202  # asked again in the same half hour...
    assert len(link_mails(smtp, f"Appel [{slug}]", wait=0.5)) == 1  # ...folded into the same mail

    confirm = client.get(link)  # what a mail scanner's visit does: nothing
    assert confirm.status_code == 200 and "Recevoir les réponses par courriel" in confirm.text
    assert list(storage.keys(f"{delivery.REQUESTS}/{slug}/")) == []
    done = client.post(link, data={"_csrf": csrf(confirm.text)})
    assert done.status_code == 202 and "Envoi demandé" in done.text
    assert len(list(storage.keys(f"{delivery.REQUESTS}/{slug}/"))) == 1
    used = client.post(link, data={"_csrf": csrf(confirm.text)})
    assert used.status_code == 410 and "Ce lien a déjà servi" in used.text
    assert client.get(link).status_code == 410

    report = delivery.send_exports(storage, mailer, world.calls, config, now=now)
    assert report.ok, report.failed
    [(to, message)] = [m for m in smtp.about(slug, wait=5) if "export demandé" in m[1]["Subject"]]
    assert sorted(to) == ADDRESSES
    [xlsx] = [p.get_content() for p in message.iter_attachments() if p.get_filename().endswith(".xlsx")]
    assert record.number in [r[0] for r in openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True)]
    assert list(storage.keys(f"{delivery.REQUESTS}/{slug}/")) == []


def test_forged_and_expired_links_do_nothing(world, storage, smtp, client_for, now):
    slug = world.call("faux", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    client = client_for()
    assert client.get(f"/appels/{slug}/export/pas-un-jeton").status_code == 404
    ask_for_link(client, slug)
    [(_, mail)] = link_mails(smtp, f"Appel [{slug}]")
    link = re.search(r"https://reponses\.rivebelle\.example(/appels/\S+)", mail.get_content()).group(1)
    assert client.get(link.replace(slug, world.call("autre", opens=now - dt.timedelta(days=3),
                                                    closes=now - dt.timedelta(days=1)))).status_code == 404
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1, minutes=1)):
        expired = client.get(link)
    assert expired.status_code == 410 and "Ce lien a expiré" in expired.text
    assert list(storage.keys(f"{delivery.REQUESTS}/{slug}/")) == []


def test_exports_by_link_are_limited_per_day(world, storage, smtp, client_for, now, monkeypatch):
    slug = world.call("limite", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    client = client_for(EXPORT_REQUEST_LIMIT=1)
    codes = []
    for minutes in (0, 31):  # two windows, two links (the service's clock moved, not the storage's)
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
        monkeypatch.setattr("formservice.partner_exports.now", lambda: later)
        ask_for_link(client, slug)
        deadline = time.monotonic() + 5
        while len(mails := link_mails(smtp, f"Appel [{slug}]", wait=0)) < len(codes) + 1:
            assert time.monotonic() < deadline, "no link mail"
            time.sleep(0.05)
        link = re.search(r"https://reponses\.rivebelle\.example(/appels/\S+)", mails[-1][1].get_content()).group(1)
        page = client.get(link)
        codes.append(client.post(link, data={"_csrf": csrf(page.text)}).status_code)
    assert codes == [202, 429]
    assert len(list(storage.keys(f"{delivery.REQUESTS}/{slug}/"))) == 1


def test_sealed_call_sends_nothing(world, storage, smtp, client_for, now):
    slug = world.call("ouvert", opens=now - dt.timedelta(days=3), closes=now + dt.timedelta(days=3))
    client = client_for()
    page = client.get(f"/appels/{slug}/export")
    assert "Les réponses sont scellées jusqu" in page.text
    assert client.post(f"/appels/{slug}/export", data={"_csrf": "x"}).status_code in (400, 403)
    assert link_mails(smtp, f"Appel [{slug}]", wait=0.5) == []


def test_the_final_export_mail_links_to_the_export_page(world, storage, mailer, config, smtp, now):
    slug = world.call("final-lien", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(hours=1))
    world.submit(slug, now - dt.timedelta(days=2))
    assert delivery.send_exports(storage, mailer, world.calls, {**config, "URL": "https://r.example"}, now=now).ok
    [(_, message)] = smtp.about(slug, wait=5)
    assert f"https://r.example/appels/{slug}/export" in message.get_body(("plain",)).get_content()
