"""What the benchmarks that drive the form service over HTTP share: the bench form and its calls
written with the calls.json codec (and the private recipients file), multipart bodies, a keep-alive
HTTP client with one cookie jar, gunicorn started and stopped, the `calls` command, the load average.

The servers themselves (SeaweedFS, the mail sink, free ports) come from `calls_cli.local`, as for
`make serve` and the tests.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from calls_cli import local as embedded
from callmodel.record import catalogue_json, recipients_json
from callmodel.schema import Call, FormField, SubmissionSpec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FIELDS = [
    {"name": "raison_sociale", "label": "Raison sociale", "type": "text", "required": True, "max_length": 120},
    {"name": "siret", "label": "SIRET", "type": "siret", "required": True},
    {"name": "email", "label": "Adresse électronique", "type": "email", "required": True},
    {"name": "taille", "label": "Taille", "type": "select", "required": True, "choices": ["Startup", "PME"]},
    {"name": "solution", "label": "Votre solution", "type": "textarea", "required": True},
    {"name": "dossier", "label": "Dossier", "type": "file", "required": True, "accept": ["pdf"], "max_size_mb": 5},
    {"name": "consentement", "label": "J'accepte", "type": "checkbox", "required": True},
]
OPENS = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
FAR = dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)
HIDDEN_RE = re.compile(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def bench_call(slug: str = "bench", title: str = "Banc d'essai", *, closes: dt.datetime = FAR) -> Call:
    """An open call answered with the bench form (FIELDS)."""
    return Call(slug=slug, title=title, type="appel-a-solutions", partner="banc", partner_name="Banc",
                summary="", published=OPENS.date(), opens=OPENS, closes=closes,
                submission=SubmissionSpec(fields=tuple(FormField.from_dict(f) for f in FIELDS),
                                          exports_to=("bench@example.org",)))


def write_catalogue(folder: str, calls: list[Call], *, forms_url: str = "http://127.0.0.1:5000") -> dict:
    """`calls.json` and the private `recipients.json` as a build writes them (each replaced at once,
    so a form service reloading meanwhile reads one or the other, never half a file); the
    FORMSERVICE_* variables that point at them."""
    build = {"commit": "bench", "modified": False}
    paths = {"CATALOGUE": os.path.join(folder, "calls.json"), "RECIPIENTS": os.path.join(folder, "recipients.json")}
    texts = {"CATALOGUE": catalogue_json(calls, site="http://127.0.0.1:8000", forms=forms_url,
                                         now=dt.datetime.now(dt.timezone.utc), build=build),
             "RECIPIENTS": recipients_json(calls, build=build)}
    for name, path in paths.items():
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            out.write(texts[name])
        os.replace(path + ".tmp", path)
    return {f"FORMSERVICE_{name}": path for name, path in paths.items()}


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range of source ports for outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = map(int, handle.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def restartable_ports(offsets: tuple[int, ...], attempts: int = 500) -> int:
    """A base port B where every B + offset is free and outside the kernel's ephemeral range: a
    server killed and restarted on the same ports (SeaweedFS, the mail sink) must not find one of
    them taken meanwhile as the source port of an outgoing connection (calls_cli.local's
    free_port_base draws from 20000-50000, across that range: fine for servers that never restart)."""
    low, high = ephemeral_ports()
    span = max(offsets)
    ranges = [(r0, r1) for r0, r1 in ((10000, low - span - 1), (high + 1, 65535 - span)) if r1 > r0]
    for _ in range(attempts):
        r0, r1 = random.choice(ranges)
        base = random.randrange(r0, r1, 10)
        if all(embedded.port_is_free(base + offset) for offset in offsets):
            return base
    raise RuntimeError("no free ports outside the ephemeral range")


SEAWEEDFS_PORTS = (0, 1, 2, 3, 4, 10000, 10001, 10002, 10003, 10004)


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: `fields` name -> text, `files` name -> (filename, PDF bytes)."""
    boundary = "----bench" + secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def form_tokens(page: bytes) -> dict[str, str]:
    """The hidden fields of a rendered form (`_csrf`, `_form`)."""
    return {k.decode(): v.decode() for k, v in HIDDEN_RE.findall(page)}


class Browser:
    """One keep-alive connection and one cookie jar (one person: `forget()` starts another)."""

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def forget(self) -> None:
        self.cookies = {}

    def reconnect(self) -> None:
        self.connection.close()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, Location, body); OSError or http.client.HTTPException when the network fails."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for cookie in response.msg.get_all("Set-Cookie") or ():
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, response.getheader("Location"), data


@dataclass
class FormService:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_form_service(env: dict, port: int, *, workers: int = 4, threads: int = 4, log=None,
                       timeout: float = 60, source: str | None = None) -> FormService:
    """The form service under gunicorn as the README deploys it (gthread workers, --timeout 120),
    returned once /healthz says ok (storage, catalogue, recipients and forms). `source`: the
    checkout whose form service runs (default: this one's, as installed)."""
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread",
                                "--threads", str(threads), "--timeout", "120", "-b", f"127.0.0.1:{port}",
                                "--log-level", "warning", "formservice:create_app()"],
                               env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                               cwd=source)  # `python -m` puts its folder first on the path
    service = FormService(process, port)
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            last = response.read()[:300]
            if response.status == 200:
                return service
        except OSError as exc:
            last = exc
        if time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"the form service is not healthy after {timeout:.0f} s: {last!r}")
        time.sleep(0.2)


def calls_command() -> list[str]:
    """The project's `calls` console script, beside this Python or on the PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "calls")
    found = beside if os.path.exists(beside) else shutil.which("calls")
    if not found:
        raise RuntimeError("the `calls` command is missing: pip install -e .")
    return [found]


def processes() -> dict[int, tuple[int, float]]:
    """Every process: its parent and the CPU seconds (user + system) it used so far, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return found


def children_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each child of `pid` (gunicorn's workers)."""
    return {child: cpu for child, (parent, cpu) in processes().items() if parent == pid}


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and all its descendants."""
    table = processes()
    tree, changed = {pid}, True
    while changed:
        changed = False
        for child, (parent, _) in table.items():
            if parent in tree and child not in tree:
                tree.add(child)
                changed = True
    return sum(table[p][1] for p in tree if p in table)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_line() -> str:
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    return f"commit {commit}, {os.cpu_count()} CPU(s), load average {load_average()}"
