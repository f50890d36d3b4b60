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
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from calls_cli import local as embedded
from callmodel.record import catalogue_json
from callmodel.schema import Call, FormField, SubmissionSpec

FIELDS = [
    {"name": "raison_sociale", "label": "Raison sociale", "type": "text", "required": True, "max_length": 120},
    {"name": "siret", "label": "SIRET", "type": "siret", "required": True},
    {"name": "email", "label": "Adresse électronique", "type": "email", "required": True},
    {"name": "taille", "label": "Taille", "type": "select", "required": True, "choices": ["Startup", "PME"]},
    {"name": "solution", "label": "Votre solution", "type": "textarea", "required": True},
    {"name": "dossier", "label": "Dossier", "type": "file", "required": True, "accept": ["pdf"], "max_size_mb": 5},
    {"name": "consentement", "label": "J'accepte", "type": "checkbox", "required": True},
]
PDF = b"%PDF-1.4\n" + os.urandom(1024 * 1024 - 9)


def catalogue(path: str) -> None:
    """One open call, written with the calls.json codec."""
    opens = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    call = Call(slug="bench", title="Banc d'essai", type="appel-a-solutions", partner="banc", partner_name="Banc",
                summary="", published=opens.date(), opens=opens, closes=dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc),
                submission=SubmissionSpec(fields=tuple(FormField.from_dict(f) for f in FIELDS),
                                          exports_to=("bench@example.org",)))
    with open(path, "w", encoding="utf-8") as out:
        out.write(catalogue_json([call], site="http://127.0.0.1:8000", forms="http://127.0.0.1:5000", now=opens,
                                 build={"commit": "bench", "modified": False}))


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----bench" + secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class FormClient:
    """One applicant: a keep-alive connection, the session cookie, a loop of GET form + POST."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location"), data

    def submit(self) -> float:
        status, _, page = self.request("GET", "/appels/bench/repondre")
        assert status == 200, status
        hidden = dict(re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        fields = {k.decode(): v.decode() for k, v in hidden.items()}
        fields.update(raison_sociale="Banc SAS", siret="73282932000074", email="banc@example.org",
                      taille="PME", solution="Une solution.", consentement="oui")
        body, content_type = multipart(fields, {"dossier": ("dossier.pdf", PDF)})
        started = time.perf_counter()
        status, location, page = self.request("POST", "/appels/bench/repondre", body, {"Content-Type": content_type})
        elapsed = time.perf_counter() - started
        assert status == 303 and "/recu/" in location, (status, page[-500:])
        return elapsed


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def run(clients: int, seconds: float, job_factory, processes: dict) -> tuple[float, list[float], dict]:
    """Each client repeats its job until time is up: (jobs per second, latencies, CPU ms per job of
    each process: the name "bench" is this process, clients and mail sink)."""
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}
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
    after = {name: cpu_seconds(pid) for name, pid in processes.items()}
    after["bench"] = own_cpu_seconds()
    cpu = {name: (after[name] - before[name]) * 1000 / max(1, len(latencies)) for name in before}
    return rate, latencies, cpu


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants (Linux /proc)."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, changed = {pid}, True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                changed = True
    return sum(times.get(p, 0.0) for p in tree)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", default="1,8,16")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-forms-")
    s3 = embedded.start_seaweedfs(os.path.join(work, "s3"), embedded.free_port_base(), "bench",
                                  secrets.token_hex(16), "appels")
    mail_port = embedded.free_port()
    sink = embedded.start_mail_sink(os.path.join(work, "mail"), mail_port)
    calls = os.path.join(work, "calls.json")
    catalogue(calls)
    port = embedded.free_port()
    env = {**os.environ, **s3.env(), "FORMSERVICE_CATALOGUE": calls, "FORMSERVICE_SECRET_KEY": secrets.token_hex(16),
           "FORMSERVICE_ENV": "production", "FORMSERVICE_SMTP_PORT": str(mail_port), "FORMSERVICE_RATE_LIMIT": "0"}
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", "gthread",
                                 "--threads", str(args.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                                 "formservice:create_app()"], env=env)
    try:
        for _ in range(100):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        client = s3.client()
        FormClient(port).submit()

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
        workloads = [("form (GET + POST)", lambda: FormClient(port).submit), ("raw PUT (anchor)", raw_put),
                     ("floor: PUT file + record", storage_floor)]
        for clients in (int(c) for c in args.clients.split(",")):
            results = [(name, *run(clients, args.seconds, job, processes)) for name, job in workloads]
            anchor = results[1][1]
            for name, rate, latencies, cpu in results:
                p50, p95, p99 = percentiles(latencies)
                print(f"{clients:>7} {name:<26} | {rate:>6.1f} {p50:>7.0f} {p95:>7.0f} {p99:>7.0f} | "
                      f"{rate / anchor:>5.2f}x | " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if v >= 0.05),
                      flush=True)
        print("A form is a whole cycle (GET the form, POST the answer); its latency is the POST until its 303.\n"
              "The floor is the storage work any stored submission needs: no form service can beat its ratio.")
    finally:
        gunicorn.terminate()
        gunicorn.wait(15)
        sink.stop()
        s3.stop()


if __name__ == "__main__":
    main()
