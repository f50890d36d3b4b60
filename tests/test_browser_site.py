"""The public site in a real Chromium: search, filters, keyboard, and axe-core on every kind of page."""

from __future__ import annotations

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from calls_cli.site import build_site
from generator import search

from .conftest import FIXTURE_NOW, FIXTURE_SETTINGS
from .servers import static_site

AXE = Axe()


@pytest.fixture(scope="session")
def base_url(site_url):
    return site_url


def search_for(page, words: str) -> None:
    page.get_by_label("Mots-clés").fill(words)
    page.get_by_role("button", name="Rechercher").click()


def test_search_finds_a_call(page, base_url):
    page.goto(f"{base_url}/recherche/")
    search_for(page, "LoRaWAN")
    expect(page.get_by_role("status")).to_have_text("1 appel trouvé.")
    results = page.locator("#ap-search-results a")
    expect(results).to_have_count(1)
    expect(results.first).to_have_text("Capteurs de qualité de l'air pour les écoles")
    results.first.click()
    expect(page).to_have_url(f"{base_url}/appels/capteurs-air/")


def test_a_filter_narrows_the_results(page, base_url):
    page.goto(f"{base_url}/recherche/")
    page.get_by_label("Thème").select_option("Mobilité")
    expect(page.get_by_role("status")).to_have_text("3 appels trouvés.")
    page.get_by_label("Statut").select_option("Ouvert")
    expect(page.get_by_role("status")).to_have_text("2 appels trouvés.")
    titles = sorted(page.locator("#ap-search-results h2").all_inner_texts())
    assert titles == ["Billettique sans contact dans le tramway", "Consultation sur le plan vélo"]
    assert "theme=Mobilit" in page.url and "status=Ouvert" in page.url


def test_a_slower_earlier_search_does_not_overwrite_a_later_one(page, base_url):
    def slow(route):
        page.wait_for_timeout(1500)
        route.continue_()

    # The first search (the words "capteurs connectés") waits for its word file; the second
    # (a theme, no word) needs none and ends first.
    page.route("**/recherche/index/0/mots/ca.json", slow)
    page.goto(f"{base_url}/recherche/")
    search_for(page, "capteurs connectés")
    page.get_by_label("Mots-clés").fill("")
    page.get_by_label("Thème").select_option("Mobilité")
    expect(page.get_by_role("status")).to_have_text("3 appels trouvés.")
    page.wait_for_timeout(2000)  # the first search's slow answer has come back by now
    expect(page.get_by_role("status")).to_have_text("3 appels trouvés.")
    expect(page.locator("#ap-search-results h2")).to_have_count(3)


def test_search_finds_words_without_their_accents_plural_or_ending(page, base_url):
    page.goto(f"{base_url}/recherche/")
    for query in ("ECOLES capteur", "écoles capt", "capteurs qualite AIR"):
        search_for(page, query)
        expect(page.get_by_role("status")).to_have_text("1 appel trouvé.")
        expect(page.locator("#ap-search-results a")).to_have_text("Capteurs de qualité de l'air pour les écoles")
    search_for(page, "capteurs zeppelin")  # every word must be there
    expect(page.get_by_role("status")).to_have_text("Aucun appel ne correspond à votre recherche.")


