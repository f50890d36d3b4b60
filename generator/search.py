"""The static search index: our own, made from the calls themselves, read by theme/static/js/search.js.

Why not pagefind any more: it spent about 3.7 ms of CPU per call (26 s for 10,000 calls on two
cores), most of it on analysing text the search page never needed (excerpts, sub-results), and its
files needed rewriting to come out the same twice. The search page asks for little: the calls that
hold every word typed (as a word's beginning, so that "capt" finds "capteurs"), ranked by where the
words are, narrowed by type, theme, partner and status. That index is made here in about 0.3 ms per
call, and the same calls always give the same bytes.

Words are cut as the browser cuts them: runs of letters and digits, lower case, accents removed,
"œ" as "oe", a final "s" or "x" dropped from words of four letters or more (plurals), the commonest
French words left out (STOPWORDS). A call's words weigh by where they are: the title most, then
the summary, type, partner, themes, audiences and budget, then the text, documents and questions.

The calls are split into shards of at most SHARD_SIZE by a stable hash of the slug, so that a change
re-indexes the shards whose calls changed; with many calls to index, a forked child does it
(parallel.Background) while the build goes on. Each shard, in `recherche/index/<n>/`, holds:

- `appels.json`: for each call of the shard (in slug order: its number), its type, partner and
  themes (numbers into the shard's label lists) and its opening and closing instants, from which the
  page works out the status as of now, like every other page;
- `mots/<prefix>.json`: the words of the shard that begin with `<prefix>` (their first two
  letters), each with its postings: call number, weight, call number, weight...;
- `fiches/<n>.json`: what a result shows (title, address, summary, dates in words), BLOCK calls a file.

`recherche/index/index.json` lists the shards and the words left out. A search downloads the list,
each shard's `appels.json`, one word file per shard and per word typed, and the cards of the first
results; nothing else, and nothing from another host.
"""

from __future__ import annotations

import collections
import html
import json
import re
import unicodedata
import zlib

from callmodel import french, urls
from callmodel.schema import AUDIENCES, CALL_TYPES, Call

from .output import Output, key_of
from .parallel import Background, in_two, worth_it

ROOT = "recherche/index"
SHARD_SIZE = 640
BLOCK = 16  # result cards per file
TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"[^\W_]+")  # letters and digits, as /[\p{L}\p{N}]+/u in the browser
SHARD_FILE = re.compile(rf"^{ROOT}/(\d+)/")
# Where a word is: its weight for each time it is there (a word's weight is capped at MAX_WEIGHT).
TITLE, HEADER, TEXT, MAX_WEIGHT = 8, 3, 1, 255
# The commonest French words, left out of the index and of searches (as `normal` writes them).
COMMON = """au aux avec ce ces cet cette ceci cela comme dans de des du dont elle elles en entre et est été
être il ils je la le les leur leurs lui ma me même mes moi mon ne ni nos notre nous on ont ou par pas
peut plus pour qu que qui sa se ses si son sont sous sur ta te toi ton tu un une vos votre vous"""


def shard_count(calls: int) -> int:
    """A power of two, so that most calls stay in their shard when the catalogue grows."""
    count = 1
    while count * SHARD_SIZE < calls:
        count *= 2
    return count


def shard_of(slug: str, count: int) -> int:
    return zlib.crc32(slug.encode()) % count


def shards(slugs) -> dict[int, list[str]]:
    """The calls of each shard that has any, by shard number."""
    slugs = list(slugs)
    count = shard_count(len(slugs))
    found: dict[int, list[str]] = {}
    for slug in slugs:
        found.setdefault(shard_of(slug, count), []).append(slug)
    return dict(sorted(found.items()))


# -- words ------------------------------------------------------------------------------------------

def bare(word: str) -> str:
    """A lower-case word without accents or plural mark."""
    word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    word = word.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


STOPWORDS = frozenset(bare(w) for w in COMMON.split())


def normal(word: str) -> str:
    """A lower-case word as it is indexed and searched ("" for one left out); the same function as
    `normal` in search.js."""
    word = bare(word)
    return "" if len(word) < 2 or word in STOPWORDS else word


_words_of: dict[str, list[str]] = {}


def words_of(token: str) -> list[str]:
    """The indexed words of a lower-case token (text between spaces: "l'eau," gives ["eau"])."""
    found = _words_of.get(token)
    if found is None:
        found = _words_of[token] = [w for w in map(normal, WORD.findall(token)) if w]
    return found


def weigh(parts: list[tuple[str, int]]) -> tuple[tuple[str, ...], bytes]:
    """The words of texts, each text with its weight: (the words in order, their weights). Texts
    are cut at spaces first, and each token once (most come back in every call)."""
    weights: dict[str, int] = {}
    known, count = _words_of.get, weights.get
    for text, weight in parts:
        for token, times in collections.Counter(text.lower().split()).items():
            found = known(token)
            for word in found if found is not None else words_of(token):
                weights[word] = count(word, 0) + times * weight
    words = tuple(sorted(weights))
    values = [weights[w] for w in words]
    if values and max(values) > MAX_WEIGHT:
        values = [min(v, MAX_WEIGHT) for v in values]
    return words, bytes(values)


