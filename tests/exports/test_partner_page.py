"""The page where a partner asks for an export again: CSRF, exports_to only, masked, rate-limited."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest

from formservice import create_app, delivery


@pytest.fixture
def client_for(world, smtp):
    def make(**config):
        app = create_app({"SECRET_KEY": "export-page-secret", "CATALOGUE": world.path, "CATALOGUE_CHECK_SECONDS": 0,
                          "SMTP_PORT": smtp.port, "WTF_CSRF_ENABLED": True, **config})
        return app.test_client()

    return make


def csrf(html: str) -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', html).group(1)


def test_request_goes_to_exports_to_only(world, storage, mailer, config, smtp, client_for, now):
    slug = world.call("page", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    record = world.submit(slug, now - dt.timedelta(days=2))
    client = client_for()
    page = client.get(f"/appels/{slug}/export")
    assert page.status_code == 200
    assert "i***@rivebelle.example.org" in page.text and "a***@partenaire.example.com" in page.text
    assert "innovation@" not in page.text and "achats@" not in page.text

    assert client.post(f"/appels/{slug}/export").status_code == 400  # no CSRF token
    refused = client.post(f"/appels/{slug}/export", data={"_csrf": csrf(page.text), "email": "pirate@evil.example"})
    assert refused.status_code == 400 and "Aucun export n'a été demandé" in refused.text
    assert list(storage.keys(f"{delivery.REQUESTS}/{slug}/")) == []

    done = client.post(f"/appels/{slug}/export", data={"_csrf": csrf(page.text)})
    assert done.status_code == 202
    assert "Export demandé" in done.text and "i***@rivebelle.example.org" in done.text
    assert "innovation@rivebelle" not in done.text

    report = delivery.send_exports(storage, mailer, world.calls, config, now=now)
    assert report.ok, report.failed
    [(to, message)] = [m for m in smtp.about(slug, wait=5) if "export demandé" in m[1]["Subject"]]
    assert sorted(to) == ["achats@partenaire.example.com", "innovation@rivebelle.example.org"]
    assert "pirate@evil.example" not in str(message)
    [xlsx] = [p.get_content() for p in message.iter_attachments() if p.get_filename().endswith(".xlsx")]
    assert record.number in [r[0] for r in openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True)]
    assert list(storage.keys(f"{delivery.REQUESTS}/{slug}/")) == []


def test_requests_are_rate_limited(world, client_for, now):
    slug = world.call("limite", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    client = client_for(EXPORT_REQUEST_LIMIT=2)
    token = csrf(client.get(f"/appels/{slug}/export").text)
    codes = [client.post(f"/appels/{slug}/export", data={"_csrf": token}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    again = client.post(f"/appels/{slug}/export", data={"_csrf": token})
    assert "déjà été demandé 2 fois aujourd'hui" in again.text


def test_sealed_call_sends_nothing(world, storage, client_for, now):
    slug = world.call("ouvert", opens=now - dt.timedelta(days=3), closes=now + dt.timedelta(days=3))
    client = client_for()
    page = client.get(f"/appels/{slug}/export")
    assert "Les réponses sont scellées jusqu" in page.text
    assert client.post(f"/appels/{slug}/export", data={"_csrf": "x"}).status_code in (400, 403)
    assert list(storage.keys(f"{delivery.REQUESTS}/{slug}/")) == []