def test_search_page_without_javascript_offers_the_listings(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/recherche/")
    expect(page.get_by_label("Mots-clés")).to_be_hidden()
    page.get_by_role("link", name="Mobilité (3)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thème : Mobilité")
    context.close()


def test_keyboard_reaches_the_answer_button(page, base_url):
    page.goto(f"{base_url}/appels/capteurs-air/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        if focused == "Répondre à l'appel":
            break
    else:
        pytest.fail("the answer button was not reached with Tab")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    assert href == "https://reponses.example.org/appels/capteurs-air/repondre"


@pytest.mark.parametrize("path", [
    "/", "/themes/mobilite/", "/appels/capteurs-air/", "/appels/challenge-donnees/", "/recherche/",
    "/a-propos/", "/404.html", "/plan-du-site/", "/donnees-ouvertes/"])
def test_axe_reports_no_violation(page, base_url, path):
    page.goto(f"{base_url}{path}")
    if path == "/recherche/":
        search_for(page, "capteurs")
        expect(page.get_by_role("status")).not_to_have_text("")
    violations = AXE.run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_a_page_built_before_the_deadline_says_closed_once_it_has_passed(page, base_url):
    page.clock.install(time="2027-01-15T11:00:01Z")  # 12:00:01 in Paris, one second late
    page.goto(f"{base_url}/appels/capteurs-air/")
    answer = page.locator(".ap-answer")
    expect(answer).to_contain_text("Cet appel est clos depuis le 15 janvier 2027 à 12 h 00 (heure de Paris).")
    expect(answer.get_by_role("link")).to_have_count(0)


def test_before_the_deadline_the_answer_button_stays(page, base_url):
    page.clock.install(time="2027-01-15T10:59:00Z")
    page.goto(f"{base_url}/appels/capteurs-air/")
    expect(page.get_by_role("link", name="Répondre à l'appel")).to_be_visible()


# Statuses between builds: the fixture is built on 28 November 2026 at noon; billettique-tram
# closes on 5 December at 18:00 and telesurveillance opens on 10 January 2027 at 9:00.
CLOSED_TRAM = "2026-12-05T17:00:01Z"
OPENED_TELESURVEILLANCE = "2027-01-10T08:00:30Z"


def test_a_call_page_built_before_its_deadline_says_closed_everywhere_after_it(page, base_url):
    page.clock.install(time=CLOSED_TRAM)
    page.goto(f"{base_url}/appels/billettique-tram/")
    expect(page.locator(".ap-call__kicker .ap-tag")).to_have_text("Clos")
    expect(page.locator("[data-status-text]")).to_have_text("Clos")
    answer = page.locator(".ap-answer")
    expect(answer).to_contain_text("Cet appel est clos depuis le 5 décembre 2026 à 18 h 00 (heure de Paris).")
    expect(answer.get_by_role("link")).to_have_count(0)


def test_the_home_page_and_listings_drop_a_call_once_it_has_closed(page, base_url):
    page.clock.install(time=CLOSED_TRAM)
    page.goto(f"{base_url}/")
    open_list = page.locator('[data-list="open"]')
    expect(open_list.get_by_role("link", name="Billettique sans contact dans le tramway")).to_be_hidden()
    expect(page.get_by_role("heading", name="Appels ouverts (4)")).to_be_visible()
    expect(page.get_by_role("link", name="Archives : 2 appels clos")).to_be_visible()
    page.goto(f"{base_url}/appels/")
    expect(page.get_by_role("link", name="Billettique sans contact dans le tramway")).to_be_hidden()
    expect(page.locator("main")).to_contain_text("4 appels.")
    page.goto(f"{base_url}/types/ami/")
    card = page.locator(".ap-card", has_text="Billettique sans contact dans le tramway")
    expect(card.locator(".ap-tag")).to_have_text("Clos")
    expect(card.locator(".ap-card__deadline")).to_have_text("Clos le 5 décembre 2026 à 18 h 00 (heure de Paris)")


def test_an_upcoming_call_opens_by_itself(page, base_url):
    page.clock.install(time=OPENED_TELESURVEILLANCE)
    page.goto(f"{base_url}/appels/telesurveillance/")
    expect(page.locator(".ap-call__kicker .ap-tag")).to_have_text("Ouvert")
    answer = page.get_by_role("link", name="Répondre à l'appel")
    expect(answer).to_have_attribute("href", "https://reponses.example.org/appels/telesurveillance/repondre")
    expect(page.locator(".ap-answer")).to_contain_text("(90 jours restants)")
    page.goto(f"{base_url}/")
    moved = page.locator('[data-list="open"]').get_by_role("link", name="Télésurveillance")
    expect(moved).to_be_visible()
    expect(page.get_by_role("heading", name="Appels à venir (0)")).to_be_visible()


def test_search_results_show_the_status_as_of_now(page, base_url):
    page.clock.install(time="2027-01-15T11:00:01Z")  # capteurs-air closed one second ago
    page.goto(f"{base_url}/recherche/")
    search_for(page, "LoRaWAN")
    result = page.locator("#ap-search-results .ap-card")
    expect(result.locator(".ap-tag")).to_have_text("Clos")
    expect(result.locator(".ap-card__deadline")).to_have_text("Clos le 15 janvier 2027 à 12 h 00 (heure de Paris)")


def test_without_javascript_a_page_says_when_its_status_was_computed(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for path in ("/appels/capteurs-air/", "/", "/appels/"):
        page.goto(f"{base_url}{path}")
        # What the page shows (Playwright's text assertions pass over <noscript>).
        assert "(statut au 28 novembre 2026 à 12 h 00 (heure de Paris))" in page.locator("main").inner_text(), path
    context.close()


@pytest.fixture(scope="module")
def sharded_site_url(tmp_path_factory):
    """The fixture catalogue with its search index in shards of two calls (as a large catalogue's)."""
    saved, search.SHARD_SIZE = search.SHARD_SIZE, 2
    try:
        output = str(tmp_path_factory.mktemp("sharded") / "output")
        assert build_site(FIXTURE_SETTINGS, output, now=FIXTURE_NOW, quiet=True) == 0
    finally:
        search.SHARD_SIZE = saved
    assert len(os.listdir(os.path.join(output, "recherche", "index"))) >= 3  # index.json and shards
    with static_site(output) as url:
        yield url


def test_search_reads_every_shard_of_a_large_catalogue(page, sharded_site_url):
    page.goto(f"{sharded_site_url}/recherche/")
    search_for(page, "LoRaWAN")
    expect(page.get_by_role("status")).to_have_text("1 appel trouvé.")
    page.get_by_label("Mots-clés").fill("")
    page.get_by_label("Thème").select_option("Mobilité")
    expect(page.get_by_role("status")).to_have_text("3 appels trouvés.")
