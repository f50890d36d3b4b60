"""Build the fixture catalogue and check what the public sees: pages, listings, data files."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import feedparser
import icalendar
import jsonschema
import pytest
import referencing

from calls_cli.site import build_site

from .conftest import FIXTURE, FIXTURE_NOW, ROOT

SITE = "https://appels.example.org"
FORMS = "https://reponses.example.org"


def read(site_dir, path):
    with open(os.path.join(site_dir, path), encoding="utf-8") as handle:
        return handle.read()


def call_order(html):
    return re.findall(r'<a href="/appels/([a-z0-9-]+)/">', html)


def test_home_lists_open_calls_soonest_deadline_first_then_upcoming(site_dir):
    html = read(site_dir, "index.html")
    open_part, upcoming_part = html.split('id="a-venir"')
    assert call_order(open_part) == ["billettique-tram", "capteurs-air", "consultation-velo", "concours-hopital",
                                     "reunion-information"]
    assert call_order(upcoming_part.split('id="parcourir"')[0]) == ["telesurveillance"]
    assert "Archives : 1 appel clos</a>" in re.sub(r"</?span[^>]*>", "", html)
    assert "Date limite : 5 décembre 2026 à 18 h 00 (heure de Paris) – <strong>7 jours restants</strong>" in html
    assert "Appel à manifestation d&#39;intérêt" in html and "Transports de Testville" in html


def test_call_page_summary_box_body_documents_questions_amendments(site_dir):
    html = read(site_dir, "appels/capteurs-air/index.html")
    assert html.count("<h1") == 1
    assert "<h1>Capteurs de qualité de l&#39;air pour les écoles</h1>" in html
    for text in ("Appel à solutions", "Métropole de Testville", "Startups, PME", "Jusqu&#39;à 50 000 € HT par lauréat",
                 "2 novembre 2026 à 9 h 00 (heure de Paris)", "15 janvier 2027 à 12 h 00 (heure de Paris)",
                 "5 janvier 2027 à 12 h 00 (heure de Paris)", "<dt>Statut</dt><dd><span data-status-text>Ouvert</span>",
                 "Les écoles de Testville veulent <strong>mesurer</strong>",
                 "Les capteurs doivent-ils être connectés ?", "Oui, en LoRaWAN de préférence.",
                 "Date limite repoussée au 15 janvier."):
        assert text in html, text
    assert re.search(r'<a href="/appels/capteurs-air/cahier-des-charges.pdf">Cahier des charges</a> '
                     r'<span class="ap-muted">\(PDF, \d+ octets\)</span>', html)
    assert os.path.isfile(os.path.join(site_dir, "appels/capteurs-air/cahier-des-charges.pdf"))
    assert f'<a class="ap-button" href="{FORMS}/appels/capteurs-air/repondre">Répondre à l\'appel</a>' in html


def test_call_pages_offer_a_question_while_allowed_and_alerts(site_dir):
    html = read(site_dir, "appels/capteurs-air/index.html")
    assert f'<a class="ap-button ap-button--secondary" href="{FORMS}/appels/capteurs-air/question">Poser une question</a>' in html
    assert 'data-questions-until="2027-01-05T12:00:00+01:00"' in html
    assert f'href="{FORMS}/alertes?suivre=capteurs-air">Suivre cet appel par courriel</a>' in html
    for slug in ("challenge-donnees", "telesurveillance", "concours-hopital", "reunion-information"):
        assert "/question" not in read(site_dir, f"appels/{slug}/index.html"), slug  # closed, upcoming, elsewhere
    assert "suivre=" not in read(site_dir, "appels/challenge-donnees/index.html")
    assert f'href="{FORMS}/alertes?suivre=telesurveillance"' in read(site_dir, "appels/telesurveillance/index.html")
    assert f'<a href="{FORMS}/alertes">Recevoir les nouveaux appels par courriel</a>' in read(site_dir, "index.html")
    assert (f'<a href="{FORMS}/alertes?themes=mobilite">Recevoir ces appels par courriel</a>'
            in read(site_dir, "themes/mobilite/index.html"))


def test_call_page_json_ld(site_dir):
    html = read(site_dir, "appels/capteurs-air/index.html")
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "Demand"
    assert data["name"] == "Capteurs de qualité de l'air pour les écoles"
    assert data["validThrough"] == "2027-01-15T12:00:00+01:00"
    assert data["url"] == f"{SITE}/appels/capteurs-air/"


def test_procurement_call_links_to_the_tender_platform(site_dir):
    html = read(site_dir, "appels/concours-hopital/index.html")
    assert 'href="https://marches.example.org/consultation/1234"' in html
    assert "procédure de marché public" in html
    assert f"{FORMS}/appels/" not in html  # no answer form, no question form: the tender platform takes both


def test_closed_upcoming_and_notice_have_no_answer_button(site_dir):
    closed = read(site_dir, "appels/challenge-donnees/index.html")
    assert "Cet appel est clos depuis le 31 mai 2026 à 23 h 59 (heure de Paris)." in closed
    upcoming = read(site_dir, "appels/telesurveillance/index.html")
    assert "les réponses seront possibles à partir du <strong>10 janvier 2027 à 9 h 00 (heure de Paris)</strong>" in upcoming
    notice = read(site_dir, "appels/reunion-information/index.html")
    assert "Avis d'information : aucune réponse n'est attendue." in notice
    for html in (closed, upcoming, notice):
        assert "ap-button" not in html


def test_listings_per_type_theme_partner_and_archive(site_dir):
    assert call_order(read(site_dir, "types/ami/index.html")) == ["billettique-tram"]
    assert call_order(read(site_dir, "themes/mobilite/index.html")) == [
        "billettique-tram", "consultation-velo", "challenge-donnees"]
    assert call_order(read(site_dir, "partenaires/hopital/index.html")) == ["concours-hopital", "telesurveillance"]
    assert call_order(read(site_dir, "archives/index.html")) == ["challenge-donnees"]
    listing = read(site_dir, "themes/mobilite/index.html")
    assert ('<link rel="alternate" type="application/atom+xml" title="Thème : Mobilité (Atom)" '
            'href="/flux/themes/mobilite.atom">') in listing
    assert 'href="/agenda/themes/mobilite.ics"' in listing


def test_editorial_pages_plan_404_and_robots(site_dir):
    assert "<h1>À propos</h1>" in read(site_dir, "a-propos/index.html")
    plan = read(site_dir, "plan-du-site/index.html")
    assert 'href="/a-propos/"' in plan and 'href="/themes/sante/"' in plan
    assert "<h1>Page introuvable</h1>" in read(site_dir, "404.html")
    assert read(site_dir, "robots.txt").endswith(f"Sitemap: {SITE}/sitemap.xml\n")


def test_sitemap_lists_every_page(site_dir):
    root = ET.fromstring(read(site_dir, "sitemap.xml"))
    locs = {e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    assert f"{SITE}/appels/capteurs-air/" in locs
    assert f"{SITE}/a-propos/" in locs
    assert f"{SITE}/" in locs
    assert all(loc.startswith(SITE + "/") for loc in locs)


def test_calls_json_contract(site_dir):
    data = json.loads(read(site_dir, "api/calls.json"))
    calls = {c["slug"]: c for c in data["calls"]}
    assert len(calls) == 7
    c = calls["capteurs-air"]
    for key in ("slug", "title", "type", "partner", "themes", "status", "published", "opens", "closes", "url",
                "submit_url", "fields"):
        assert key in c
    assert c["status"] == "open"
    assert c["opens"] == "2026-11-02T09:00:00+01:00" and c["closes"] == "2027-01-15T12:00:00+01:00"
    assert c["url"] == f"{SITE}/appels/capteurs-air/"
    assert c["submit_url"] == f"{FORMS}/appels/capteurs-air/repondre"
    names = [f["name"] for f in c["fields"]]
    assert names[:3] == ["raison_sociale", "siret", "email"]
    dossier = next(f for f in c["fields"] if f["name"] == "dossier")
    assert dossier["accept"] == ["pdf", "odt", "docx"] and dossier["max_size_mb"] == 5
    assert calls["concours-hopital"]["external_url"] == "https://marches.example.org/consultation/1234"
    assert calls["concours-hopital"]["submit_url"] is None
    assert calls["telesurveillance"]["status"] == "upcoming"
    assert calls["telesurveillance"]["fields"][1] == {
        "name": "courriel", "label": "Courriel", "type": "email", "required": True, "help": "",
        "max_length": None, "choices": [], "accept": [], "max_size_mb": None, "min": None, "max": None, "step": None}
    assert calls["challenge-donnees"]["status"] == "closed"
    assert calls["reunion-information"]["closes"] is None and calls["reunion-information"]["submit_url"] is None


def test_atom_feeds_parse(site_dir):
    feed = feedparser.parse(read(site_dir, "flux/appels.atom"))
    assert not feed.bozo
    assert feed.feed.title.startswith("Tous les appels")
    assert len(feed.entries) == 7
    assert feed.entries[0].link.startswith(f"{SITE}/appels/")
    per_type = feedparser.parse(read(site_dir, "flux/types/consultation.atom"))
    assert [e.title for e in per_type.entries] == ["Consultation sur le plan vélo"]
    for kind, key in (("themes", "sante"), ("partenaires", "transports")):
        assert not feedparser.parse(read(site_dir, f"flux/{kind}/{key}.atom")).bozo


def test_a_feed_keeps_markup_characters_as_text(catalogue_copy, tmp_path):
    """Feeds are written directly (generator.opendata): a title with « & < > " ' » reads back as
    the text staff wrote, in a feed that parses."""
    call = catalogue_copy / "calls" / "capteurs-air" / "call.md"
    text = call.read_text(encoding="utf-8")
    title = 'title: "R&D <capteurs> \\"air\\" pour l\'école"'
    call.write_text(re.sub(r"(?m)^title: .*$", lambda _: title, text, count=1), encoding="utf-8")
    output = tmp_path / "out"
    assert build_site(str(catalogue_copy / "settings.py"), str(output), now="2026-11-28T12:00+01:00", search=False,
                      quiet=True) == 0
    feed = feedparser.parse((output / "flux" / "appels.atom").read_bytes())
    assert not feed.bozo
    assert 'R&D <capteurs> "air" pour l\'école' in [e.title for e in feed.entries]


def test_icalendar_deadlines_link_to_their_call(site_dir):
    with open(os.path.join(site_dir, "agenda/echeances.ics"), "rb") as handle:
        cal = icalendar.Calendar.from_ical(handle.read())
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert len(events) == 6  # the notice has no deadline
    event = events["Clôture : Capteurs de qualité de l'air pour les écoles"]
    assert event.decoded("dtstart").isoformat() == "2027-01-15T11:00:00+00:00"
    assert str(event["url"]) == f"{SITE}/appels/capteurs-air/"
    assert str(event["description"]) == (
        "Appel à solutions – Métropole de Testville\nDes capteurs fiables et sobres pour mesurer l'air intérieur "
        f"des écoles.\n{SITE}/appels/capteurs-air/")
    with open(os.path.join(site_dir, "agenda/echeances.ics"), "rb") as handle:
        assert max(len(line) for line in handle.read().split(b"\r\n")) <= 75
    with open(os.path.join(site_dir, "agenda/partenaires/hopital.ics"), "rb") as handle:
        assert len(icalendar.Calendar.from_ical(handle.read()).walk("VEVENT")) == 2


def test_ocds_package_is_valid_against_the_official_schema(site_dir):
    schemas = os.path.join(ROOT, "tests", "data", "ocds")
    with open(os.path.join(schemas, "release-schema.json")) as handle:
        release = json.load(handle)
    with open(os.path.join(schemas, "release-package-schema.json")) as handle:
        package_schema = json.load(handle)
    registry = referencing.Registry().with_resource(
        release["id"], referencing.Resource.from_contents(release, default_specification=referencing.jsonschema.DRAFT4))
    package = json.loads(read(site_dir, "api/ocds.json"))
    validator = jsonschema.Draft4Validator(package_schema, registry=registry,
                                           format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(package)] == []
    tenders = {r["tender"]["id"]: r for r in package["releases"]}
    assert tenders["capteurs-air"]["tender"]["status"] == "active"
    assert tenders["telesurveillance"]["tender"]["status"] == "planned"
    assert tenders["challenge-donnees"]["tender"]["status"] == "complete"
    assert tenders["reunion-information"]["tag"] == ["planning"]


def test_search_index_holds_every_call_its_words_and_its_card(site_dir):
    index = json.loads(read(site_dir, "recherche/index/index.json"))
    assert index["shards"] == [0] and "les" in index["stopwords"]
    shard = json.loads(read(site_dir, "recherche/index/0/appels.json"))
    assert len(shard["calls"]) == 7
    # "LoRaWAN" is in an answer of capteurs-air only; "capteurs" in its title (indexed without plural).
    [number] = json.loads(read(site_dir, "recherche/index/0/mots/lo.json"))["lorawan"][::2]
    card = json.loads(read(site_dir, f"recherche/index/0/fiches/{number // 16}.json"))[number % 16]
    assert card["url"] == "/appels/capteurs-air/" and card["closes_text"] == "15 janvier 2027 à 12 h 00 (heure de Paris)"
    postings = json.loads(read(site_dir, "recherche/index/0/mots/ca.json"))["capteur"]
    assert dict(zip(postings[::2], postings[1::2]))[number] > 8  # in the title: weighs more than the text
    type_, partner, themes, opens, closes = shard["calls"][number]
    assert shard["labels"]["partner"][partner] == "Métropole de Testville"
    assert [shard["labels"]["theme"][t] for t in themes] == ["Environnement"]
    assert closes == "2027-01-15T12:00:00+01:00"
    assert "recherche/index" not in read(site_dir, "index.html")  # only the search page reads the index


def test_pages_make_no_third_party_request_and_use_no_inline_script(site_dir):
    for folder, _, files in os.walk(site_dir):
        for name in files:
            if not name.endswith(".html"):
                continue
            html = read(site_dir, os.path.join(folder, name))
            for url in re.findall(r'<(?:script|link|img|iframe|source)\b[^>]*?(?:src|href)="([^"]+)"', html):
                assert url.startswith("/"), (name, url)
            for script in re.findall(r"<script\b([^>]*)>", html):
                assert "src=" in script or "application/ld+json" in script, (name, script)


def test_call_page_weighs_at_most_25_kb(site_dir):
    html = read(site_dir, "appels/capteurs-air/index.html")
    assets = re.findall(r'<(?:link rel="stylesheet"|script)[^>]*(?:href|src)="(/[^"]+)"', html)
    weight = len(html.encode()) + sum(os.path.getsize(os.path.join(site_dir, a.lstrip("/"))) for a in assets)
    assert weight <= 25 * 1024, weight


@pytest.fixture
def many_calls(catalogue_copy):
    """45 information notices, to see pagination at 20 per page."""
    for n in range(45):
        folder = catalogue_copy / "calls" / f"note-{n:02d}"
        folder.mkdir()
        (folder / "call.md").write_text(
            f"---\ntitle: Note {n}\ntype: avis-information\npartner: metropole\nsummary: Note.\n"
            f"published: 2026-01-{1 + n % 28:02d}\n---\nTexte.\n", encoding="utf-8")
    return catalogue_copy


def test_listings_are_paginated(many_calls, tmp_path):
    output = tmp_path / "out"
    assert build_site(str(many_calls / "settings.py"), str(output), now="2026-11-28T12:00+01:00",
                      search=False, quiet=True) == 0
    pages = [output / "types/avis-information/index.html", output / "types/avis-information/page/2/index.html",
             output / "types/avis-information/page/3/index.html"]
    counts = [len(call_order(p.read_text())) for p in pages]
    assert counts == [20, 20, 6]
    assert not (output / "types/avis-information/page/4").exists()
    first = pages[0].read_text()
    assert 'href="/types/avis-information/page/2/" rel="next"' in first
    assert "page 1 sur 3" in first


def test_rebuild_reads_changes_through_the_cache(catalogue_copy, tmp_path):
    settings, output = str(catalogue_copy / "settings.py"), str(tmp_path / "out")
    assert build_site(settings, output, now="2026-11-28T12:00+01:00", search=False, quiet=True) == 0
    assert (catalogue_copy / ".cache" / "calls.pickle").exists()
    call = catalogue_copy / "calls" / "capteurs-air" / "call.md"
    call.write_text(call.read_text().replace("title: Capteurs de qualité", "title: Nouveaux capteurs de qualité"))
    assert build_site(settings, output, now="2026-11-28T12:00+01:00", search=False, quiet=True) == 0
    assert "Nouveaux capteurs de qualité" in (tmp_path / "out/appels/capteurs-air/index.html").read_text()
    (catalogue_copy / "calls" / "capteurs-air" / "cahier-des-charges.pdf").unlink()
    assert build_site(settings, output, now="2026-11-28T12:00+01:00", search=False, quiet=True) == 1
    forms = catalogue_copy / "content" / "forms" / "entreprise.yaml"
    (catalogue_copy / "calls" / "capteurs-air" / "cahier-des-charges.pdf").write_bytes(b"%PDF-1.4\n")
    forms.write_text(forms.read_text().replace("label: SIRET", "label: Numéro SIRET"))
    assert build_site(settings, output, now="2026-11-28T12:00+01:00", search=False, quiet=True) == 0
    data = json.loads((tmp_path / "out/api/calls.json").read_text())
    fields = next(c for c in data["calls"] if c["slug"] == "capteurs-air")["fields"]
    assert fields[1]["label"] == "Numéro SIRET"


def test_a_site_built_for_a_sub_path_links_within_it(catalogue_copy, tmp_path):
    """A pull request's preview lives under a path (https://owner.github.io/repo/apercus/12/):
    every link, script and stylesheet of every page, and the editor, stays under it."""
    settings = catalogue_copy / "settings.py"
    settings.write_text(settings.read_text() + "SITE_ABSOLUTE_URL = 'https://rivebelle.github.io/appels/apercus/12'\n")
    output = tmp_path / "output"
    assert build_site(str(settings), str(output), now=FIXTURE_NOW, quiet=True) == 0
    prefix = "/appels/apercus/12/"
    for folder, _, files in os.walk(output):
        for name in files:
            if name.endswith(".html"):
                html = read(str(output), os.path.join(folder, name))
                for url in re.findall(r'(?:src|href|action|data-index)="(/[^"]*)"', html):
                    assert url.startswith(prefix), (name, url)
    page = read(str(output), "appels/capteurs-air/index.html")
    assert f'href="{prefix}theme/css/main.css"' in page
    assert "https://rivebelle.github.io/appels/apercus/12/appels/capteurs-air/" in read(str(output), "sitemap.xml")
