"""Export throughput and memory, against raw boto3 GETs of the same objects, on a real SeaweedFS.

    .venv/bin/python bench/bench_exports.py [--submissions 10000] [--small 1000] [--size 102400]

Seeds two calls (N and n submissions, one file of --size bytes each) with threads, then measures in
the same run: raw boto3 GETs of the objects the export reads (each record.json
and file; as many threads as the export fetches ahead, and 1 thread; and the files alone), the export of the N submissions (XLSX + CSV + ZIP), and the peak memory of exporting n and N
submissions, each in a fresh subprocess (tracemalloc peak and RSS). Targets: export >= 0.7x raw
GETs; memory flat from n to N.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import hashlib
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from calls_cli import local as embedded  # noqa: E402
from callmodel.schema import Call, FormField, SubmissionSpec  # noqa: E402
from formservice import staging, submission  # noqa: E402
from formservice.exports import AHEAD  # noqa: E402
from formservice.storage import S3Storage, version_key  # noqa: E402
from formservice.uploads import Upload  # noqa: E402

FIELDS = tuple(FormField(name, label, kind) for name, label, kind in (
    ("raison_sociale", "Raison sociale", "text"), ("email", "Adresse électronique", "email"),
    ("solution", "Votre solution", "textarea"), ("dossier", "Dossier", "file")))


def bench_call(slug: str) -> Call:
    return Call(slug=slug, title=slug, type="appel-a-solutions", partner="bench", partner_name="Bench", summary="",
                published=dt.date(2026, 1, 1), opens=dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone.utc),
                closes=dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc),
                submission=SubmissionSpec(fields=FIELDS, exports_to=("bench@example.org",)))


def seed(storage: S3Storage, slug: str, count: int, size: int, threads: int = 16) -> list[tuple[str, str]]:
    """Store `count` submissions; their (record key, file key)."""
    payload = secrets.token_bytes(size)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    call = bench_call(slug)

    def one(n: int) -> str:
        """Through the form service's own `store`: the record exactly as an answer leaves it."""
        sub_id = secrets.token_hex(16)
        data = b"%PDF-" + n.to_bytes(4, "big") + payload[9:]
        upload = Upload("dossier", "dossier.pdf", data, "pdf", hashlib.sha256(data).hexdigest())
        answers = {"raison_sociale": f"Entreprise {n}", "email": f"c{n}@example.org",
                   "solution": "Une solution décrite en quelques lignes. " * 10}
        stored = submission.store(storage, call, sub_id, answers, [staging.stage(storage, slug, sub_id, upload)],
                                  email=answers["email"], build={}, prefix="RVB", now=start + dt.timedelta(seconds=n))
        return version_key(slug, sub_id, 1), stored.files[0].key

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def raw_gets(client, bucket: str, keys: list[str], threads: int) -> float:
    def get(key):
        with client.get_object(Bucket=bucket, Key=key)["Body"] as body:
            while body.read(1024 * 1024):
                pass

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, keys))
    return time.perf_counter() - started


def measure(args) -> None:
    """In a fresh process: export one call, print seconds, tracemalloc peak and RSS peak as JSON."""
    import tracemalloc

    from formservice.exports import build_export

    storage = S3Storage(os.environ["FORMSERVICE_BUCKET"])
    call = bench_call(args.measure)
    if args.trace:
        tracemalloc.start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.scratch) as folder:
        export = build_export(storage, call, folder)
        seconds = time.perf_counter() - started
        zip_size = os.path.getsize(export.zip)
    peak = tracemalloc.get_traced_memory()[1] if args.trace else None
    print(json.dumps({"count": export.count, "seconds": seconds, "traced_peak": peak, "zip": zip_size,
                      "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def in_subprocess(env: dict, slug: str, scratch: str, trace: bool) -> dict:
    command = [sys.executable, __file__, "--measure", slug, "--scratch", scratch] + (["--trace"] if trace else [])
    out = subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--size", type=int, default=100 * 1024)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args)

    work = tempfile.mkdtemp(prefix="bench-exports-", dir=os.path.join(ROOT, "var") if os.path.isdir(
        os.path.join(ROOT, "var")) else None)
    server = embedded.start_seaweedfs(os.path.join(work, "s3"), embedded.free_port_base(), "bench",
                                      secrets.token_hex(16), "bench")
    try:
        env = server.env()
        os.environ.update(env)
        storage = S3Storage(server.bucket, client=server.client())
        started = time.perf_counter()
        pairs = seed(storage, "bench-big", args.submissions, args.size)
        files = [f for _, f in pairs]
        both = [k for pair in pairs for k in pair]
        seed(storage, "bench-small", args.small, args.size)
        print(f"seeded {args.submissions + args.small} submissions of {args.size // 1024} KB "
              f"in {time.perf_counter() - started:.0f} s")
        client = server.client()
        raw_gets(client, server.bucket, both[:1000], AHEAD)  # warm up both sides alike
        raw_both = raw_gets(client, server.bucket, both, AHEAD)
        big = in_subprocess(env, "bench-big", work, trace=False)
        raw_files = raw_gets(client, server.bucket, files, AHEAD)
        raw1 = raw_gets(client, server.bucket, both, 1)
        mem_small = in_subprocess(env, "bench-small", work, trace=True)
        mem_big = in_subprocess(env, "bench-big", work, trace=True)
        mb = 1024 * 1024
        data = args.submissions * args.size / mb
        seconds = big["seconds"]
        print(f"export ({big['count']} submissions, ZIP {big['zip'] / mb:.0f} MB): {seconds:6.1f} s "
              f"{data / seconds:6.1f} MB/s of attachments")
        for label, raw in ((f"records + files, {AHEAD} threads", raw_both), (f"records + files, 1 thread", raw1),
                           (f"files only, {AHEAD} threads", raw_files)):
            print(f"raw boto3 GETs, {label:<26}: {raw:6.1f} s -> export at {raw / seconds:.2f}x (target >= 0.7x)")
        for label, result in ((args.small, mem_small), (args.submissions, mem_big)):
            print(f"peak memory, {label:>6} submissions: tracemalloc {result['traced_peak'] / mb:6.1f} MB, "
                  f"RSS {result['rss_peak'] / mb:6.1f} MB")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
