"""The static search index: pagefind, fed through its indexing API with one record per call.

Pagefind gets the text of each call from the call itself (title, summary, what the page says in
short, body, documents, questions), never by parsing the 10,000 pages of the site: the pages carry
no search markup, and pagefind's time is spent on calls alone. Its cost grows with the text it
indexes (about 3 ms of CPU per call here), so the index is split into shards of at most
SHARD_SIZE calls, each a pagefind bundle, by a stable hash of the slug: a change re-indexes the
shards whose calls changed (half a second for one), and a full build indexes the shards on both
cores. The search page merges the shards in the browser (`mergeIndex`), with the first bundle's
code and WebAssembly for all of them, once a search starts; a catalogue of up to SHARD_SIZE calls
has one bundle, in `pagefind/`, and a shard without calls none.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import re
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor

from callmodel import french, urls
from callmodel.schema import AUDIENCES, CALL_TYPES, STATUSES, Call

from .output import Output, key_of
from .parallel import cores

ROOT = "pagefind"
SHARD_SIZE = 160
# Pagefind's ready-made interfaces: our search page has its own.
UNUSED = re.compile(r"^pagefind-(?:ui|modular-ui|component-ui|highlight)\.")
# Pagefind's code: the first bundle's serves every shard merged into it (one download).
CODE = re.compile(r"^(?:pagefind\.js|pagefind-worker\.js|wasm\.[a-z-]+\.pagefind)$")
TAG = re.compile(r"<[^>]+>")
SHARD_FILE = re.compile(rf"^({ROOT}/\d+)/")  # a file of a shard other than the first
LANGUAGE = "fr"


class SearchIndexFailed(RuntimeError):
    """pagefind could not index the calls; its message says why."""


def shard_count(calls: int) -> int:
    """A power of two, so that most calls stay in their shard when the catalogue grows."""
    count = 1
    while count * SHARD_SIZE < calls:
        count *= 2
    return count


def shard_of(slug: str, count: int) -> int:
    return zlib.crc32(slug.encode()) % count


def shard_folder(number: int) -> str:
    return ROOT if number == 0 else f"{ROOT}/{number}"


def shards(slugs) -> dict[int, list[str]]:
    """The calls of each shard that has any, by shard number."""
    slugs = list(slugs)
    count = shard_count(len(slugs))
    found: dict[int, list[str]] = {}
    for slug in slugs:
        found.setdefault(shard_of(slug, count), []).append(slug)
    return dict(sorted(found.items()))


def bundles(slugs, base: str = "") -> list[str]:
    """The addresses of the bundles for the search page: the first loads pagefind, the others are
    merged into it."""
    return [f"{base}/{shard_folder(n)}/" for n in shards(slugs)]


def text_of(body_html: str) -> str:
    return html.unescape(TAG.sub(" ", body_html))


class Record:
    """A call's search record, made when a shard that holds it is indexed (most are not)."""

    def __init__(self, key: bytes, make):
        self.key, self.make, self.made = key, make, None

    def value(self) -> dict:
        if self.made is None:
            self.made = self.make()
        return self.made


def record(call: Call, status: str, partner_name: str, themes: dict, deadline: str) -> dict:
    """What pagefind indexes of a call: its words, what a result shows, and its filters."""
    words = [call.title, call.summary, CALL_TYPES[call.type].label, partner_name,
             *(AUDIENCES[a] for a in call.audiences), *(themes[t] for t in call.themes), call.budget,
             text_of(call.body), *(d.title for d in call.documents),
             *(f"{q.question} {q.answer}" for q in call.questions), *(a.summary for a in call.amendments)]
    meta = {"title": call.title, "summary": call.summary, "deadline": deadline, "opens": call.opens.isoformat(),
            "opens_text": french.french_datetime(call.opens), "timezone": call.timezone}
    if call.closes:
        meta.update(closes=call.closes.isoformat(), closes_text=french.french_datetime(call.closes))
    return {"url": "/" + urls.CALL.format(slug=call.slug), "content": "\n".join(w for w in words if w),
            "language": LANGUAGE, "meta": meta, "sort": None,
            "filters": {"type": [CALL_TYPES[call.type].label], "partner": [partner_name],
                        "theme": [themes[t] for t in call.themes], "status": [STATUSES[status]]}}


