"""The static search index: pagefind, fed through its indexing API with one record per call.

Pagefind gets the text of each call from the call itself (title, summary, what the page says in
short, body, documents, questions), never by parsing the 10,000 pages of the site: the pages carry
no search markup, and pagefind's time is spent on calls alone. Its cost grows with the text it
indexes (about 2 ms of CPU per call here), so the index is split into shards of a few hundred
calls, each a pagefind bundle, by a stable hash of the slug: a change re-indexes the shards whose
calls changed, and a full build indexes the shards on both cores. The search page merges the
shards in the browser (`mergeIndex`); a catalogue of up to SHARD_SIZE calls has one bundle.
"""

from __future__ import annotations

import base64
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
SHARD_SIZE = 320
# Pagefind's ready-made interfaces: our search page has its own.
UNUSED = re.compile(r"^pagefind-(?:ui|modular-ui|component-ui|highlight)\.")
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


def shard_paths(calls: int, base: str = "") -> list[str]:
    """The addresses of the bundles merged into the first one, for the search page."""
    return [f"{base}/{shard_folder(n)}/" for n in range(1, shard_count(calls))]


def text_of(body_html: str) -> str:
    return html.unescape(TAG.sub(" ", body_html))


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
        service.send([{"type": "AddRecord", "index_id": index, **r} for r in records])
        [files] = service.send([{"type": "GetFiles", "index_id": index}])
    finally:
        service.close()
    return {f["path"]: base64.b64decode(f["content"]) for f in files["files"] if not UNUSED.match(f["path"])}


def update(output: Output, records: dict[str, tuple[bytes, dict]], previous: dict) -> dict:
    """Index the shards whose records changed and keep the others' files as they are.

    `records` maps each slug to its record and the key it was made from; `previous` is what this
    returned last time (each shard's key). Returns the keys of this build's shards."""
    count = shard_count(len(records))
    shards: dict[int, list[str]] = {n: [] for n in range(count)}
    for slug in records:
        shards[shard_of(slug, count)].append(slug)
    files: dict[str, list[str]] = {}
    for path in output.previous:
        if path.startswith(ROOT + "/"):
            shard = SHARD_FILE.match(path)
            files.setdefault(shard.group(1) if shard else ROOT, []).append(path)
    keys, todo = {}, []
    for number, slugs in shards.items():
        slugs.sort()
        folder = shard_folder(number)
        keys[folder] = key_of(count, [(slug, records[slug][0]) for slug in slugs])
        if previous.get(folder) == keys[folder] and output.keep(files.get(folder, ())):
            continue
        todo.append((folder, [records[slug][1] for slug in slugs]))
    workers = max(1, min(cores(), len(todo)))
    with ThreadPoolExecutor(workers) as pool:
        for (folder, _), files in zip(todo, pool.map(lambda job: index_shard(job[1]), todo)):
            for name, data in sorted(files.items()):
                output.write(f"{folder}/{name}", data)
    return keys
