"""What a person sees before answering: the form of an open call, or a clear page otherwise."""

from __future__ import annotations

import re

import pytest

from formhelpers import catalogue_with, iso_in
from formservice import create_app


def test_form_page_shows_the_call_and_its_fields_in_the_theme(client):
    page = client.get("/appels/capteurs-air/repondre")
    assert page.status_code == 200
    html = page.text
    assert "Répondre : Capteurs de qualité de l&#39;air pour les écoles" in html
    assert "Métropole de Testville" in html
    assert "15 janvier 2027 à 12 h 00 (heure de Paris)" in html
    assert 'href="/theme/css/main.css"' in html and "Aller au contenu" in html
    assert '<label for="champ-siret">SIRET <span class="ap-required"' in html
    assert 'id="champ-siret-aide">14 chiffres' in html
    assert "Formats acceptés : PDF, OpenDocument texte, Word ; 5 Mo au maximum." in html
    assert 'accept=".pdf,.odt,.docx,' in html
    assert 'enctype="multipart/form-data"' in html and 'name="_csrf"' in html
    # Autofill purposes (WCAG 1.3.5): by type, and by the recommended field names.
    for name, purpose in (("raison_sociale", "organization"), ("email", "email"), ("telephone", "tel")):
        assert re.search(rf'<input [^>]*name="{name}"[^>]* autocomplete="{purpose}"', html), name
    assert not re.search(r'name="solution"[^>]*autocomplete', html)
    with client.get("/theme/css/main.css") as css:
        assert css.status_code == 200


def test_citizen_consultation_has_its_own_simpler_form(client):
    html = client.get("/appels/consultation-velo/repondre").text
    assert 'name="avis"' in html and 'name="commune"' in html
    assert re.search(r'<input [^>]*name="commune"[^>]* autocomplete="address-level2"', html)
    assert "siret" not in html.lower() and "raison_sociale" not in html


@pytest.mark.parametrize("slug, status, text", [
    ("nexiste-pas", 404, "Aucun appel publié ne porte cette adresse"),
    ("telesurveillance", 200, "Les réponses seront possibles à partir du <strong>10 janvier 2027 à 9 h 00"),
    ("reunion-information", 200, "avis d'information : elle n'appelle pas de réponse"),
    ("concours-hopital", 200, 'href="https://marches.example.org/consultation/1234"'),
    ("challenge-donnees", 200, "Cet appel est clos depuis le 31 mai 2026 à 23 h 59"),
])
def test_calls_that_cannot_be_answered_get_a_clear_page_and_no_form(client, slug, status, text):
    page = client.get(f"/appels/{slug}/repondre")
    assert page.status_code == status
    assert text in page.text
    assert "<form" not in page.text


def test_posting_to_a_call_that_is_not_open_is_refused(client):
    page = client.get("/appels/telesurveillance/repondre")
    refused = client.post("/appels/telesurveillance/repondre", data={"structure": "X"})
    assert page.status_code == 200 and refused.status_code in (400, 403)


def test_security_headers_on_every_page(client):
    for url in ("/appels/capteurs-air/repondre", "/appels/nexiste-pas/repondre", "/theme/css/main.css", "/healthz"):
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_samesite_and_secure_in_production(make_app):
    cookie = make_app().test_client().get("/appels/capteurs-air/repondre").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = make_app(SECURE_COOKIES=True).test_client().get("/appels/capteurs-air/repondre").headers["Set-Cookie"]
    assert "Secure" in secure and "HttpOnly" in secure


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("FORMSERVICE_ENV", "production")
    monkeypatch.delenv("FORMSERVICE_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="FORMSERVICE_SECRET_KEY"):
        create_app()
    monkeypatch.setenv("FORMSERVICE_SECRET_KEY", "from-the-environment")
    assert create_app().config["SECRET_KEY"] == "from-the-environment"


def test_healthz_reports_storage_reachability(client, make_app, monkeypatch, unused_endpoint):
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json["storage"] == "ok" and ok.json["calls"] == 7
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", unused_endpoint)
    down = make_app().test_client().get("/healthz")
    assert down.status_code == 503 and down.json["storage"] == "unreachable"


def test_a_newly_built_call_is_answerable_without_restart(make_app, catalogue_path, tmp_path):
    path = str(tmp_path / "calls.json")
    catalogue_with(catalogue_path, path, [{"from": "capteurs-air"}])
    client = make_app(CATALOGUE=path).test_client()
    assert client.get("/appels/nouvel-appel/repondre").status_code == 404
    catalogue_with(catalogue_path, path, [{"from": "capteurs-air"},
                                          {"from": "capteurs-air", "slug": "nouvel-appel", "title": "Un nouvel appel",
                                           "closes": iso_in(3600)}])
    page = client.get("/appels/nouvel-appel/repondre")
    assert page.status_code == 200 and "Un nouvel appel" in page.text


def test_healthz_fails_when_no_form_can_be_shown(make_app, tmp_path):
    (tmp_path / "templates").mkdir()
    broken = make_app(THEME=str(tmp_path)).test_client().get("/healthz")
    assert broken.status_code == 503 and broken.json["forms"] == "broken"
    assert make_app().test_client().get("/healthz").json == {
        "calls": 7, "catalogue": "ok", "forms": "ok", "recipients": "ok", "status": "ok", "storage": "ok"}