class Service:
    """One `pagefind --service` process: base64 JSON messages, each ended by a comma."""

    def __init__(self):
        from pagefind_bin import get_executable

        self.process = subprocess.Popen([str(get_executable()), "--service"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        self.buffer = b""
        self.number = 0

    def send(self, payloads: list[dict]) -> list[dict]:
        messages = []
        for payload in payloads:
            self.number += 1
            messages.append(base64.b64encode(json.dumps({"message_id": self.number, "payload": payload}).encode()))
        self.process.stdin.write(b",".join(messages) + b",")
        self.process.stdin.flush()
        answers = [self.receive() for _ in payloads]
        failed = [a["message"] for a in answers if a.get("type") == "Error"]
        if failed:
            raise SearchIndexFailed(f"search index failed: {failed[0]}")
        return answers

    def receive(self) -> dict:
        while b"," not in self.buffer:
            chunk = self.process.stdout.read1(1 << 20)
            if not chunk:
                raise SearchIndexFailed("search index failed: pagefind stopped")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b",", 1)
        return json.loads(base64.b64decode(message))["payload"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.stdout.close()
        self.process.wait()


def index_shard(records: list[dict]) -> dict[str, bytes]:
    """The files of one bundle indexing `records` (in this order: the same records give the same bytes)."""
    service = Service()
    try:
        [created] = service.send([{"type": "NewIndex", "config": {"force_language": LANGUAGE}}])
        index = created["index_id"]
        if records:
            service.send([{"type": "AddRecord", "index_id": index, **r} for r in records])
        [files] = service.send([{"type": "GetFiles", "index_id": index}])
    finally:
        service.close()
    return canonical({f["path"]: base64.b64decode(f["content"]) for f in files["files"] if not UNUSED.match(f["path"])})


# -- one bundle's bytes, the same for the same records ------------------------------------------
# Pagefind writes each filter's values, and the filters in its metadata, in the order of a Rust
# HashMap, which changes from one run to the next: the same records gave other bytes. The values and
# filters are put in order here, and the files they change renamed after their new hash (as
# pagefind names them: the SHA-1 of the CBOR body, after the "pagefind_dcd" signature).

SIGNATURE = b"pagefind_dcd"


def _cbor_read(data: bytes, at: int = 0):
    """The CBOR item at `at` (the unsigned integers, texts and arrays pagefind writes) and where it ends."""
    major, info = data[at] >> 5, data[at] & 31
    at += 1
    if info < 24:
        value = info
    else:
        size = 1 << (info - 24)
        value, at = int.from_bytes(data[at:at + size], "big"), at + size
    if major == 0:
        return value, at
    if major == 3:
        return data[at:at + value].decode("utf-8"), at + value
    if major == 4:
        items = []
        for _ in range(value):
            item, at = _cbor_read(data, at)
            items.append(item)
        return items, at
    raise SearchIndexFailed(f"search index: unexpected CBOR item {major} in pagefind's output")


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError(value)


def _cbor(item) -> bytes:
    if isinstance(item, int):
        return _cbor_head(0, item)
    if isinstance(item, str):
        data = item.encode("utf-8")
        return _cbor_head(3, len(data)) + data
    return _cbor_head(4, len(item)) + b"".join(map(_cbor, item))


def _unpack(data: bytes):
    body = gzip.decompress(data)
    assert body.startswith(SIGNATURE)
    return _cbor_read(body, len(SIGNATURE))[0]


def _pack(item) -> tuple[bytes, str]:
    body = _cbor(item)
    return gzip.compress(SIGNATURE + body, mtime=0), hashlib.sha1(body).hexdigest()


def canonical(files: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle with its filters in order, renamed and referred to by their new hashes."""
    files = dict(files)
    renamed = {}
    for name in [n for n in files if n.startswith("filter/")]:
        language = name[len("filter/"):].split("_", 1)[0]
        filter_name, values = _unpack(files.pop(name))
        data, digest = _pack([filter_name, sorted(values, key=lambda v: v[0])])
        files[f"filter/{language}_{digest[:7]}.pf_filter"] = data
        renamed[name[len("filter/"):-len(".pf_filter")]] = f"{language}_{digest[:7]}"
    entry = json.loads(files["pagefind-entry.json"])
    for name in [n for n in files if n.endswith(".pf_meta")]:
        meta = _unpack(files.pop(name))
        meta[3] = sorted([filter_name, renamed.get(hash_, hash_)] for filter_name, hash_ in meta[3])
        data, digest = _pack(meta)
        old = name[len("pagefind."):-len(".pf_meta")]
        language = old.split("_", 1)[0]
        files[f"pagefind.{language}_{digest[:10]}.pf_meta"] = data
        for info in entry["languages"].values():
            if info["hash"] == old:
                info["hash"] = f"{language}_{digest[:10]}"
    files["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    return files


def update(output: Output, records: dict[str, Record], previous: dict) -> dict:
    """Index the shards whose records changed and keep the others' files as they are.

    `records` maps each slug to its Record; `previous` is what this returned last time (each
    shard's key). Returns the keys of this build's shards."""
    count = shard_count(len(records))
    files: dict[str, list[str]] = {}
    for path in output.previous:
        if path.startswith(ROOT + "/"):
            shard = SHARD_FILE.match(path)
            files.setdefault(shard.group(1) if shard else ROOT, []).append(path)
    keys, todo = {}, []
    for position, (number, slugs) in enumerate(shards(records).items()):
        slugs.sort()
        folder = shard_folder(number)
        keys[folder] = key_of(count, position == 0, [(slug, records[slug].key) for slug in slugs])
        if previous.get(folder) == keys[folder] and output.keep(files.get(folder, ())):
            continue
        todo.append((folder, position == 0, [records[slug].value() for slug in slugs]))
    workers = max(1, min(cores(), len(todo)))
    with ThreadPoolExecutor(workers) as pool:
        for (folder, first, _), made in zip(todo, pool.map(lambda job: index_shard(job[2]), todo)):
            for name, data in sorted(made.items()):
                if first or not CODE.match(name):
                    output.write(f"{folder}/{name}", data)
    return keys
