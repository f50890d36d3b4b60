"""Form submissions per second and latency, against raw boto3 PUTs of the same bytes.

Starts its own SeaweedFS and mail sink (calls_cli.local), runs the form service under
gunicorn, then for 1, 8 and 16 concurrent clients: each client opens the form (GET: CSRF and form
tokens) and posts an answer with a 1 MB PDF, waiting for the 303 to the receipt. In the same run,
the same number of threads PUT the same bytes with boto3 (the anchor), then PUT the same bytes and
a small record with IfNoneMatch (the storage floor: what any stored submission costs, with no HTTP
service at all). The rate limit is off (every client comes from 127.0.0.1); everything else is the
production path (CSRF, checks, files then record with IfNoneMatch, receipt mail over SMTP).

Each row also gives the CPU time per operation of gunicorn (all workers), SeaweedFS and this
process (the clients and the mail sink), read from /proc: on a machine whose cores are shared by
all three, that says where the time goes.

    .venv/bin/python bench/bench_forms.py [--seconds 10] [--clients 1,8,16] [--workers 4] [--threads 4]
                                          [--errors] [--source OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import tempfile
import threading
import time

from benchlib import (FIELDS, Browser, bench_call, form_tokens, multipart, start_form_service, tree_cpu,
                      write_catalogue)
from calls_cli import local as embedded

PDF = b"%PDF-1.4\n" + os.urandom(1024 * 1024 - 9)
KEPT: list[bool] = []  # for each form that came back: was its file kept?
KEPT_MARK = "Retirer ce fichier".encode()  # what a form says of a file it kept
GOOD_SIRET = "73282932000074"
ANSWERS = {"raison_sociale": "Banc SAS", "email": "banc@example.org", "taille": "PME", "solution": "Une solution.",
           "consentement": "oui"}


class FormClient:
    """A keep-alive connection sending answers one after another, each from a new person (a fresh
    cookie jar: the service refuses a second, different answer from one browser with a 409)."""

    def __init__(self, port: int):
        self.browser = Browser(port)

    def post(self, page: bytes, siret: str, with_file: bool = True) -> tuple[float, int, str, bytes]:
        """Send the answers on the form `page` (its tokens): (seconds of the POST, status, Location, page)."""
        fields = {**form_tokens(page), **ANSWERS, "siret": siret}
        body, content_type = multipart(fields, {"dossier": ("dossier.pdf", PDF)} if with_file else {})
        started = time.perf_counter()
        status, location, page = self.browser.request("POST", "/appels/bench/repondre", body,
                                                      {"Content-Type": content_type})
        return time.perf_counter() - started, status, location, page

    def submit(self, siret: str = GOOD_SIRET) -> tuple[float, int, str, bytes]:
        """A new person opens the form and sends it."""
        self.browser.forget()
        status, _, page = self.browser.request("GET", "/appels/bench/repondre")
        assert status == 200, status
        return self.post(page, siret)

    def answer(self) -> float:
        elapsed, status, location, page = self.submit()
        assert status == 303 and "/recu/" in location, (status, page[-500:])
        return elapsed

    def mistyped(self) -> tuple[float, bytes]:
        """The answer with a mistyped SIRET: the form comes back (422) with the error, the typed
        values and, since #11, the file kept (staged in S3 under the attempt)."""
        elapsed, status, _, page = self.submit(siret="73282932000075")
        assert status == 422 and b"Banc SAS" in page, (status, page[-500:])
        KEPT.append(KEPT_MARK in page)
        return elapsed, page

    def back_with_error(self) -> float:
        return self.mistyped()[0]

    def error_then_fix(self) -> float:
        """The whole path of a mistyped SIRET: the form comes back, the person corrects it and sends
        again, until the 303 (both POSTs timed). The file goes again only if it was not kept."""
        first, page = self.mistyped()
        second, status, location, page = self.post(page, GOOD_SIRET, with_file=KEPT_MARK not in page)
        assert status == 303 and "/recu/" in location, (status, page[-500:])
        return first + second


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def run(clients: int, seconds: float, job_factory, processes: dict) -> tuple[float, list[float], dict]:
    """Each client repeats its job until time is up: (jobs per second, latencies, CPU ms per job of
    each process: the name "bench" is this process, clients and mail sink)."""
    before = {name: tree_cpu(pid) for name, pid in processes.items()}
    before["bench"] = own_cpu_seconds()
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        job = job_factory()
        mine = []
        while time.monotonic() < stop:
            mine.append(job())
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = len(latencies) / (time.monotonic() - started)
    after = {name: tree_cpu(pid) for name, pid in processes.items()}
    after["bench"] = own_cpu_seconds()
    cpu = {name: (after[name] - before[name]) * 1000 / max(1, len(latencies)) for name in before}
    return rate, latencies, cpu


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", default="1,8,16")
    parser.add_argument("--errors", action="store_true",
                        help="also time a form that comes back with an error (a mistyped SIRET), its file kept, "
                             "and the whole path: error, then fixed and sent")
    parser.add_argument("--source", metavar="DIR",
                        help="run the form service of another checkout (e.g. a worktree of an older commit), to compare")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-forms-")
    s3 = embedded.start_seaweedfs(os.path.join(work, "s3"), embedded.free_port_base(), "bench",
                                  secrets.token_hex(16), "appels")
    mail_port = embedded.free_port()
    sink = embedded.start_mail_sink(os.path.join(work, "mail"), mail_port)
    port = embedded.free_port()
    env = {**os.environ, **s3.env(), **write_catalogue(work, [bench_call()]),
           "FORMSERVICE_SECRET_KEY": secrets.token_hex(16), "FORMSERVICE_ENV": "production",
           "FORMSERVICE_SMTP_PORT": str(mail_port), "FORMSERVICE_RATE_LIMIT": "0"}
    gunicorn = None
    try:
        service = start_form_service(env, port, workers=args.workers, threads=args.threads,
                                     source=args.source and os.path.abspath(args.source))
        gunicorn = service.process
        client = s3.client()
        FormClient(port).answer()

        record = json.dumps({"answers": {f["name"]: "x" * 40 for f in FIELDS}, "files": [{"sha256": "0" * 64}]}).encode()

        def raw_put():
            def put():
                started = time.perf_counter()
                client.put_object(Bucket=s3.bucket, Key=f"bench/raw/{secrets.token_hex(8)}", Body=PDF)
                return time.perf_counter() - started
            return put

        def storage_floor():
            """What any stored submission costs at least: its file, then its record (IfNoneMatch)."""
            def put_both():
                started = time.perf_counter()
                prefix = f"bench/floor/{secrets.token_hex(8)}/"
                client.put_object(Bucket=s3.bucket, Key=prefix + "files/dossier.pdf", Body=PDF)
                client.put_object(Bucket=s3.bucket, Key=prefix + "record.json", Body=record, IfNoneMatch="*")
                return time.perf_counter() - started
            return put_both

        print(f"1 MB PDF, gunicorn {args.workers} workers x {args.threads} threads (gthread), {args.seconds:.0f} s per run, "
              f"{os.cpu_count()} CPU(s) shared by clients, gunicorn and SeaweedFS")
        print(f"{'clients':>7} {'workload':<26} | {'per s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} | "
              f"{'ratio':>6} | CPU ms per operation")
        processes = {"gunicorn": gunicorn.pid, "seaweedfs": s3.process.pid}
        workloads = [("form (GET + POST)", lambda: FormClient(port).answer), ("raw PUT (anchor)", raw_put),
                     ("floor: PUT file + record", storage_floor)]
        if args.errors:
            workloads += [("form back with an error", lambda: FormClient(port).back_with_error),
                          ("error, then fixed", lambda: FormClient(port).error_then_fix)]
        for clients in (int(c) for c in args.clients.split(",")):
            results = [(name, *run(clients, args.seconds, job, processes)) for name, job in workloads]
            anchor = results[1][1]
            for name, rate, latencies, cpu in results:
                p50, p95, p99 = percentiles(latencies)
                print(f"{clients:>7} {name:<26} | {rate:>6.1f} {p50:>7.0f} {p95:>7.0f} {p99:>7.0f} | "
                      f"{rate / anchor:>5.2f}x | " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if v >= 0.05),
                      flush=True)
        if KEPT:
            print(f"Forms back with an error: {len(KEPT)}, their file kept in {sum(KEPT)}.")
        print("A form is a whole cycle (GET the form, POST the answer); its latency is the POST until its 303.\n"
              "The floor is the storage work any stored submission needs: no form service can beat its ratio.")
    finally:
        if gunicorn is not None:
            service.stop()
        sink.stop()
        s3.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
