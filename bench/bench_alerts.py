"""Alert digests for many subscribers, against raw SMTP sends of the same mails to the same sink.

    .venv/bin/python bench/bench_alerts.py [--subscribers 50000] [--new-calls 20] [--threads 8]
    .venv/bin/python bench/bench_alerts.py --subscribers 2000        # a quick check

Issue #12 ("Scale"). Starts a SeaweedFS and a mail sink (calls_cli.local: aiosmtpd keeping every
message in a Maildir), records a catalogue with a first `send_alerts` (no subscriber yet, no mail),
stores the confirmed subscriptions with threads (timed apart), adds the new calls and publishes an
answer on a few existing ones, then measures, each in a fresh process (wall time, CPU, peak RSS;
CPU and peak RSS of SeaweedFS and of the sink over the same span):

- digest run: `formservice.alerts.send_alerts` as `calls send-alerts` calls it;
- second run: the same again a little later, which must send nothing;
- raw SMTP (the anchor): the very digests the sink received, sent again with plain smtplib by as
  many threads, one connection per message (as SMTPMailer) and one connection per thread;
- S3 floor: listing, GET of every subscription and a conditional PUT (If-Match) of those mailed,
  with boto3 alone: the storage work any such run needs, with no mail at all.

Then it checks that every subscriber due a digest got exactly one and nobody else got any.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import datetime as dt
import email.parser
import email.policy
import json
import os
import random
import resource
import secrets
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import ROOT, bench_call, tree_cpu, load_average, machine_line, write_catalogue
from make_calls import AUDIENCES, PARTNERS, PLACES, SUBJECTS, THEMES, TYPES
from calls_cli import local as embedded
from callmodel.record import read_catalogue
from callmodel.schema import Call, Question
from formservice import alerts, mail
from formservice.config import defaults
from formservice.storage import OUTBOX, S3Storage

FIRST = dt.datetime(2026, 11, 28, 8, tzinfo=dt.timezone.utc)  # the first run: the catalogue recorded
CONFIRMED = FIRST + dt.timedelta(minutes=10)  # every subscription confirmed then
DIGEST = FIRST + dt.timedelta(hours=1)  # the measured run: the new calls noticed and mailed
AGAIN = DIGEST + dt.timedelta(hours=1)  # nothing new since DIGEST
RAW_DOMAIN = "raw.example"  # the anchor's envelope recipients, told apart from the subscribers
SINK_HEADERS = (b"x-peer:", b"x-mailfrom:", b"x-rcptto:")  # what aiosmtpd's Mailbox adds to a message
FILTERS = {"themes": list(THEMES), "types": TYPES, "partners": list(PARTNERS), "audiences": AUDIENCES}
SECRET = "bench-alerts-" + "x" * 16
MiB = 1024 * 1024


# --- the catalogue and the subscribers ------------------------------------------------------------

def catalogue(existing: int, new: int, answered: int, seed: int) -> tuple[list[Call], list[Call], set[str]]:
    """(the calls of the first run, those of the measured run, the slugs answered meanwhile): the
    measured run has `new` more calls and a published answer on `answered` existing ones (news that
    only the followers of those calls hear of)."""
    rng = random.Random(f"{seed}-calls")

    def call(slug: str, n: int) -> Call:
        partner = rng.choice(list(PARTNERS))
        title = f"{rng.choice(SUBJECTS).capitalize()} pour {rng.choice(PLACES)} ({n})"
        return dataclasses.replace(bench_call(slug, title), type=rng.choice(TYPES), partner=partner,
                                   partner_name=PARTNERS[partner][0],
                                   themes=tuple(rng.sample(list(THEMES), rng.randint(0, 3))),
                                   audiences=tuple(rng.sample(AUDIENCES, rng.randint(1, 3))))

    before = [call(f"appel-{n:05d}", n) for n in range(existing)]
    slugs = {c.slug for c in rng.sample(before, answered)}
    answer = Question(date=DIGEST.date(), question="Les groupements sont-ils admis ?", answer="Oui.")
    after = [dataclasses.replace(c, questions=(answer,)) if c.slug in slugs else c for c in before]
    after += [call(f"nouvel-appel-{n:05d}", existing + n) for n in range(new)]
    return before, after, slugs


def subscribers(count: int, slugs: list[str], seed: int) -> list[alerts.Subscription]:
    """~30 % without a filter, ~50 % with one or two kinds of filters (1 to 3 values each), ~20 %
    following one call; all confirmed at CONFIRMED."""
    rng = random.Random(f"{seed}-subscribers")
    found = []
    for n in range(count):
        draw, chosen = rng.random(), {}
        if draw >= 0.8:
            chosen["follow"] = (rng.choice(slugs),)
        elif draw >= 0.3:
            for name in rng.sample(list(FILTERS), rng.randint(1, 2)):
                chosen[name] = tuple(rng.sample(FILTERS[name], rng.randint(1, 3)))
        found.append(alerts.Subscription(id=f"{rng.getrandbits(128):032x}", email=f"abonne-{n}@bench.example",
                                         created_at=CONFIRMED - dt.timedelta(minutes=1), state=alerts.CONFIRMED,
                                         confirmed_at=CONFIRMED, cursor=CONFIRMED, salt=secrets.token_urlsafe(8),
                                         **chosen))
    return found


def due(subscription: alerts.Subscription, new_calls: list[Call], answered: set[str]) -> bool:
    """Whether this subscriber must get a digest, from the rules as the README states them (a new
    call matching every filter given; an answer published on the call followed), not through
    Subscription.concerns: the check must not trust the code it checks."""
    if subscription.follow:
        return bool(set(subscription.follow) & answered)
    return any((not subscription.types or call.type in subscription.types)
               and (not subscription.themes or set(call.themes) & set(subscription.themes))
               and (not subscription.partners or call.partner in subscription.partners)
               and (not subscription.audiences or set(call.audiences) & set(subscription.audiences))
               for call in new_calls)


def seed_subscribers(storage: S3Storage, subscriptions: list[alerts.Subscription], threads: int) -> float:
    """Store them as confirmation does (a create-only write each); the seconds it took."""
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(lambda s: alerts.save(storage, s, new=True), subscriptions):
            pass
    return time.perf_counter() - started


# --- the mail sink's Maildir ------------------------------------------------------------------------

class Maildir:
    """The messages the sink kept, read once each: who they went to (the envelope), and their bytes
    as sent (without the headers the sink adds, with CRLF line ends)."""

    def __init__(self, folder: str):
        self.folder = os.path.join(folder, "new")
        self.read: set[str] = set()
        self.parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)

    def new_messages(self) -> list[tuple[str, str]]:
        """(envelope recipients, path) of every message arrived since the last call."""
        names = sorted(set(os.listdir(self.folder)) - self.read) if os.path.isdir(self.folder) else []
        self.read.update(names)
        found = []
        for name in names:
            path = os.path.join(self.folder, name)
            with open(path, "rb") as handle:
                headers = self.parser.parsebytes(handle.read())
            found.append((headers.get("X-RcptTo", ""), path))
        return found

    @staticmethod
    def as_sent(path: str) -> bytes:
        with open(path, "rb") as handle:
            raw = handle.read().replace(b"\r\n", b"\n")
        head, _, body = raw.partition(b"\n\n")
        lines = [line for line in head.split(b"\n") if not line.lower().startswith(SINK_HEADERS)]
        return (b"\n".join(lines) + b"\n\n" + body).replace(b"\n", b"\r\n")


def write_messages(paths: list[str], target: str) -> int:
    """The messages, end to end in one file with an index (offset, length) beside it; total bytes."""
    index, offset = [], 0
    with open(target, "wb") as out:
        for path in paths:
            data = Maildir.as_sent(path)
            out.write(data)
            index.append((offset, len(data)))
            offset += len(data)
    with open(target + ".json", "w") as out:
        json.dump(index, out)
    return offset


# --- the measured phases, each in a fresh process ----------------------------------------------------

def run_alerts(args, storage: S3Storage) -> dict:
    with open(os.path.join(args.catalogue, "calls.json"), encoding="utf-8") as text, \
            open(os.path.join(args.catalogue, "recipients.json"), encoding="utf-8") as private:
        calls = read_catalogue(text.read(), private.read())[0]
    config = {**defaults(), "SECRET_KEY": SECRET, "URL": "http://127.0.0.1:5000", "SITE_URL": "http://127.0.0.1:8000"}
    mailer = mail.SMTPMailer("127.0.0.1", args.smtp_port)
    rss_before = rss_now()
    started, cpu = time.perf_counter(), own_cpu()
    report = alerts.send_alerts(storage, mailer, calls.values(), config, now=dt.datetime.fromisoformat(args.now),
                                threads=args.threads, queue=lambda message, key: mail.queue(storage, message, key))
    return {"seconds": time.perf_counter() - started, "cpu": own_cpu() - cpu, "rss_before": rss_before,
            "mails": report.digests, "subscribers": report.subscribers, "news": report.news,
            "skipped": report.skipped, "failed": report.failed[:20], "failed_count": len(report.failed),
            "queued": len(list(storage.keys(OUTBOX + "/")))}


def run_raw_smtp(args, reuse: bool) -> dict:
    """Send the messages of args.messages with smtplib, `args.threads` at once, each to its own
    envelope recipient at RAW_DOMAIN; one connection per message, or one per thread (`reuse`)."""
    with open(args.messages + ".json") as handle:
        index = json.load(handle)
    fd = os.open(args.messages, os.O_RDONLY)
    local, opened, lock = threading.local(), [], threading.Lock()

    def send(n: int) -> None:
        offset, length = index[n]
        data = os.pread(fd, length, offset)
        to = [f"raw-{n}@{RAW_DOMAIN}"]
        if not reuse:
            with smtplib.SMTP("127.0.0.1", args.smtp_port, timeout=10) as smtp:
                smtp.sendmail("bench@bench.example", to, data)
            return
        if getattr(local, "smtp", None) is None:
            local.smtp = smtplib.SMTP("127.0.0.1", args.smtp_port, timeout=10)
            with lock:
                opened.append(local.smtp)
        local.smtp.sendmail("bench@bench.example", to, data)

    rss_before = rss_now()
    started, cpu = time.perf_counter(), own_cpu()
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        for _ in pool.map(send, range(len(index))):
            pass
    for smtp in opened:
        smtp.quit()
    seconds = time.perf_counter() - started
    os.close(fd)
    return {"seconds": seconds, "cpu": own_cpu() - cpu, "rss_before": rss_before, "mails": len(index)}


def run_s3_floor(args, storage: S3Storage) -> dict:
    """List the subscriptions, GET each and PUT back those mailed with If-Match: boto3 alone, with
    the storage's own client (same connection pool, same checksum settings)."""
    with open(args.mailed) as handle:
        mailed = set(json.load(handle))
    client, bucket = storage.client, storage.bucket
    rss_before = rss_now()
    started, cpu = time.perf_counter(), own_cpu()
    keys = list(storage.keys(alerts.SUBSCRIBERS + "/"))

    def one(key: str) -> bool:
        response = client.get_object(Bucket=bucket, Key=key)
        with response["Body"] as body:
            data = body.read()
        if key not in mailed:
            return False
        client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json",
                          IfMatch=response["ETag"])
        return True

    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        written = sum(pool.map(one, keys))
    return {"seconds": time.perf_counter() - started, "cpu": own_cpu() - cpu, "rss_before": rss_before,
            "gets": len(keys), "puts": written}


