"""The built catalogue (`api/calls.json`) as the form service sees it, reloaded when it changes.

Publishing a call is a merged pull request plus a build: the service follows without a restart.
The source is a file path (checked by mtime/size/inode) or an http(s) URL (checked with ETag and
Last-Modified), at most once every `check_seconds`. A catalogue that cannot be read keeps the
previous one in service and is logged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from generator.schema import CALL_TYPES, FormField

log = logging.getLogger(__name__)


class CatalogueUnavailable(RuntimeError):
    """No catalogue could be read at all (never loaded): the service cannot show any form."""


@dataclass(frozen=True)
class CatalogueCall:
    """One call of the catalogue, with the dates parsed and the form fields as FormField."""

    slug: str
    title: str
    type: str
    type_label: str
    partner_name: str
    opens: dt.datetime
    closes: dt.datetime | None
    timezone: str
    url: str
    submit_url: str | None
    external_url: str | None
    fields: tuple[FormField, ...]
    exports_to: tuple[str, ...] = ()
    digest: str | None = None
    version: str | None = None  # the last commit that changed the call, as its public history says

    @classmethod
    def from_record(cls, record: dict) -> "CatalogueCall":
        tz = ZoneInfo(record.get("timezone") or "Europe/Paris")

        def moment(value):
            return dt.datetime.fromisoformat(value).astimezone(tz) if value else None

        return cls(slug=record["slug"], title=record["title"], type=record["type"],
                   type_label=record.get("type_label") or CALL_TYPES[record["type"]].label,
                   partner_name=record.get("partner_name") or record.get("partner", ""),
                   opens=moment(record["opens"]), closes=moment(record.get("closes")),
                   timezone=tz.key, url=record.get("url") or "", submit_url=record.get("submit_url"),
                   external_url=record.get("external_url"),
                   fields=tuple(FormField.from_dict(f) for f in record.get("fields") or ()),
                   exports_to=tuple(record.get("exports_to") or ()), digest=record.get("digest") or None,
                   version=record.get("version"))

    def state(self, now: dt.datetime) -> str:
        """What the form page does: `open`, `upcoming`, `closed`, `information` or `external`."""
        info = CALL_TYPES.get(self.type)
        if self.external_url:
            return "external"
        if info is None or not info.answerable or not self.fields:
            return "information"
        if now < self.opens:
            return "upcoming"
        if self.closes is not None and now >= self.closes:
            return "closed"
        return "open"

    @property
    def email_field(self) -> FormField | None:
        return next((f for f in self.fields if f.type == "email"), None)


class Catalogue:
    def __init__(self, source: str, *, check_seconds: float = 5, timeout: float = 5):
        self.source = source
        self.check_seconds = check_seconds
        self.timeout = timeout
        self.is_url = source.startswith(("http://", "https://"))
        self._lock = threading.Lock()
        self._calls: dict[str, CatalogueCall] | None = None
        self._build: dict = {}
        self._version = None
        self._checked = float("-inf")

    def get(self, slug: str) -> CatalogueCall | None:
        return self._current().get(slug)

    def calls(self) -> list[CatalogueCall]:
        return list(self._current().values())

    @property
    def build(self) -> dict:
        self._current()
        return self._build

    def __len__(self) -> int:
        return len(self._current())

    def _current(self) -> dict[str, CatalogueCall]:
        if time.monotonic() - self._checked >= self.check_seconds:
            with self._lock:
                if time.monotonic() - self._checked >= self.check_seconds:
                    self._refresh()
                    self._checked = time.monotonic()
        if self._calls is None:
            raise CatalogueUnavailable(f"catalogue {self.source} could not be read")
        return self._calls

    def _refresh(self) -> None:
        try:
            fetched = self._fetch_url() if self.is_url else self._read_file()
            if fetched is None:
                return
            version, text = fetched
            data = json.loads(text)
            calls = {c["slug"]: CatalogueCall.from_record(c) for c in data["calls"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("formservice: catalogue %s not reloaded: %s", self.source, exc)
            return
        self._calls, self._build, self._version = calls, data.get("build") or {}, version
        log.info("formservice: catalogue %s loaded (%d calls)", self.source, len(calls))

    def _read_file(self):
        info = os.stat(self.source)
        version = (info.st_mtime_ns, info.st_size, info.st_ino)
        if version == self._version:
            return None
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
                return None
            raise
