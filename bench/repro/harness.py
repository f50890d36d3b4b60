"""What the reproductions share: a real SeaweedFS and mail sink (calls_cli.local), the form service
in-process on a catalogue of one bench call, and a TCP proxy between them that forwards every byte,
except that `on_request(bytes)` may delay a request (return seconds) or drop its response (return
"drop": the connection is closed instead, after the storage did the work), as a storage that crashes
or a network that breaks after a commit would."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchlib import bench_call, form_tokens, multipart, write_catalogue  # noqa: E402
from calls_cli import local as embedded  # noqa: E402
from formservice import create_app  # noqa: E402


class Proxy:
    def __init__(self, target_port: int, on_request):
        self.target_port = target_port
        self.on_request = on_request
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.target_port))
            state = {"drop": False}
            threading.Thread(target=self._requests, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._responses, args=(server, client, state), daemon=True).start()

    def _requests(self, src, dst, state) -> None:
        try:
            while data := src.recv(65536):
                action = self.on_request(data)
                if action == "drop":
                    state["drop"] = True
                elif action:
                    time.sleep(action)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src, dst)

    def _responses(self, src, dst, state) -> None:
        try:
            while data := src.recv(65536):
                if state["drop"] and not data.startswith(b"HTTP/1.1 100"):
                    status_line = data.split(b"\r\n", 1)[0].decode()
                    print(f"proxy: response dropped after the storage answered {status_line!r}")
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src, dst)


def _close(*sockets) -> None:
    for sock in sockets:
        try:
            sock.close()
        except OSError:
            pass


class Platform:
    """SeaweedFS, the mail sink, and the form service (in-process) reaching the storage through a Proxy."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="repro-")
        self.s3 = embedded.start_seaweedfs(os.path.join(self.work, "s3"), embedded.free_port_base(), "repro",
                                           secrets.token_hex(16), "appels")
        self.mail_port = embedded.free_port()
        self.sink = embedded.start_mail_sink(os.path.join(self.work, "mail"), self.mail_port)
        self.bucket = self.s3.client()

    def app(self, call, on_request, **config):
        proxy = Proxy(int(self.s3.endpoint.rsplit(":", 1)[1]), on_request)
        paths = write_catalogue(self.work, [call])
        return create_app({"CATALOGUE": paths["FORMSERVICE_CATALOGUE"], "RECIPIENTS": paths["FORMSERVICE_RECIPIENTS"],
                           "S3_ENDPOINT_URL": proxy.url, "S3_ACCESS_KEY_ID": self.s3.access_key,
                           "S3_SECRET_ACCESS_KEY": self.s3.secret_key, "BUCKET": "appels",
                           "SMTP_PORT": self.mail_port, **config}, environ={})

    @staticmethod
    def open_form(client, slug: str) -> tuple[bytes, str]:
        """GET the form; the body and content type of a valid answer to it."""
        fields = {**form_tokens(client.get(f"/appels/{slug}/repondre").data), "raison_sociale": "Repro SAS",
                  "siret": "73282932000074", "email": "repro@example.org", "taille": "PME", "solution": "x",
                  "consentement": "oui"}
        return multipart(fields, {"dossier": ("d.pdf", b"%PDF-1.4\n" + b"0" * 2000)})

    def keys(self, prefix: str) -> list[str]:
        return [o["Key"] for o in self.bucket.list_objects_v2(Bucket="appels", Prefix=prefix).get("Contents", [])]

    def record(self, key: str) -> dict:
        return json.loads(self.bucket.get_object(Bucket="appels", Key=key)["Body"].read())

    def mails(self, wait: float = 3.0) -> int:
        time.sleep(wait)  # the background sender and its unqueueing
        folder = os.path.join(self.work, "mail", "new")
        return len(os.listdir(folder)) if os.path.isdir(folder) else 0

    def stop(self) -> None:
        self.sink.stop()
        self.s3.stop()
        shutil.rmtree(self.work, ignore_errors=True)


__all__ = ["Platform", "Proxy", "bench_call"]
