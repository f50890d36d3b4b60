"""Reliability under load and faults (issue #10): answers are never lost, never doubled, never
acknowledged falsely, receipts are mailed once, whatever dies meanwhile.

    .venv/bin/python bench/bench_reliability.py                              # 10,000 answers, 32 clients
    .venv/bin/python bench/bench_reliability.py --submissions 500 --clients 16   # a quick check

Everything is real and started here: SeaweedFS and the mail sink (aiosmtpd keeping every message in
a Maildir) from `calls_cli.local`, the form service under gunicorn (4 workers x 4 threads, gthread,
production settings, rate limit off), and the `calls` command for exports and queued receipts. The
clients are threads; each answer is sent by a new person (one cookie jar, one keep-alive connection
for all their requests): GET the form, POST it (multipart, a PDF of 1 MB for a share of them, 2 KB
otherwise), follow the 303 to the receipt page. With `--keep-alive client` a client thread keeps
one connection for all its persons instead: gunicorn's gthread worker that accepted the 32
connections at the start then serves them all, the 3 other workers idle (the notes print each
worker's CPU time).

Scenarios, each on its own call so that its numbers are its own, run one after the other:
  1. load: N answers (--submissions, default 10,000) from C clients (--clients, default 32);
  2. SeaweedFS killed (SIGKILL) once 30 % of M answers (--phase-submissions, default N/10, at least
     200) are acknowledged, restarted --s3-outage seconds later on the same data and ports, and
     again (--s3-kills times in all, at least 5 s apart); the clients go on until M are acknowledged
     (and 10 s after the last restart at least);
  3. the SMTP server killed (SIGKILL) at 25 % of M, restarted --smtp-outage seconds later; after the
     load, `calls send-receipts --min-age 0` must send every receipt queued meanwhile;
  4. two receipt senders at once: M answers while the SMTP server is down (every receipt stays
     queued), the server back, then two `calls send-receipts --min-age 0` started together;
  5. the closing minute: the call's `closes` is moved (catalogue rewritten, as a build would) to a
     whole second --closing-window seconds ahead; clients answer until 5 s after it, and a few slow
     uploads (--slow-uploads) send their headers 2 to 3 s before it and their last byte 1 s after;
  6. an export (`calls export`) taken while M answers arrive.
After each scenario its call is exported (`calls export SLUG --output DIR`); at the very end one
`calls send-receipts --min-age 0` sends what is left, then everything is counted from the storage
itself (a listing of the bucket and every answer's first version record) and from the mail sink's files.

What each column means (one row per scenario):
  attempted     persons who got a form and sent it (POST) at least once;
  acked         acknowledged: the POST got a 303 to /recu/<slug>/<id>/<token>, and that page then
                loaded (200) showing the number that belongs to this form's submission id (the id
                is the HMAC of the form token: tokens.submission_id with the bench's secret key);
  stored        first version records (versions/0001.json) under submissions/<slug>/ (an answer
                exists once its record exists), counted from the bucket at the end of the whole run;
  exported      rows of the call's export CSV taken right after the scenario (for 6, the export
                after the load; the one taken during it is in the notes);
  dup           duplicated records: records of one person (one form token: the marker in its
                answers) beyond the first, records no form of the bench explains, and re-sent
                forms (network retry, a second press on send, a double click sending two requests
                at once) acknowledged with two different receipt addresses;
  lost          acknowledged, but no record at the end;
  false rcpt    a receipt for something not stored as shown: a receipt address a person was given
                whose token is not the stored record's, or a receipt mail whose submission has no
                record or whose link does not carry the stored record's token (a refused late
                answer that got a mail is one);
  mails         distinct receipt Message-IDs (<receipt-<id>-v1@host>) the mail sink received for the
                call; `missing` in the notes = stored submissions that never got their mail;
  mail dup      copies of a Message-ID beyond the first; in brackets those whose first copy was
                received in a named crash window (below), the only ones the target allows;
  5xx           server errors the clients saw: any 5xx except the 503 "Service momentanément
                indisponible" (the form kept, or the receipt page saying so) that is the right
                answer while the storage is down.
Clients send again what failed at the network level (the same body: same CSRF and form tokens, as
a browser user pressing send again) and what got that 503 (after a pause), for --retry-seconds at
most. Most network failures are keep-alive connections gunicorn closed while idle (2 s): a person
waiting between two sendings during an outage finds the connection gone (RemoteDisconnected,
BrokenPipeError); the notes count them by kind. 2 % of persons press send again after their receipt (--resend-share) and 1 % double-click
(--double-share: the same form sent twice at once on two connections): all must get the same receipt.

Named crash windows for a receipt mail sent twice (the Message-ID is the same, mail clients fold it):
  smtp  the mail server was SIGKILLed after it kept the message and before its 250 reached the
        sender, who keeps the message queued and sends it again: first copy within 1 s before a kill;
  s3    the storage was SIGKILLed around the queueing (the outbox PUT stored but its answer lost,
        so the service sent the mail directly and the queued copy went later) or the unqueueing of
        a sent mail: first copy between 1 s before the kill and 2 s after the storage came back.

Targets (the exit status is 1 if one is missed): 0 lost, 0 dup, 0 false rcpt, 0 5xx, mail
duplicates only in a named window, exported = stored, no stored submission without its mail, no
record missing a file, no person left without an answer (gave up) or with an unexpected one,
nothing left in outbox/ or outbox-failed/ at the end; scenario 5: no record received at or after
`closes`, no refused answer stored, some answers refused (the deadline did fall during the load);
scenario 6: the export taken during the load holds at most what was stored when it ended, at least
what was stored when it began, each submission once, and the final export holds them all;
scenario 4: the two senders sent every queued receipt between them, each once.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import csv
import datetime as dt
import email.parser
import email.policy
import http.client
import json
import math
import os
import quopri
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from benchlib import (SEAWEEDFS_PORTS, Browser, bench_call, calls_command, children_cpu, form_tokens, load_average,
                      machine_line, multipart, restartable_ports, start_form_service, write_catalogue)
from calls_cli import local as embedded
from formservice.submission import short_number
from formservice.tokens import link_token, submission_id

MB = 1024 * 1024
BUCKET = "appels"
PREFIX = "RVB"
UNAVAILABLE = "Service momentanément indisponible".encode()
LATE = "La date limite est passée".encode()
RECEIPT_PATH = re.compile(r"^/recu/([a-z0-9-]+)/([0-9a-f]{32})/([A-Za-z0-9_-]+)$")
RECEIPT_LINK = re.compile(rb"/recu/([a-z0-9-]+)/([0-9a-f]{32})/([A-Za-z0-9_-]+)")
NUMBER = re.compile(r"enregistrée sous le numéro ([A-Z]+-\d{4}-[0-9A-Z]{6})")
TITLE = re.compile(rb"<title>([^<]*)</title>")
MESSAGE_ID = re.compile(r"<receipt-([0-9a-f]{32})-v1@")
FIRST_VERSION = "/versions/0001.json"  # the bench never corrects an answer: one version each
SENT = re.compile(r"(\d+) queued receipt\(s\) sent")
NETWORK_ERRORS = (OSError, http.client.HTTPException)
SERVER_ERRORS_KEPT = 3  # a person gives up after this many 5xx (the budget of time is the other limit)

SCENARIOS = {
    "1": ("charge", "1 load"),
    "2": ("panne-stockage", "2 S3 SIGKILL"),
    "3": ("panne-courriel", "3 SMTP SIGKILL"),
    "4": ("deux-expediteurs", "4 two senders"),
    "5": ("cloture", "5 closing minute"),
    "6": ("export-en-cours", "6 export during"),
}


@dataclass
class Person:
    """One simulated applicant: one cookie jar, one form, what they sent and what they got."""

    n: int
    big: bool
    resend: bool
    double: bool
    slow: bool = False  # scenario 5: a body still arriving when the deadline passes
    token: str = ""
    sub_id: str = ""
    outcome: str = ""  # acked, late, closed-form, gave-up, broken-receipt, unexpected ...
    posts: int = 0
    first_post: float = 0.0  # time.time()
    last_post: float = 0.0
    network_errors: int = 0
    network_kinds: list = field(default_factory=list)
    kept: int = 0  # 503 "momentanément indisponible": the right answer during an outage
    server_errors: list = field(default_factory=list)
    locations: list = field(default_factory=list)  # every receipt address a POST of this form got
    acked_post: float = 0.0  # when the POST that got the receipt was sent
    body_done: float = 0.0  # slow uploads: when the last byte of the body was sent
    number: str = ""


@dataclass
class Phase:
    key: str
    slug: str
    title: str
    persons: list = field(default_factory=list)
    counts: collections.Counter = field(default_factory=collections.Counter)
    started: float = 0.0
    ended: float = 0.0
    events: list = field(default_factory=list)  # (time.time(), text)
    windows: list = field(default_factory=list)  # (name, start, end) of the named crash windows
    exported: int | None = None
    export_numbers: list = field(default_factory=list)
    log_span: tuple = (0, 0)
    notes: list = field(default_factory=list)
    checks: list = field(default_factory=list)  # (ok, text)
    closes: dt.datetime | None = None
    during_export: dict = field(default_factory=dict)

    def event(self, text: str) -> None:
        self.events.append((time.time(), text))
        print(f"  [{self.title}] {time.strftime('%H:%M:%S')} {text}", flush=True)

    def check(self, ok: bool, text: str) -> None:
        self.checks.append((bool(ok), text))


class Load:
    """C client threads answering one call until `limit` persons have been served or stop()."""

    def __init__(self, bench: "Bench", phase: Phase, limit: int | None = None):
        self.bench, self.phase, self.limit = bench, phase, limit
        self.lock = threading.Lock()
        self.next = 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(bench.args.clients)]

    def start(self) -> "Load":
        self.phase.started = self.phase.started or time.time()
        for thread in self.threads:
            thread.start()
        return self

    def take(self) -> int | None:
        with self.lock:
            if self.stopping.is_set() or (self.limit is not None and self.next >= self.limit):
                return None
            self.next += 1
            return self.next - 1

    def worker(self) -> None:
        browser = Browser(self.bench.service.port, timeout=130)
        while (n := self.take()) is not None:
            if self.bench.args.keep_alive == "person":
                browser.reconnect()  # a new person, a new browser: its own connection
            person = self.bench.answer(browser, self.phase, n)
            self.add(person)
            if person.outcome == "closed-form":
                break  # this client found the call closed: it goes away
        browser.connection.close()

    def add(self, person: Person) -> None:
        with self.lock:
            self.phase.persons.append(person)
            self.phase.counts[person.outcome.split(" ")[0]] += 1
            self.phase.counts["attempted"] += bool(person.token)

    @property
    def acked(self) -> int:
        return self.phase.counts["acked"]

    def stop(self) -> None:
        self.stopping.set()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
        self.phase.ended = time.time()


class Bench:
    def __init__(self, args):
        self.args = args
        self.secret = secrets.token_hex(16)
        self.rng_seed = args.seed
        self.big = os.urandom(args.big_size)
        self.phases: list[Phase] = []
        self.current: Phase | None = None
        self.sweeps: list[tuple[str, int, str]] = []
        self.global_checks: list[tuple[bool, str]] = []
        self.global_notes: list[str] = []

    # -- servers ---------------------------------------------------------------------------------

    def start(self) -> None:
        args = self.args
        self.work = args.workdir or tempfile.mkdtemp(prefix="bench-reliability-")
        os.makedirs(self.work, exist_ok=True)
        self.s3_dir = os.path.join(self.work, "s3")
        # Both are killed and restarted on the same ports: none of them in the ephemeral range.
        self.s3_base = restartable_ports(SEAWEEDFS_PORTS)
        self.s3_keys = ("bench", secrets.token_hex(16))
        self.s3 = embedded.start_seaweedfs(self.s3_dir, self.s3_base, *self.s3_keys, BUCKET)
        self.client = self.s3.client()
        self.mail_dir = os.path.join(self.work, "mail")
        self.mail_port = restartable_ports((0,))
        self.sink = embedded.start_mail_sink(self.mail_dir, self.mail_port)
        port = embedded.free_port()
        self.forms_url = f"http://127.0.0.1:{port}"
        self.call_defs = {slug: bench_call(slug, f"Banc de fiabilité {key}") for key, (slug, _) in SCENARIOS.items()}
        self.env = {**os.environ, **self.s3.env(),
                    **write_catalogue(self.work, list(self.call_defs.values()), forms_url=self.forms_url),
                    "FORMSERVICE_SECRET_KEY": self.secret, "FORMSERVICE_ENV": "production",
                    "FORMSERVICE_URL": self.forms_url, "FORMSERVICE_SMTP_PORT": str(self.mail_port),
                    "FORMSERVICE_RATE_LIMIT": "0", "FORMSERVICE_RECEIPT_PREFIX": PREFIX,
                    "FORMSERVICE_CATALOGUE_CHECK_SECONDS": "1"}
        self.log_path = os.path.join(self.work, "gunicorn.log")
        self.log = open(self.log_path, "ab")
        self.service = start_form_service(self.env, port, workers=args.workers, threads=args.threads, log=self.log)

    def stop(self) -> None:
        for name in ("service", "sink", "s3"):
            server = getattr(self, name, None)
            if server is not None:
                try:
                    server.stop()
                except Exception as exc:  # noqa: BLE001 - stop the others whatever happens
                    print(f"stopping {name}: {exc}", file=sys.stderr)
        if getattr(self, "log", None):
            self.log.close()

    def kill_s3(self) -> float:
        self.s3.process.kill()
        self.s3.process.wait()
        return time.time()

    def restart_s3(self) -> float:
        self.s3 = embedded.start_seaweedfs(self.s3_dir, self.s3_base, *self.s3_keys, BUCKET)
        return time.time()

    def kill_smtp(self) -> float:
        self.sink.process.kill()
        self.sink.process.wait()
        return time.time()

    def restart_smtp(self) -> float:
        self.sink = embedded.start_mail_sink(self.mail_dir, self.mail_port)
        return time.time()

    def log_offset(self) -> int:
        self.log.flush()
        return os.path.getsize(self.log_path)

    # -- one person ------------------------------------------------------------------------------

    def answers(self, slug: str, n: int) -> dict:
        return {"raison_sociale": f"{slug} n{n}", "siret": "73282932000074", "email": f"p{n}.{slug}@example.org",
                "taille": "PME" if n % 2 else "Startup",
                "solution": f"Réponse {n} à l'appel {slug} : des capteurs sobres, posés en une journée.",
                "consentement": "oui"}

    def pdf(self, slug: str, n: int, big: bool) -> bytes:
        head = f"%PDF-1.4\n%{slug} {n}\n".encode()
        size = self.args.big_size if big else self.args.small_size
        return head + self.big[:size - len(head)]

    def send(self, browser: Browser, person: Person, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None):
        """One request as a person makes it: sent again after a network failure or a 503 "momentanément
        indisponible", for --retry-seconds at most; (None, None, b"") if they gave up."""
        deadline = time.monotonic() + self.args.retry_seconds
        pause = 0.25
        while True:
            if method == "POST":
                person.posts += 1
                person.last_post = time.time()
                person.first_post = person.first_post or person.last_post
            try:
                status, location, page = browser.request(method, path, body, headers)
            except NETWORK_ERRORS as exc:
                person.network_errors += 1
                person.network_kinds.append(type(exc).__name__)
                browser.reconnect()
            else:
                if status == 503 and UNAVAILABLE in page:
                    person.kept += 1
                elif status >= 500:
                    title = TITLE.search(page)
                    person.server_errors.append(f"{method} {path.split('/')[1]} {status} "
                                                f"{title.group(1).decode(errors='replace') if title else ''}")
                    if len(person.server_errors) >= SERVER_ERRORS_KEPT:
                        return None, None, b""
                else:
                    return status, location, page
            if time.monotonic() > deadline:
                return None, None, b""
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 2.0)

    def answer(self, browser: Browser, phase: Phase, n: int) -> Person:
        rng = random.Random(f"{self.rng_seed}/{phase.slug}/{n}")
        person = Person(n, big=rng.random() < self.args.big_share, resend=rng.random() < self.args.resend_share,
                        double=rng.random() < self.args.double_share)
        browser.forget()
        path = f"/appels/{phase.slug}/repondre"
        status, _, page = self.send(browser, person, "GET", path)
        if status is None:
            person.outcome = "gave-up GET form"
            return person
        if status != 200 or b'name="_form"' not in page:
            closed = status == 200 and phase.closes is not None and time.time() >= phase.closes.timestamp()
            person.outcome = "closed-form" if closed else f"unexpected GET {status}"
            return person
        hidden = form_tokens(page)
        person.token = hidden["_form"]
        person.sub_id = submission_id(self.secret, phase.slug, person.token)
        body, content_type = multipart({**hidden, **self.answers(phase.slug, n)},
                                       {"dossier": (f"dossier {n}.pdf", self.pdf(phase.slug, n, person.big))})
        headers = {"Content-Type": content_type}
        if person.double:
            # A double click: the same form sent twice at once, on two connections, one cookie jar.
            twin = Browser(browser.port, timeout=browser.timeout)
            twin.cookies = dict(browser.cookies)
            shadow = Person(n, person.big, False, False)
            other = []
            thread = threading.Thread(target=lambda: other.append(self.send(twin, shadow, "POST", path, body, headers)))
            thread.start()
            status, location, page = self.send(browser, person, "POST", path, body, headers)
            thread.join()
            twin.connection.close()
            person.posts += shadow.posts
            person.network_errors += shadow.network_errors
            person.network_kinds += shadow.network_kinds
            person.kept += shadow.kept
            person.server_errors += shadow.server_errors
            if other and other[0][0] == 303:
                person.locations.append(other[0][1])
        else:
            status, location, page = self.send(browser, person, "POST", path, body, headers)
        if status == 303 and location and "/recu/" in location:
            person.acked_post = person.last_post
            person.locations.insert(0, location)
            person.outcome = "acked" if self.receipt(browser, person, location) else "broken-receipt"
            if person.resend and person.outcome == "acked":
                status, again, _ = self.send(browser, person, "POST", path, body, headers)
                if status == 303:
                    person.locations.append(again)
                elif status == 403 and phase.closes and person.last_post >= phase.closes.timestamp():
                    pass  # sent again once the call had closed: refused, the first sending stays
                elif status is not None:
                    person.outcome = f"unexpected resend {status}"
        elif status is None:
            person.outcome = "gave-up POST"
        elif status == 403 and LATE in page:
            person.outcome = "late"
        else:
            title = TITLE.search(page)
            person.outcome = f"unexpected POST {status} {title.group(1).decode(errors='replace') if title else ''}"
        return person

    def receipt(self, browser: Browser, person: Person, location: str) -> bool:
        """The receipt page loads and shows the number of this form's submission."""
        path = urlsplit(location).path
        found = RECEIPT_PATH.match(path)
        if not found or found.group(2) != person.sub_id:
            return False
        status, _, page = self.send(browser, person, "GET", path)
        if status != 200:
            return False
        number = NUMBER.search(page.decode(errors="replace"))
        if not number:
            return False
        person.number = number.group(1)
        return person.number == short_number(PREFIX, int(person.number.split("-")[1]), person.sub_id)

    # -- running scenarios -----------------------------------------------------------------------

    def progress(self) -> None:
        """A line every 10 s about the scenario running."""
        last = (time.monotonic(), 0)
        while True:
            time.sleep(10)
            phase = self.current
            if phase is None:
                continue
            counts = phase.counts
            done = sum(counts[k] for k in counts if k != "attempted")
            now = time.monotonic()
            rate = (done - last[1]) / (now - last[0]) if done >= last[1] else 0
            last = (now, done)
            persons = list(phase.persons)
            print(f"  [{phase.title}] {time.strftime('%H:%M:%S')} {done} answered ({rate:.0f}/s): "
                  f"{counts['acked']} acked, {counts['late']} late, "
                  f"503 kept {sum(p.kept for p in persons)}, network retries {sum(p.network_errors for p in persons)}, "
                  f"5xx {sum(len(p.server_errors) for p in persons)}; load average {load_average()}", flush=True)

    def begin(self, key: str, title: str) -> Phase:
        slug, name = SCENARIOS[key]
        phase = Phase(key, slug, name)
        phase.log_span = (self.log_offset(), 0)
        self.phases.append(phase)
        self.current = phase
        print(f"\n== {name}: {title} ({time.strftime('%H:%M:%S')}, load average {load_average()})", flush=True)
        return phase

    def end(self, phase: Phase) -> None:
        phase.ended = phase.ended or time.time()
        phase.log_span = (phase.log_span[0], self.log_offset())
        self.current = None
        counts = phase.counts
        print(f"  [{phase.title}] {counts['attempted']} attempted, {counts['acked']} acked in "
              f"{phase.ended - phase.started:.0f} s ({counts['acked'] / max(1e-9, phase.ended - phase.started):.1f}/s)",
              flush=True)
        self.export(phase)

    def wait_until(self, condition, timeout: float, what: str) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                print(f"  timed out waiting for {what}", flush=True)
                return False
            time.sleep(0.1)
        return True

    def quiet(self, seconds: float = 3.0, timeout: float = 120.0) -> None:
        """Wait until the outbox and the mail sink stay unchanged for `seconds` (background sends and
        their unqueueing done): only then may a sender with --min-age 0 run without racing them."""
        def state():
            return (len(list(self.keys("outbox/"))), self.mail_count())
        deadline = time.monotonic() + timeout
        last, since = state(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = state()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= seconds:
                return

    def calls(self, *arguments: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        return subprocess.run(calls_command() + list(arguments), env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def send_receipts(self, label: str) -> tuple[int, str]:
        started = time.monotonic()
        done = self.calls("send-receipts", "--min-age", "0")
        output = (done.stdout + done.stderr).strip()
        self.sweeps.append((label, done.returncode, output))
        print(f"  calls send-receipts --min-age 0 ({label}): exit {done.returncode} in "
              f"{time.monotonic() - started:.1f} s: {output.splitlines()[-1] if output else ''}", flush=True)
        return done.returncode, output

    def export(self, phase: Phase, into: str | None = None) -> tuple[int | None, list[str]]:
        """`calls export SLUG --output DIR`; the count and the numbers of its CSV rows."""
        folder = tempfile.mkdtemp(prefix="export-", dir=self.work)
        started = time.monotonic()
        try:
            done = self.calls("export", phase.slug, "--output", folder)
            if done.returncode != 0:
                phase.check(False, f"calls export exited with {done.returncode}: {done.stderr.strip()[-300:]}")
                return None, []
            (csv_path,) = [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".csv") and "-versions" not in f]
            with open(csv_path, encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle, delimiter=";"))[1:]
            numbers = [r[0] for r in rows]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if into is None:
            phase.exported, phase.export_numbers = len(numbers), numbers
        print(f"  [{phase.title}] calls export: {len(numbers)} submission(s) in {time.monotonic() - started:.1f} s",
              flush=True)
        return len(numbers), numbers

    def phase_size(self) -> int:
        return self.args.phase_submissions or max(200, self.args.submissions // 10)

    def scenario_1(self) -> None:
        args = self.args
        phase = self.begin("1", f"{args.submissions} answers from {args.clients} clients")
        load = Load(self, phase, limit=args.submissions)
        load.start().join()
        self.end(phase)

    def scenario_2(self) -> None:
        m, kills = self.phase_size(), self.args.s3_kills
        phase = self.begin("2", f"SeaweedFS SIGKILLed {kills} time(s) from {m * 3 // 10} acked on, back after "
                                f"{self.args.s3_outage:g} s each time; {m} answers at least")
        load = Load(self, phase).start()
        back = time.time()
        for kill in range(kills):
            self.wait_until(lambda: load.acked >= m * (3 + 5 * kill // kills) // 10 and time.time() - back >= 5,
                            1800, "answers before the kill")
            killed = self.kill_s3()
            phase.event("SeaweedFS killed (SIGKILL)")
            time.sleep(self.args.s3_outage)
            back = self.restart_s3()
            phase.event(f"SeaweedFS restarted on the same data and ports, its bucket answers "
                        f"({back - killed:.1f} s after the kill)")
            phase.windows.append(("s3", killed - 1, back + 2))
        self.wait_until(lambda: load.acked >= m and time.time() - back >= 10, 1800, "answers after the restart")
        load.stop()
        load.join()
        self.end(phase)

    def scenario_3(self) -> None:
        m = self.phase_size()
        phase = self.begin("3", f"SMTP server SIGKILLed at {m // 4} acked, back after {self.args.smtp_outage:g} s; "
                                f"{m} answers at least")
        load = Load(self, phase).start()
        self.wait_until(lambda: load.acked >= m // 4, 1800, "answers before the kill")
        killed = self.kill_smtp()
        phase.event("mail server killed (SIGKILL)")
        phase.windows.append(("smtp", killed - 1, killed))
        time.sleep(self.args.smtp_outage)
        back = self.restart_smtp()
        phase.event("mail server restarted")
        self.wait_until(lambda: load.acked >= m and time.time() - back >= 5, 1800, "answers after the restart")
        load.stop()
        load.join()
        self.quiet()
        queued = len(list(self.keys("outbox/")))
        phase.event(f"{queued} receipt(s) queued; calls send-receipts --min-age 0")
        code, output = self.send_receipts("after the SMTP restart")
        phase.check(code == 0, f"calls send-receipts after the restart exited {code}: {output[-200:]}")
        self.end(phase)

    def scenario_4(self) -> None:
        m = self.phase_size()
        phase = self.begin("4", f"{m} answers while the mail server is down, then two senders at once")
        killed = self.kill_smtp()
        phase.windows.append(("smtp", killed - 1, killed))
        phase.event("mail server killed (SIGKILL)")
        load = Load(self, phase, limit=m)
        load.start().join()
        self.quiet()
        queued = len(list(self.keys("outbox/")))
        self.restart_smtp()
        phase.event(f"mail server restarted; {queued} receipt(s) queued; two `calls send-receipts --min-age 0` at once")
        started = time.monotonic()
        processes = [subprocess.Popen(calls_command() + ["send-receipts", "--min-age", "0"], env=self.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=1800)[0].strip() for p in processes]
        sent = 0
        for number, (process, output) in enumerate(zip(processes, outputs), 1):
            self.sweeps.append((f"two senders, #{number}", process.returncode, output))
            found = SENT.search(output)
            sent += int(found.group(1)) if found else 0
            phase.event(f"sender #{number}: exit {process.returncode}: {output.splitlines()[-1] if output else ''}")
            phase.check(process.returncode == 0, f"sender #{number} exited {process.returncode}: {output[-200:]}")
        phase.notes.append(f"two senders: {queued} queued, {sent} sent between them in "
                           f"{time.monotonic() - started:.1f} s")
        phase.check(sent == queued, f"the two senders sent {sent} of the {queued} queued receipts")
        self.end(phase)

    def scenario_5(self) -> None:
        window = self.args.closing_window
        reload = 2.5  # FORMSERVICE_CATALOGUE_CHECK_SECONDS=1: every worker reads the new catalogue by then
        closes = dt.datetime.fromtimestamp(math.ceil(time.time() + reload + window), dt.timezone.utc)
        phase = self.begin("5", f"the call closes at {closes.astimezone().strftime('%H:%M:%S')}, "
                                f"answers until 5 s after")
        phase.closes = closes
        self.call_defs[phase.slug] = bench_call(phase.slug, self.call_defs[phase.slug].title, closes=closes)
        write_catalogue(self.work, list(self.call_defs.values()), forms_url=self.forms_url)
        phase.event(f"catalogue rewritten: {phase.slug} closes at {closes.isoformat()}")
        time.sleep(reload)
        load = Load(self, phase).start()
        slow = [threading.Thread(target=lambda n=n: load.add(self.slow_answer(phase, n, closes)))
                for n in range(1_000_000, 1_000_000 + self.args.slow_uploads)]
        for thread in slow:
            thread.start()
        self.wait_until(lambda: time.time() >= closes.timestamp() + 5, window + 60, "the deadline")
        load.stop()
        for thread in slow:
            thread.join()
        load.join()
        self.end(phase)

    def slow_answer(self, phase: Phase, n: int, closes: dt.datetime) -> Person:
        """A person on a slow line: the request's headers arrive before the deadline, its body (a 1 MB
        file) in 20 steps until 1 s after it."""
        person = Person(n, big=True, resend=False, double=False, slow=True)
        start = closes.timestamp() - 2 - (n % 3) * 0.5
        time.sleep(max(0.0, start - 3 - time.time()))
        browser = Browser(self.service.port, timeout=130)
        path = f"/appels/{phase.slug}/repondre"
        status, _, page = browser.request("GET", path)
        if status != 200 or b'name="_form"' not in page:
            person.outcome = f"unexpected GET {status}"
            return person
        hidden = form_tokens(page)
        person.token = hidden["_form"]
        person.sub_id = submission_id(self.secret, phase.slug, person.token)
        body, content_type = multipart({**hidden, **self.answers(phase.slug, n)},
                                       {"dossier": (f"dossier {n}.pdf", self.pdf(phase.slug, n, True))})
        time.sleep(max(0.0, start - time.time()))
        browser.reconnect()  # gunicorn closes a keep-alive connection idle for 2 s
        connection = browser.connection
        try:
            person.posts, person.first_post = 1, time.time()
            person.last_post = person.first_post
            connection.putrequest("POST", path)
            for name, value in {"Content-Type": content_type, "Content-Length": str(len(body)),
                                "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}.items():
                connection.putheader(name, value)
            connection.endheaders()
            steps = 20
            step = (closes.timestamp() + 1 - time.time()) / steps
            for i in range(steps):
                connection.send(body[i * len(body) // steps:(i + 1) * len(body) // steps])
                time.sleep(max(0.0, step))
            response = connection.getresponse()
            status, location, page = response.status, response.getheader("Location"), response.read()
        except NETWORK_ERRORS as exc:
            person.outcome = f"gave-up POST ({type(exc).__name__})"
            return person
        finally:
            person.body_done = time.time()
        if status == 303 and location:
            person.acked_post = person.last_post
            person.locations.append(location)
            browser.reconnect()
            person.outcome = "acked" if self.receipt(browser, person, location) else "broken-receipt"
        elif status == 403 and LATE in page:
            person.outcome = "late"
        else:
            person.outcome = f"unexpected POST {status}"
        browser.connection.close()
        return person

    def scenario_6(self) -> None:
        m = self.phase_size()
        phase = self.begin("6", f"an export while answers arrive; {m} answers at least")
        load = Load(self, phase).start()
        self.wait_until(lambda: load.acked >= m * 3 // 10, 1800, "answers before the export")
        before = len(self.record_ids(phase.slug))
        acked_before = load.acked
        phase.event(f"calls export while answers arrive ({before} stored)")
        count, numbers = self.export(phase, into="during")
        after = len(self.record_ids(phase.slug))
        phase.during_export = {"count": count, "numbers": numbers, "before": before, "after": after,
                               "acked_meanwhile": load.acked - acked_before}
        phase.event(f"export during the load: {count} submission(s); {before} stored when it began, "
                    f"{after} when it ended")
        self.wait_until(lambda: load.acked >= m, 1800, "the rest of the answers")
        load.stop()
        load.join()
        self.end(phase)

    # -- counting from the storage and the mail sink ---------------------------------------------

    def keys(self, prefix: str):
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            yield from page.get("Contents", [])

    def record_ids(self, slug: str) -> set[str]:
        prefix = f"submissions/{slug}/"
        return {o["Key"][len(prefix):].split("/")[0] for o in self.keys(prefix)
                if o["Key"].endswith(FIRST_VERSION)}

    def stored(self, slug: str) -> tuple[dict, dict]:
        """Every record of a call (id -> record as JSON) and every object under it (key -> size)."""
        prefix = f"submissions/{slug}/"
        objects = {o["Key"]: o["Size"] for o in self.keys(prefix)}
        record_keys = [k for k in objects if k.endswith(FIRST_VERSION)]

        def read(key):
            body = self.client.get_object(Bucket=BUCKET, Key=key)["Body"]
            with body:
                return key[len(prefix):].split("/")[0], json.loads(body.read())

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            records = dict(pool.map(read, record_keys))
        return records, objects

    def receipt_token(self, slug: str, record: dict) -> str:
        """The token of a stored answer's receipt link, as the service derives it."""
        return link_token(self.secret, "recu", slug, record["id"], record["link_salt"])

    def mail_count(self) -> int:
        folder = os.path.join(self.mail_dir, "new")
        return len(os.listdir(folder)) if os.path.isdir(folder) else 0

    def mails(self) -> list[dict]:
        """Every receipt the mail sink kept: submission id (Message-ID), the link's slug, id and token,
        and when the sink wrote it."""
        found = []
        parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
        folder = os.path.join(self.mail_dir, "new")
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                raw = handle.read()
            headers = parser.parsebytes(raw)
            mid = MESSAGE_ID.search(headers.get("Message-ID", ""))
            link = RECEIPT_LINK.search(quopri.decodestring(raw))
            found.append({"id": mid.group(1) if mid else None,
                          "link": tuple(g.decode() for g in link.groups()) if link else None,
                          "at": os.stat(path).st_mtime})
        return found

    # -- the table -------------------------------------------------------------------------------

    def verify(self) -> list[dict]:
        mails = self.mails()
        stored = {p.slug: self.stored(p.slug) for p in self.phases}
        windows = [w for p in self.phases for w in p.windows]
        rows = []
        # Mails that belong to no call of a scenario (no link, unknown slug) are false receipts of the run.
        orphan_mails = [m for m in mails if not m["link"] or m["link"][0] not in stored]
        for phase in self.phases:
            records, objects = stored[phase.slug]
            persons = phase.persons
            by_id = {p.sub_id: p for p in persons if p.sub_id}
            attempted = [p for p in persons if p.token]
            acked = [p for p in persons if p.outcome == "acked"]
            # Duplicated records: one person's (one form token's) answers stored under two ids, a
            # record no form explains, a re-sent form acknowledged with two receipt addresses.
            markers = collections.Counter(r["answers"].get("raison_sociale") for r in records.values())
            twice = sum(c - 1 for c in markers.values() if c > 1)
            unexplained = [i for i in records if i not in by_id]
            two_receipts = [p for p in persons if len(set(p.locations)) > 1]
            dup = twice + len(unexplained) + len(two_receipts)
            lost = [p for p in acked if p.sub_id not in records]
            # False receipts: a receipt address given whose token is not the record's; a mail whose
            # submission has no record, or whose link is not the record's.
            dead_links = []
            for p in persons:
                record = records.get(p.sub_id)
                if record is None:
                    continue
                for location in set(p.locations):
                    found = RECEIPT_PATH.match(urlsplit(location).path)
                    if not found or found.group(3) != self.receipt_token(phase.slug, record):
                        dead_links.append(p)
                        break
            mine = [m for m in mails if m["link"] and m["link"][0] == phase.slug]
            false_mails = [m for m in mine if m["id"] not in records or m["link"][1] != m["id"]
                           or m["link"][2] != self.receipt_token(phase.slug, records[m["id"]])]
            copies = collections.defaultdict(list)
            for m in mine:
                copies[m["id"]].append(m["at"])
            duplicates = in_window = 0
            explained = collections.Counter()
            for times in copies.values():
                if len(times) < 2:
                    continue
                first = min(times)
                duplicates += len(times) - 1
                window = next((w for w in windows if w[1] <= first <= w[2]), None)
                if window:
                    in_window += len(times) - 1
                    explained[window[0]] += len(times) - 1
            missing_mails = [i for i in records if i not in copies]
            server_errors = [e for p in persons for e in p.server_errors]
            # Record integrity: each file a record lists exists with its size.
            broken = [i for i, r in records.items() if any(objects.get(f["key"]) != f["size"] for f in r["files"])]
            orphan_files = {k.split("/")[2] for k in objects if "/files/" in k} - set(records)
            not_acked_stored = [p for p in attempted if p.sub_id in records and p.outcome != "acked"]
            gave_up = [p for p in persons if p.outcome.startswith("gave-up")]
            unexpected = collections.Counter(p.outcome for p in persons if p.outcome.startswith(("unexpected", "broken")))
            with open(self.log_path, "rb") as handle:
                handle.seek(phase.log_span[0])
                log = handle.read(max(0, phase.log_span[1] - phase.log_span[0])).decode(errors="replace")
            row = {"phase": phase, "attempted": len(attempted), "acked": len(acked), "stored": len(records),
                   "exported": phase.exported, "dup": dup, "lost": len(lost),
                   "false": len(dead_links) + len(false_mails), "mails": len(copies),
                   "mail_dup": duplicates, "mail_dup_window": in_window, "5xx": len(server_errors)}
            rows.append(row)

            phase.check(not lost, f"lost: {len(lost)} acknowledged without a record "
                                  f"(e.g. {[p.sub_id for p in lost[:3]]})")
            phase.check(dup == 0, f"duplicated: {twice} records of one person beyond the first, "
                                  f"{len(unexplained)} records no form explains, {len(two_receipts)} re-sent forms "
                                  f"with two receipt addresses")
            phase.check(not dead_links and not false_mails,
                        f"false receipts: {len(dead_links)} receipt addresses whose token is not the record's, "
                        f"{len(false_mails)} mails for no record or with another link")
            phase.check(not server_errors, f"server errors seen by clients: {len(server_errors)} "
                                           f"{dict(collections.Counter(server_errors).most_common(4))}")
            phase.check(duplicates == in_window, f"receipt mails sent twice outside a named window: "
                                                 f"{duplicates - in_window}")
            phase.check(phase.exported == len(records) and sorted(phase.export_numbers) == sorted(
                r["number"] for r in records.values()),
                f"export holds {phase.exported} rows ({len(set(phase.export_numbers))} distinct), {len(records)} stored")
            phase.check(not missing_mails, f"stored without a receipt mail: {len(missing_mails)} "
                                           f"(e.g. {missing_mails[:3]})")
            phase.check(not broken, f"records missing a file: {len(broken)}")
            phase.check(not gave_up, f"persons who gave up (no answer within {self.args.retry_seconds:g} s): "
                                     f"{len(gave_up)} {dict(collections.Counter(p.outcome for p in gave_up))}")
            phase.check(not unexpected, f"unexpected answers: {dict(unexpected)}")

            kept = sum(p.kept for p in persons)
            retries = sum(p.network_errors for p in persons)
            kinds = collections.Counter(k for p in persons for k in p.network_kinds)
            posts = sum(p.posts for p in persons)
            phase.notes.append(f"{posts} POSTs for {len(attempted)} forms; network failures sent again: {retries}"
                               + (f" ({', '.join(f'{k} {v}' for k, v in kinds.most_common())})" if kinds else "")
                               + f"; "
                               f"503 kept-form answers: {kept}; big files: {sum(p.big for p in attempted)}; "
                               f"re-sent after the receipt: {sum(p.resend for p in acked)}, double clicks: "
                               f"{sum(p.double for p in acked)}")
            if explained:
                phase.notes.append("mail duplicates in named windows: " + ", ".join(
                    f"{k} {v}" for k, v in explained.items()))
            if not_acked_stored:
                phase.notes.append(f"stored but never acknowledged to the person: {len(not_acked_stored)} "
                                   f"({dict(collections.Counter(p.outcome for p in not_acked_stored))})")
            if orphan_files:
                phase.notes.append(f"files without a record (sendings that stopped before their record): "
                                   f"{len(orphan_files)} submission folder(s)")
            flask_errors = log.count("Exception on ")
            timeouts = log.count("WORKER TIMEOUT")
            phase.notes.append(f"gunicorn log: {flask_errors} unhandled exception(s), {timeouts} worker timeout(s), "
                               f"{log.count('storage unavailable')} 'storage unavailable'")
            phase.check(flask_errors == 0 and timeouts == 0,
                        f"gunicorn log: {flask_errors} unhandled exception(s), {timeouts} worker timeout(s)")

            if phase.key == "5":
                closes = phase.closes
                late = [p for p in persons if p.outcome == "late"]
                late_records = [r for r in records.values()
                                if dt.datetime.fromisoformat(r["received_at"].replace("Z", "+00:00")) >= closes]
                late_stored = [p for p in late if p.sub_id in records]
                after = [p for p in acked if p.acked_post >= closes.timestamp()]
                late_mails = [m for m in mails if m["id"] in {p.sub_id for p in late}]
                phase.notes.append(f"closes {closes.astimezone().strftime('%H:%M:%S')}: {len(acked)} acknowledged, "
                                   f"{len(late)} refused as late (403), "
                                   f"{sum(p.outcome == 'closed-form' for p in persons)} found the form closed; last "
                                   f"acknowledged POST sent {self.last(acked, closes)}, first refused sent "
                                   f"{self.first([p for p in late if not p.slow], closes)}")
                for p in (p for p in persons if p.slow):
                    record = records.get(p.sub_id)
                    received = (f"stored as received at {record['received_at']}" if record else "not stored")
                    phase.notes.append(f"slow upload n{p.n}: headers sent {p.first_post - closes.timestamp():+.2f} s, "
                                       f"last byte {p.body_done - closes.timestamp():+.2f} s from closes: "
                                       f"{p.outcome}, {received}")
                phase.check(late, "the deadline fell during the load (some answers refused as late)")
                phase.check(not late_records, f"records received at or after closes: {len(late_records)} "
                                              f"{sorted({r['received_at'] for r in late_records})[:5]}")
                phase.check(not late_stored, f"refused as late but stored: {len(late_stored)}")
                phase.check(not after, f"acknowledged although sent after closes: {len(after)}")
                phase.check(not late_mails, f"receipt mails for refused answers: {len(late_mails)}")
            if phase.key == "6" and phase.during_export:
                during = phase.during_export
                numbers = during["numbers"]
                known = {r["number"] for r in records.values()}
                phase.notes.append(f"export during the load: {during['count']} rows; {during['before']} stored when "
                                   f"it began, {during['after']} when it ended; {during['acked_meanwhile']} "
                                   f"acknowledged meanwhile")
                phase.check(during["count"] is not None and during["before"] <= during["count"] <= during["after"],
                            f"export during the load within [stored at its start, stored at its end]: "
                            f"{during['before']} <= {during['count']} <= {during['after']}")
                phase.check(len(set(numbers)) == len(numbers) and set(numbers) <= known,
                            "export during the load: each row once, each a stored submission")
                phase.check(during["acked_meanwhile"] > 0, "answers were acknowledged while the export ran")
        workers = sorted(children_cpu(self.service.process.pid).values(), reverse=True)
        outbox = list(self.keys("outbox/"))
        failed = list(self.keys("outbox-failed/"))
        tmp = os.path.join(self.mail_dir, "tmp")
        self.global_checks = [
            (not outbox, f"receipts still queued in outbox/ at the end: {len(outbox)}"),
            (not failed, f"objects set aside in outbox-failed/: {len(failed)}"),
            (not orphan_mails, f"receipt mails for no call of the run: {len(orphan_mails)}"),
        ]
        self.global_notes = [f"mail sink: {len(mails)} messages"
                             + (f", {len(os.listdir(tmp))} unfinished in tmp/" if os.path.isdir(tmp) else ""),
                             f"gunicorn workers, CPU seconds each: {', '.join(f'{c:.0f}' for c in workers)} "
                             f"(connections kept alive per {self.args.keep_alive})"]
        return rows

    @staticmethod
    def last(persons, closes) -> str:
        if not persons:
            return "-"
        return f"{max(p.acked_post for p in persons) - closes.timestamp():+.2f} s from closes"

    @staticmethod
    def first(persons, closes) -> str:
        if not persons:
            return "-"
        return f"{min(p.last_post for p in persons) - closes.timestamp():+.2f} s from closes"


def table(rows: list[dict]) -> str:
    header = ["scenario", "attempted", "acked", "stored", "exported", "dup", "lost", "false rcpt", "mails",
              "mail dup (window)", "5xx"]
    lines = []
    for row in rows:
        lines.append([row["phase"].title, row["attempted"], row["acked"], row["stored"],
                      "-" if row["exported"] is None else row["exported"], row["dup"], row["lost"], row["false"],
                      row["mails"], f"{row['mail_dup']} ({row['mail_dup_window']})", row["5xx"]])
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    out = [" | ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    out.append("-+-".join("-" * w for w in widths))
    for line in lines:
        out.append(" | ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(line, widths))))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=10_000, help="answers of scenario 1 (default 10,000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--phase-submissions", type=int, default=0,
                        help="answers of scenarios 2, 3, 4 and 6 (default: submissions / 10, at least 200)")
    parser.add_argument("--scenarios", default="1,2,3,4,5,6", help="which scenarios to run (default all)")
    parser.add_argument("--big-share", type=float, default=0.10, help="share of answers with a big file (0.10)")
    parser.add_argument("--big-size", type=int, default=MB, help="size of the big file in bytes (1 MB)")
    parser.add_argument("--small-size", type=int, default=2048, help="size of the other files in bytes (2 KB)")
    parser.add_argument("--s3-kills", type=int, default=3, help="times SeaweedFS is killed in scenario 2 (3)")
    parser.add_argument("--s3-outage", type=float, default=5, help="seconds SeaweedFS stays dead (5)")
    parser.add_argument("--smtp-outage", type=float, default=10, help="seconds the mail server stays dead (10)")
    parser.add_argument("--closing-window", type=float, default=15,
                        help="seconds of answers before the deadline of scenario 5 (15)")
    parser.add_argument("--slow-uploads", type=int, default=3,
                        help="scenario 5: answers whose body is still arriving when the call closes (3)")
    parser.add_argument("--retry-seconds", type=float, default=180, help="how long a person keeps sending again")
    parser.add_argument("--resend-share", type=float, default=0.02, help="persons pressing send again after the receipt")
    parser.add_argument("--double-share", type=float, default=0.01, help="persons double-clicking send")
    parser.add_argument("--keep-alive", choices=("person", "client"), default="person",
                        help="one keep-alive connection per person (default: each applicant has their own "
                             "browser) or per client thread for all its persons (gthread then serves them all "
                             "from the worker that accepted them)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", default="42")
    parser.add_argument("--workdir", help="where SeaweedFS, the mail and the logs go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (data, mails, gunicorn.log)")
    args = parser.parse_args()

    started = time.monotonic()
    bench = Bench(args)
    print(f"Reliability bench: {machine_line()}", flush=True)
    rows = []
    try:
        bench.start()
        print(f"work folder {bench.work}; form service {bench.forms_url} (gunicorn {args.workers} x {args.threads} "
              f"gthread), SeaweedFS {bench.s3.endpoint}, mail sink :{bench.mail_port}", flush=True)
        threading.Thread(target=bench.progress, daemon=True).start()
        for key in args.scenarios.split(","):
            getattr(bench, f"scenario_{key.strip()}")()
        print("\n== counting", flush=True)
        bench.quiet()
        bench.send_receipts("final sweep")
        bench.quiet()
        rows = bench.verify()
    finally:
        bench.stop()
        if not args.keep and not args.workdir and getattr(bench, "work", None):
            shutil.rmtree(bench.work, ignore_errors=True)

    elapsed = time.monotonic() - started
    print(f"\nReliability under load and faults: {args.clients} clients, {args.big_share:.0%} of answers with "
          f"{args.big_size / MB:g} MB, the rest {args.small_size // 1024} KB; {machine_line()}; "
          f"run time {elapsed / 60:.1f} min\n")
    print(table(rows))
    missed = []
    for row in rows:
        phase = row["phase"]
        print(f"\n{phase.title} ({phase.slug}):")
        for moment, text in phase.events:
            print(f"  - {time.strftime('%H:%M:%S', time.localtime(moment))} {text}")
        for note in phase.notes:
            print(f"  - {note}")
        for ok, text in phase.checks:
            if not ok:
                missed.append(f"{phase.title}: {text}")
    for note in bench.global_notes:
        print(f"\n{note}")
    for label, code, output in bench.sweeps:
        print(f"send-receipts ({label}): exit {code}: {output.splitlines()[-1] if output else ''}")
    missed += [text for ok, text in bench.global_checks if not ok]
    if missed:
        print("\nTARGETS MISSED:")
        for text in missed:
            print(f"  x {text}")
        return 1
    print("\nEvery target met: 0 lost, 0 duplicated, 0 false receipts, 0 server errors, "
          "receipt duplicates only in named windows.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
