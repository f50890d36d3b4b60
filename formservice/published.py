"""The built catalogue (`api/calls.json`) as the form service sees it, reloaded when it changes.

Publishing a call is a merged pull request plus a build: the service follows without a restart.
The source is a file path (checked by mtime/size/inode) or an http(s) URL (checked with ETag and
Last-Modified), at most once every `check_seconds`. A catalogue that cannot be read keeps the
previous one in service and is logged. Records are read with the one codec, callmodel.record.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import urllib.error
import urllib.request

from callmodel.record import read_catalogue
from callmodel.schema import Call

log = logging.getLogger(__name__)


class CatalogueUnavailable(RuntimeError):
    """No catalogue could be read at all (never loaded): the service cannot show any form."""


def answer_state(call: Call, now: dt.datetime) -> str:
    """What the answer page does: `open`, `upcoming`, `closed` (the call's status), or `information`
    and `external` for calls not answered here."""
    if call.external_url:
        return "external"
    if not call.answered_here:
        return "information"
    return call.status(now)


class Watched:
    """A file path or an http(s) URL, read again only when it changed (mtime, size and inode for a
    file; ETag and Last-Modified for a URL)."""

    def __init__(self, source: str, *, timeout: float = 5):
        self.source = source
        self.timeout = timeout
        self.is_url = source.startswith(("http://", "https://"))
        self._version = None

    def changed(self) -> str | None:
        """The new text, or None when unchanged (OSError or ValueError when it cannot be read)."""
        version, text = self._fetch_url() if self.is_url else self._read_file()
        if text is None:
            return None
        self._version = version
        return text

    def _read_file(self):
        info = os.stat(self.source)
        version = (info.st_mtime_ns, info.st_size, info.st_ino)
        if version == self._version:
            return version, None
        with open(self.source, encoding="utf-8") as f:
            return version, f.read()

    def _fetch_url(self):
        request = urllib.request.Request(self.source, headers={"Accept": "application/json"})
        if self._version:
            etag, modified = self._version
            if etag:
                request.add_header("If-None-Match", etag)
            if modified:
                request.add_header("If-Modified-Since", modified)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                version = (response.headers.get("ETag"), response.headers.get("Last-Modified"))
                return version, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return self._version, None
            raise


class PublishedCalls:
    """The calls of the built catalogue, by slug, with their recipients from the build's private
    file, reloaded when either changes."""

    def __init__(self, source: str, recipients: str | None = None, *, check_seconds: float = 5, timeout: float = 5):
        self.source = source
        self.check_seconds = check_seconds
        self._catalogue = Watched(source, timeout=timeout)
        self._recipients = Watched(recipients, timeout=timeout) if recipients else None
        self._texts: list[str | None] = [None, None]
        self._lock = threading.Lock()
        self._calls: dict[str, Call] | None = None
        self._build: dict = {}
        self._labels: dict = {"themes": {}, "partners": {}}
        self._checked = float("-inf")
        self._error: Exception | None = None
        self.recipients_error: Exception | None = None

    def get(self, slug: str) -> Call | None:
        return self._current().get(slug)

    def calls(self) -> list[Call]:
        return list(self._current().values())

    @property
    def build(self) -> dict:
        self._current()
        return self._build

    @property
    def labels(self) -> dict[str, dict[str, str]]:
        """The label of each theme key and the name of each partner key ("themes", "partners")."""
        self._current()
        return self._labels

    def __len__(self) -> int:
        return len(self._current())

    def _current(self) -> dict[str, Call]:
        if time.monotonic() - self._checked >= self.check_seconds:
            with self._lock:
                if time.monotonic() - self._checked >= self.check_seconds:
                    self._refresh()
                    self._checked = time.monotonic()
        if self._calls is None:
            raise CatalogueUnavailable(f"catalogue {self.source} could not be read ({self._error})")
        return self._calls

    def _refresh(self) -> None:
        catalogue, recipients = self._texts
        try:
            catalogue = self._catalogue.changed() or catalogue
        except (OSError, ValueError) as exc:
            return self._failed(exc)
        if self._recipients is not None:
            try:
                recipients = self._recipients.changed() or recipients
                self.recipients_error = None
            except (OSError, ValueError) as exc:
                if self.recipients_error is None:
                    log.warning("formservice: recipients %s unreadable: %s", self._recipients.source, exc)
                self.recipients_error = exc
        if [catalogue, recipients] == self._texts and self._calls is not None:
            return
        try:
            calls, meta = read_catalogue(catalogue, recipients)
        except (ValueError, KeyError, TypeError) as exc:
            return self._failed(exc)
        self._texts = [catalogue, recipients]
        self._calls, self._build, self._labels = calls, meta["build"], {k: meta.get(k) or {} for k in
                                                                       ("themes", "partners")}
        log.info("formservice: catalogue %s loaded (%d calls)", self.source, len(calls))

    def _failed(self, exc: Exception) -> None:
        self._error = exc
        if self._calls is not None:
            log.warning("formservice: catalogue %s not reloaded, the previous one stays: %s", self.source, exc)
