"""Real servers for the tests: SeaweedFS (S3), aiosmtpd (SMTP), a static HTTP server, and the whole
local platform as `make serve` runs it.

One definition, used by every suite's fixtures; nothing here is a fake.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import functools
import http.server
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from aiosmtpd.controller import Controller

from calls_cli import local as embedded


class Inbox:
    """An aiosmtpd handler keeping every message received, parsed, with its recipients. Like a real
    server, it refuses for good (550) any recipient at the domain `refuse.example`."""

    REFUSED_DOMAIN = "refuse.example"

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@" + self.REFUSED_DOMAIN):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def wait_for(self, keep, timeout: float) -> list:
        """The (recipients, message) pairs `keep` accepts, waiting up to `timeout` for one."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [(to, m) for to, m in self.messages if keep(to, m)]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def about(self, slug: str, wait: float = 0.0) -> list:
        """The (recipients, message) pairs whose subject contains `[slug]`."""
        return self.wait_for(lambda to, m: f"[{slug}]" in m["Subject"], wait)

    def to(self, address: str, timeout: float = 10) -> list:
        """Messages whose To header is `address`."""
        return [m for _, m in self.wait_for(lambda to, m: m["To"] == address, timeout)]


@contextlib.contextmanager
def seaweedfs(folder: str, bucket: str):
    """A real SeaweedFS on free loopback ports; boto3's AWS_* variables point at it meanwhile."""
    server = embedded.start_seaweedfs(folder, embedded.free_port_base(), f"{bucket}-access",
                                      secrets.token_hex(16), bucket)
    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    try:
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


@contextlib.contextmanager
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=embedded.free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def static_site(directory: str, port: int = 0):
    """A folder served over HTTP on loopback, like any static host; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(QuietHandler, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_instance(root: str) -> embedded.Instance:
    """An instance of `calls serve` whose ports (site, forms, S3, mail, editor) are all free."""
    for _ in range(200):
        port = random.randrange(20000, 40000, 10)
        where = embedded.Instance(port, embedded.free_port(), root)
        if all(embedded.port_is_free(p) for p in where.ports):
            return where
    raise RuntimeError("no free ports for a local instance")


class Platform:
    """A running `calls serve`: its instance (ports, folders) and everything it printed."""

    def __init__(self, where: embedded.Instance, process: subprocess.Popen, log: str):
        self.where, self.process, self.log = where, process, log

    def output(self) -> str:
        with open(self.log, encoding="utf-8") as handle:
            return handle.read()

    def wait_for_page(self, path: str, text: str, timeout: float = 180) -> str:
        """The page at `path` once it holds `text` (the site is rebuilt after a change)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.where.site_url}/{path}", timeout=5) as response:
                    page = response.read().decode("utf-8")
                if text in page:
                    return page
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never showed {text!r}:\n{self.output()[-3000:]}")
            time.sleep(0.3)

    def stop(self) -> list[str]:
        """Ctrl-C, as a person stops `make serve`: SIGINT to its process group. Returns the
        processes still alive in that group afterwards (none, when everything stopped)."""
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(60)
        time.sleep(0.5)
        left = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(self.process.pid)],
                              capture_output=True, text=True).stdout
        return [line for line in left.splitlines() if line.split()[1:2] != ["Z"]]


@contextlib.contextmanager
def local_platform(settings_path: str, log: str):
    """`calls serve` for the catalogue of `settings_path`, on free ports, in its own process group."""
    where = free_instance(os.path.dirname(settings_path))
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "calls"), "serve", "--settings", settings_path,
             "--port", str(where.port), "--forms-port", str(where.forms_port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    platform = Platform(where, process, log)
    try:
        deadline = time.monotonic() + 120
        while "Ctrl-C" not in platform.output():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"calls serve did not start:\n{platform.output()}")
            time.sleep(0.2)
        yield platform
    finally:
        if process.poll() is None:
            platform.stop()
