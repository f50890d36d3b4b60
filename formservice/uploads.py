"""Attachments: the type is read from the content (magic bytes), never trusted from the name.

The extension a person gives only matters for the stored name, which is rebuilt safe: no path, no
control characters, Unicode NFC, a bounded length, and the extension of the detected format.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass

from flask import Request, current_app

from callmodel.french import french_size
from callmodel.schema import DEFAULT_ACCEPT, DEFAULT_MAX_SIZE_MB, FILE_FORMATS, MB, FormField

from .validation import Invalid

NAME_MAX = 100
# The first directory of each Office Open XML format inside its ZIP.
_OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_OPENDOCUMENT = {"odt", "ods", "odp"}


# A request up to this many times FORMSERVICE_MAX_TOTAL_MB is read through, so that a person whose
# files are too large together gets the form back with what they typed; a larger one is refused
# before its body is read, with a page that cannot keep the values.
READ_THROUGH = 4
# A text answer is read in memory up to this size (far over any field's limit, so that an answer
# pasted too long comes back with its error next to it, the other values kept); beyond, the request
# cannot be read. More parts than FORM_PARTS_MAX come back with a notice; Werkzeug's own guard on
# parts is set far above it, so that ours is the one a person meets.
TEXT_PART_MAX = 2 * MB
FORM_PARTS_MAX = 1000
PARSER_PARTS_MAX = 50_000


class CappedSpool(tempfile.SpooledTemporaryFile):
    """An uploaded file's bytes up to `cap`; the rest is counted, not kept."""

    def __init__(self, cap: int):
        super().__init__(max_size=500 * 1024, mode="w+b")
        self.cap = cap
        self.received = 0

    def write(self, data) -> int:
        room = self.cap - self.received
        if room > 0:
            super().write(data[:room])
        self.received += len(data)
        return len(data)


class AnswerRequest(Request):
    """Flask's request, with file parts spooled in CappedSpool (at most the total limit + 1 byte)."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return CappedSpool(total_limit() + 1)


def total_limit() -> int:
    return int(current_app.config["MAX_TOTAL_MB"] * MB)


def received_bytes(files) -> int:
    """How many bytes of files the request brought, whether kept or not."""
    return sum(f.stream.received for f in files)


def _zip_format(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "mimetype" in names:
            with archive.open("mimetype") as entry:
                media = entry.read(200).decode("ascii", "replace").strip()
            return next((ext for ext in _OPENDOCUMENT if FILE_FORMATS[ext][1] == media), None)
        if "[Content_Types].xml" in names:
            return next((ext for ext, part in _OOXML_PARTS.items() if any(n.startswith(part) for n in names)), None)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return None
    return None


def sniff(data: bytes) -> str | None:
    """The FILE_FORMATS key the bytes really are, or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_format(data)
    return None


def safe_name(name: str, ext: str) -> str:
    """A name fit for a storage key and a download: the base name only, NFC, no control or
    reserved characters, the detected format's extension."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = re.sub(r"[<>:\"|?*%#\[\]{}\s]+", "-", base).strip(".- ")
    stem, dot, given = base.rpartition(".")
    if not dot:
        stem = base
    stem = stem[: NAME_MAX - len(ext) - 1].strip(".- ") or "document"
    return f"{stem}.{ext}"


def accepted_formats(field: FormField) -> tuple[str, ...]:
    return field.accept or DEFAULT_ACCEPT


def max_bytes(field: FormField) -> int:
    return int((field.max_size_mb or DEFAULT_MAX_SIZE_MB) * MB)


def formats_label(field: FormField) -> str:
    return ", ".join(FILE_FORMATS[e][0] for e in accepted_formats(field))


@dataclass(frozen=True)
class Upload:
    field: str
    name: str
    data: bytes
    format: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def content_type(self) -> str:
        return FILE_FORMATS[self.format][1]


def check_upload(field: FormField, storage_file) -> Upload | None:
    """The checked attachment of a file field (a werkzeug FileStorage or None), or Invalid."""
    if storage_file is None or not storage_file.filename:
        if field.required:
            raise Invalid("Joignez ce fichier.")
        return None
    limit = max_bytes(field)
    data = storage_file.stream.read(limit + 1)
    if len(data) > limit:
        raise Invalid(f"Le fichier dépasse {french_size(limit)} : réduisez-le (par exemple en compressant les images).")
    if not data:
        raise Invalid("Le fichier est vide : choisissez le bon fichier.")
    detected = sniff(data)
    if detected not in accepted_formats(field):
        raise Invalid(f"Ce fichier n'est pas au format attendu ({formats_label(field)}), quel que soit son nom.")
    return Upload(field.name, safe_name(storage_file.filename, detected), data, detected,
                  hashlib.sha256(data).hexdigest())