def prefix_file(word: str) -> str:
    """The file of the words that begin as `word` does (search.js: `prefixFile`)."""
    prefix = word[:2]
    if re.fullmatch(r"[a-z0-9]+", prefix):
        return prefix
    return "_" + "-".join(f"{ord(c):x}" for c in prefix)


def text_of(body_html: str) -> str:
    return html.unescape(TAG.sub(" ", body_html))


# -- records ----------------------------------------------------------------------------------------

class Record:
    """A call's search record, made when a shard that holds it is indexed (most are not)."""

    def __init__(self, key: bytes, make):
        self.key, self.make, self.made = key, make, None

    def value(self) -> dict:
        if self.made is None:
            self.made = self.make()
        return self.made


def record(call: Call, partner_name: str, themes: dict) -> dict:
    """What the index holds of a call: its words, its filters and dates, and its result card."""
    header = [call.summary, CALL_TYPES[call.type].label, partner_name, call.budget,
              *(AUDIENCES[a] for a in call.audiences), *(themes[t] for t in call.themes)]
    text = [text_of(call.body), *(d.title for d in call.documents),
            *(f"{q.question} {q.answer}" for q in call.questions), *(a.summary for a in call.amendments)]
    words, weights = weigh([(call.title, TITLE), ("\n".join(t for t in header if t), HEADER),
                            ("\n".join(t for t in text if t), TEXT)])
    card = {"url": "/" + urls.CALL.format(slug=call.slug), "title": call.title, "summary": call.summary,
            "opens_text": french.french_datetime(call.opens), "timezone": call.timezone}
    if call.closes:
        card["closes_text"] = french.french_datetime(call.closes)
    return {"type": CALL_TYPES[call.type].label, "partner": partner_name, "themes": [themes[t] for t in call.themes],
            "opens": call.opens.isoformat(), "closes": call.closes.isoformat() if call.closes else None,
            "card": card, "words": words, "weights": weights}


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def index_shard(records: list[dict]) -> dict[str, bytes]:
    """The files of one shard indexing `records` (in this order: the same records give the same bytes)."""
    labels: dict[str, dict[str, int]] = {"type": {}, "partner": {}, "theme": {}}

    def number(kind: str, label: str) -> int:
        return labels[kind].setdefault(label, len(labels[kind]))

    calls, postings = [], collections.defaultdict(list)
    for n, r in enumerate(records):
        calls.append([number("type", r["type"]), number("partner", r["partner"]),
                      [number("theme", t) for t in r["themes"]], r["opens"], r["closes"]])
        for word, weight in zip(r["words"], r["weights"]):
            postings[word] += (n, weight)
    chunks: dict[str, dict] = collections.defaultdict(dict)
    for word in sorted(postings):
        chunks[prefix_file(word)][word] = postings[word]
    files = {"appels.json": dumps({"labels": {k: list(v) for k, v in labels.items()}, "calls": calls})}
    files.update((f"mots/{name}.json", dumps(chunk)) for name, chunk in chunks.items())
    files.update((f"fiches/{start // BLOCK}.json", dumps([r["card"] for r in records[start:start + BLOCK]]))
                 for start in range(0, len(records), BLOCK))
    return files


def update(output: Output, records: dict[str, Record], previous: dict, *, keep: bool = False) -> Background:
    """Start indexing the shards whose records changed (the others' files are kept as they are):
    in a forked child when there are many calls to index, so that the rest of the build goes on
    meanwhile; `finish` waits for it.

    `records` maps each slug to its Record; `previous` is what `finish` returned last time (each
    shard's key); `keep`: send back the records made, for the next build of this process."""
    count = shard_count(len(records))
    files: dict[str, list[str]] = {}
    for path in output.previous:
        shard = SHARD_FILE.match(path)
        if shard:
            files.setdefault(shard.group(1), []).append(path)
    keys, todo = {}, []
    numbers = shards(records)
    for number, slugs in numbers.items():
        slugs.sort()
        folder = str(number)
        keys[folder] = key_of(count, [(slug, records[slug].key) for slug in slugs])
        if not (previous.get(folder) == keys[folder] and output.keep(files.get(folder, ()))):
            todo.append((folder, slugs))
    output.write(f"{ROOT}/index.json", dumps({"shards": list(numbers), "stopwords": sorted(STOPWORDS)}))

    def work():
        # The records not made yet (all of them in a new process; in `make serve`, the changed
        # calls'), on both cores when there are many; then each shard's files.
        pending = [slug for _, slugs in todo for slug in slugs if records[slug].made is None]
        for slug, value in zip(pending, in_two(lambda batch: [records[s].make() for s in batch], pending)):
            records[slug].made = value
        entries, written = {}, []
        for folder, slugs in todo:
            for name, data in sorted(index_shard([records[slug].value() for slug in slugs]).items()):
                path = f"{ROOT}/{folder}/{name}"
                if output.write(path, data):
                    written.append(path)
                entries[path] = output.files[path]
        return keys, entries, written, {slug: records[slug].made for slug in pending} if keep else {}

    return Background(work, fork=worth_it(sum(len(slugs) for _, slugs in todo)))


def finish(output: Output, records: dict[str, Record], job: Background) -> dict:
    """Wait for the index `update` started; record its files; return its shards' keys."""
    keys, entries, written, made = job.result()
    output.record(entries, written)
    for slug, value in made.items():
        records[slug].made = value
    return keys