def measure(args) -> None:
    """In this fresh process: one phase; its figures as JSON on the last line of stdout."""
    storage = S3Storage(os.environ["FORMSERVICE_BUCKET"])
    if args.measure == "alerts":
        result = run_alerts(args, storage)
    elif args.measure in ("raw-per-message", "raw-reused"):
        result = run_raw_smtp(args, reuse=args.measure == "raw-reused")
    else:
        result = run_s3_floor(args, storage)
    result["rss_peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_now(pid: int | str = "self") -> int:
    return status_kib(pid, "VmRSS") * 1024


def status_kib(pid: int | str, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def reset_peak(pid: int) -> bool:
    """Start the process's peak RSS (VmHWM) again from its current RSS (Linux 4.0+)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class Phases:
    """Runs each measured phase in a fresh process of this script, with the CPU and the peak RSS of
    the servers over the same span."""

    def __init__(self, env: dict, servers: dict[str, int], base: list[str]):
        self.env, self.servers, self.base = env, servers, base
        self.results: dict[str, dict] = {}

    def run(self, name: str, measure: str, *extra: str) -> dict:
        peaks_reset = all(reset_peak(pid) for pid in self.servers.values())
        cpu = {server: tree_cpu(pid) for server, pid in self.servers.items()}
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", measure, *self.base, *extra],
                             env=self.env, check=True, stdout=subprocess.PIPE, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["servers"] = {server: {"cpu": tree_cpu(pid) - cpu[server],
                                      "rss_peak": status_kib(pid, "VmHWM") * 1024,
                                      "peak_since": "phase" if peaks_reset else "start"}
                             for server, pid in self.servers.items()}
        result["load"] = list(os.getloadavg())
        self.results[name] = result
        print(f"  {name}: {result['seconds']:.1f} s, load average {load_average()}", flush=True)
        return result


# --- the report -----------------------------------------------------------------------------------

ROWS = (("alerts", "digest run (send_alerts)"), ("again", "second run (nothing new)"),
        ("raw-per-message", "raw SMTP, 1 connection/mail"), ("raw-reused", "raw SMTP, 1 connection/thread"),
        ("s3-floor", "S3 floor: GET all + PUT mailed"))


def table(results: dict) -> str:
    """One row per phase; the S3 floor's "mails" are its conditional PUTs (one per digest)."""
    lines = [f"{'phase':<31} {'mails':>6} {'wall s':>7} {'mails/s':>8} | {'CPU s: run':>10} {'weed':>6} {'sink':>6} "
             f"| {'peak RSS MiB: run':>17} {'weed':>5} {'sink':>5} | {'load':>4}"]
    for key, label in ROWS:
        r = results.get(key)
        if r is None:
            continue
        sent = r.get("mails", r.get("puts", 0))
        rate = f"{sent / r['seconds']:8.1f}" if sent else f"{'-':>8}"
        s = r["servers"]
        lines.append(f"{label:<31} {sent:>6} {r['seconds']:>7.1f} {rate} | {r['cpu']:>10.1f} "
                     f"{s['weed']['cpu']:>6.1f} {s['sink']['cpu']:>6.1f} | {r['rss_peak'] / MiB:>17.0f} "
                     f"{s['weed']['rss_peak'] / MiB:>5.0f} {s['sink']['rss_peak'] / MiB:>5.0f} | {r['load'][0]:>4.1f}")
    return "\n".join(lines)


def ratios(results: dict) -> dict:
    ours = results["alerts"]["mails"] / results["alerts"]["seconds"]
    found = {f"vs {key}": ours / (results[key]["mails"] / results[key]["seconds"])
             for key in ("raw-per-message", "raw-reused")}
    found["vs s3-floor"] = results["s3-floor"]["seconds"] / results["alerts"]["seconds"]
    return found


def per_mail(results: dict) -> list[str]:
    """CPU milliseconds per mail of each process: where the time goes on shared cores."""
    lines = []
    for key, label in ROWS:
        r = results.get(key)
        mails = (r or {}).get("mails") or results["alerts"]["mails"]
        if r is None or key == "again":
            continue
        lines.append(f"  {label:<31} run {r['cpu'] * 1000 / mails:5.2f}, weed {r['servers']['weed']['cpu'] * 1000 / mails:5.2f}, "
                     f"sink {r['servers']['sink']['cpu'] * 1000 / mails:5.2f}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--subscribers", type=int, default=50_000, help="confirmed subscriptions (50000)")
    parser.add_argument("--new-calls", type=int, default=20, help="calls added before the measured run (20)")
    parser.add_argument("--calls", type=int, default=200, help="calls already in the catalogue (200)")
    parser.add_argument("--answered", type=int, default=10,
                        help="existing calls with an answer published before the measured run: news for "
                             "their followers only (10)")
    parser.add_argument("--threads", type=int, default=8, help="threads of send_alerts and of each anchor (8)")
    parser.add_argument("--seed-threads", type=int, default=16, help="threads storing the subscriptions (16)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "bench", "out"),
                        help="results go to WORKDIR/alerts-N.json, the servers' data to a temporary folder "
                             "inside it (default bench/out/, git-ignored)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (SeaweedFS data, Maildir)")
    for hidden in ("--measure", "--catalogue", "--now", "--messages", "--mailed"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on a kill too

    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="alerts-", dir=workdir)
    print(f"Alerts benchmark: {args.subscribers} subscribers, {args.calls} calls + {args.new_calls} new "
          f"({args.answered} answered), {args.threads} threads; {machine_line()}", flush=True)
    s3 = sink = None
    try:
        s3 = embedded.start_seaweedfs(os.path.join(work, "s3"), embedded.free_port_base(), "bench",
                                      secrets.token_hex(16), "appels")
        sink = embedded.start_mail_sink(os.path.join(work, "mail"), embedded.free_port())
        env = {**os.environ, **s3.env()}
        storage = S3Storage(s3.bucket, client=s3.client())
        maildir = Maildir(sink.directory)

        before, after, answered = catalogue(args.calls, args.new_calls, args.answered, args.seed)
        for name, calls in (("before", before), ("after", after)):
            os.makedirs(os.path.join(work, name))
            write_catalogue(os.path.join(work, name), calls)
        first = alerts.send_alerts(storage, mail.SMTPMailer("127.0.0.1", sink.port), before,
                                   {**defaults(), "SECRET_KEY": SECRET}, now=FIRST)
        assert first.news == 0 and first.subscribers == 0, first

        subscriptions = subscribers(args.subscribers, [c.slug for c in before], args.seed)
        seconds = seed_subscribers(storage, subscriptions, args.seed_threads)
        print(f"  seeding: {args.subscribers} subscriptions in {seconds:.1f} s "
              f"({args.subscribers / seconds:.0f}/s, {args.seed_threads} threads), load average {load_average()}",
              flush=True)
        new_calls = after[args.calls:]
        expected = {s.email for s in subscriptions if due(s, new_calls, answered)}
        kinds = collections.Counter("follow" if s.follow else "filters" if any(getattr(s, f) for f in FILTERS)
                                    else "everything" for s in subscriptions)

        phases = Phases(env, {"weed": s3.process.pid, "sink": sink.process.pid},
                        ["--smtp-port", str(sink.port), "--threads", str(args.threads)])
        checks: dict[str, bool] = {}
        ours = phases.run("alerts", "alerts", "--catalogue", os.path.join(work, "after"), "--now", DIGEST.isoformat())
        received = maildir.new_messages()
        per_recipient = collections.Counter(to for to, _ in received)
        checks["each subscriber due a digest got exactly one"] = (set(per_recipient) == expected
                                                                   and set(per_recipient.values()) <= {1})
        checks["digests reported = digests due"] = ours["mails"] == len(expected)
        checks["no digest failed, skipped or queued"] = not (ours["failed_count"] or ours["skipped"] or ours["queued"])
        again = phases.run("again", "alerts", "--catalogue", os.path.join(work, "after"), "--now", AGAIN.isoformat())
        checks["a second run sends nothing"] = again["mails"] == 0 and not maildir.new_messages()

        messages = os.path.join(work, "messages")
        size = write_messages([path for _, path in received], messages)
        for name in ("raw-per-message", "raw-reused"):
            raw = phases.run(name, name, "--messages", messages)
            arrived = maildir.new_messages()
            checks[f"{name}: every message arrived"] = (len(arrived) == raw["mails"] == len(received)
                                                        and all(to.endswith("@" + RAW_DOMAIN) for to, _ in arrived))
        mailed = os.path.join(work, "mailed.json")
        with open(mailed, "w") as out:
            json.dump([alerts.subscription_key(s.id) for s in subscriptions if s.email in expected], out)
        phases.run("s3-floor", "s3-floor", "--mailed", mailed)

        results = phases.results
        found = ratios(results)
        print()
        print(table(results))
        print(f"\nDigest run: {ours['mails']} digests to {ours['subscribers']} subscribers ({kinds['everything']} "
              f"without filter, {kinds['filters']} with filters, {kinds['follow']} following one call), "
              f"{ours['news']} news items, mean size {size / max(1, len(received)) / 1024:.1f} KiB")
        print(f"Ours / raw SMTP in mails per second: {found['vs raw-per-message']:.2f}x (one connection per mail), "
              f"{found['vs raw-reused']:.2f}x (one connection per thread); "
              f"S3 floor time / ours: {found['vs s3-floor']:.2f}")
        print("CPU ms per digest:")
        print("\n".join(per_mail(results)))
        print(f"Peak RSS of the run process before send_alerts: {ours['rss_before'] / MiB:.0f} MiB, "
              f"peak {ours['rss_peak'] / MiB:.0f} MiB")
        print(f"Seeding (not measured above): {seconds:.1f} s")
        for text, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {text}")
        if ours["failed"]:
            print("  failed:", *ours["failed"], sep="\n    ")
        target = os.path.join(workdir, f"alerts-{args.subscribers}.json")
        with open(target, "w", encoding="utf-8") as out:
            json.dump({"machine": machine_line(), "arguments": {k: v for k, v in vars(args).items()
                                                                if v is not None and k != "workdir"},
                       "subscribers": dict(kinds), "due": len(expected), "mean_size": size / max(1, len(received)),
                       "seeding_seconds": seconds, "phases": results, "ratios": found, "checks": checks},
                      out, indent=1)
        print(f"Results: {target}; {machine_line()}")
        return 0 if all(checks.values()) else 1
    finally:
        for server in (sink, s3):
            if server is not None:
                server.stop()
        if args.keep:
            print(f"Kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
