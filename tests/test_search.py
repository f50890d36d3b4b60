"""The search index (generator/search.py): words cut as the page cuts them, weighed by where they
are, the same bytes for the same calls, and the page's own cutting (search.js) the same as ours."""

from __future__ import annotations

import json

import pytest

from generator import search

TRICKY = ("Écoles ÉCOLE écoles, cœurs Œuvre eaux PRIX ﬁbre naïve façades Straße l'eau co-construction "
          "2027-01-15 données ÉTÉ à x_y Ⅻ LoRaWAN's «guillemets» naïvement n°3 1er")


def indexed(text: str) -> list[str]:
    """The words of `text` as the index holds them, in order."""
    return [w for w in map(search.normal, search.WORD.findall(text.lower())) if w]


def test_words_lose_case_accents_plural_and_the_commonest_words():
    assert indexed("Les Écoles et l'eau des façades") == ["ecole", "eau", "facade"]
    assert indexed("capteurs capteur CAPTEURS") == ["capteur"] * 3
    assert indexed("cœur Œuvre Straße") == ["coeur", "oeuvre", "strasse"]
    assert indexed("bus gaz eaux prix") == ["bus", "gaz", "eau", "pri"]  # the same cut for a query
    assert indexed("x_y a 2027") == ["2027"]  # one letter is no word; "_" cuts


def test_a_word_weighs_by_where_it_is():
    words, weights = search.weigh([("Capteurs", search.TITLE), ("capteur résumé", search.HEADER),
                                   ("capteurs capteurs texte", search.TEXT)])
    weight = dict(zip(words, weights))
    assert weight == {"capteur": 8 + 3 + 2, "resume": 3, "texte": 1}
    words, weights = search.weigh([(" ".join(["eau"] * 500), search.HEADER)])
    assert list(weights) == [search.MAX_WEIGHT]


def test_the_same_records_give_the_same_bytes_and_cards_in_blocks():
    records = [{"type": "Challenge", "partner": f"P{n % 3}", "themes": ["Santé"] * (n % 2),
                "opens": "2026-11-01T00:00:00+01:00", "closes": None, "card": {"title": f"Appel {n}"},
                "words": ("appel", f"mot{n}"), "weights": bytes([8, 1])} for n in range(40)]
    files = search.index_shard(records)
    assert files == search.index_shard([dict(r) for r in records])
    assert sorted(n for n in files if n.startswith("fiches/")) == ["fiches/0.json", "fiches/1.json", "fiches/2.json"]
    assert json.loads(files["fiches/2.json"])[3] == {"title": "Appel 35"}
    postings = json.loads(files["mots/ap.json"])["appel"]
    assert postings[::2] == list(range(40)) and set(postings[1::2]) == {8}
    shard = json.loads(files["appels.json"])
    assert shard["labels"]["partner"] == ["P0", "P1", "P2"] and shard["calls"][4][:3] == [0, 1, []]


def test_a_word_file_name_is_safe_for_any_letter():
    assert search.prefix_file("capteur") == "ca"
    assert search.prefix_file("2027") == "20"
    assert search.prefix_file("ωmega") == "_3c9-6d"


@pytest.fixture(scope="session")
def base_url(site_url):
    return site_url


def test_the_page_cuts_words_as_the_index_does(page, base_url):
    page.goto(f"{base_url}/recherche/")
    got = page.evaluate("""async ([url, text, stopwords]) => {
        const m = await import(url);
        const words = m.wordsOf(text, new Set(stopwords));
        return [words, words.map(m.prefixFile)];
    }""", [f"{base_url}/theme/js/search.js", TRICKY, sorted(search.STOPWORDS)])
    assert got == [indexed(TRICKY), [search.prefix_file(w) for w in indexed(TRICKY)]]
