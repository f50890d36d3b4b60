"""A call's export for its partner: the spreadsheet (XLSX and CSV) and a ZIP of every attachment.

The partner receives the last version of each answer, withdrawn answers excluded, and an audit sheet
of every version (corrections and withdrawals included) with its time and empreinte.

One pass over the stored records, streamed: spreadsheet rows go to disk as they come (openpyxl's
write-only mode), each attachment is copied from S3 into the ZIP in chunks, and only a few
submissions are fetched ahead by threads. Memory stays flat whatever the number of submissions.

The CSV is made for French spreadsheet software: UTF-8 with a byte order mark (so Excel detects
UTF-8), `;` between columns (French Excel and LibreOffice use `,` as the decimal mark), decimals
written with a comma, dates as DD/MM/YYYY.

Formula injection: a text answer starting with =, +, -, @, a tab or a carriage return is stored
as a text cell with Excel's "quote prefix" in the XLSX (never a formula, shown as typed) and gets
a leading apostrophe in the CSV, so no spreadsheet software ever evaluates it.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import json
import math
import os
import re
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from callmodel.french import city
from callmodel.schema import Call

from . import submission
from .storage import Storage
from .submission import StoredFile, Submission

Progress = Callable[[int, int, str], None]

CHUNK = 1024 * 1024
AHEAD = 16  # submissions fetched ahead by threads: enough to hide S3 latency, little memory
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_TEXT = 32767
EXCEL_EXACT = 10**15  # beyond, a spreadsheet rounds a number (and openpyxl refuses huge integers)
DATETIME_FORMAT = "DD/MM/YYYY HH:MM:SS"
DATE_FORMAT = "DD/MM/YYYY"


@dataclass
class Column:
    header: str
    width: float


@dataclass
class Export:
    """What was built: the files, how many submissions, and the period they were received in."""

    call: Call
    xlsx: str
    csv: str
    zip: str
    count: int = 0
    files: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    versions_csv: str = ""
    paths: list[str] = field(default_factory=list)


def is_hostile(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_text(text: str) -> str:
    """A text value as a CSV cell no spreadsheet evaluates."""
    return "'" + text if is_hostile(text) else text


def portable_name(text: str, limit: int = 60) -> str:
    """ASCII letters, digits, `.`, `_` and `-` only: a name every unzip tool and file system takes
    (stricter than the stored name, formservice.uploads.safe_name, which keeps accents)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).strip("-.")
    return cleaned[:limit].rstrip("-.") or "sans-nom"


def applicant(call: Call, record: Submission) -> str:
    """Who answered, for folder names: the first text answer of the form (organisation or name)."""
    for f in call.fields:
        if f.type == "text" and record.answers.get(f.name):
            return str(record.answers[f.name])
    return record.email.split("@")[0]


def columns(call: Call) -> list[Column]:
    """Number, time of receipt, version, other answers from the same address, then every field in
    form order (a file field gives name, size, hash), then the answer's empreinte."""
    zone = city(call.timezone)
    found = [Column("Numéro", 18), Column(f"Reçue le (heure de {zone})", 20), Column("Version", 9),
             Column(f"Dernière version le (heure de {zone})", 20), Column("Autres réponses de la même adresse", 22)]
    widths = {"textarea": 60, "email": 32, "url": 32, "multiselect": 40, "checkbox": 10, "number": 12,
              "date": 12, "siret": 18, "tel": 18}
    for f in call.fields:
        if f.type == "file":
            found += [Column(f"{f.label} : fichier", 32), Column(f"{f.label} : taille (octets)", 14),
                      Column(f"{f.label} : SHA-256", 68)]
        else:
            found.append(Column(f.label, max(widths.get(f.type, 28), min(len(f.label) + 2, 40))))
    return found + [Column("Empreinte de la réponse (SHA-256 de reponse.json)", 68)]


def row(call: Call, answer: list[Submission], tz: ZoneInfo, repeats=()) -> list:
    """The row of one answer (its last version) as Python values (text, numbers, dates, None)."""
    first, record = answer[0], answer[-1]
    values: list = [record.number, first.received_at.astimezone(tz).replace(tzinfo=None), record.version,
                    record.received_at.astimezone(tz).replace(tzinfo=None), "; ".join(repeats) or None]
    for f in call.fields:
        if f.type == "file":
            files = record.files_of(f.name)
            values += [("; ".join(x.name for x in files) or None),
                       (sum(x.size for x in files) if files else None),
                       ("; ".join(x.sha256 for x in files) or None)]
            continue
        value = record.answers.get(f.name)
        if f.type == "checkbox" and isinstance(value, bool):
            value = "Oui" if value else "Non"
        elif f.type == "multiselect" and isinstance(value, list):
            value = "; ".join(map(str, value)) or None
        elif f.type == "date" and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                pass
        values.append(sheet_value(value))
    return values + [record.digest]


VERSION_COLUMNS = [Column("Numéro", 18), Column("Version", 9), Column("État", 14), Column("Reçue le", 20),
                   Column("Champs modifiés", 40), Column("Empreinte de la version (SHA-256)", 68)]


def version_row(call: Call, record: Submission, tz: ZoneInfo) -> list:
    """One line of the audit sheet: every version of every answer, withdrawn ones included."""
    state = "retrait" if record.withdrawn else ("réponse" if record.version == 1 else "modification")
    labels = {**record.labels, **{f.name: f.label for f in call.fields}}
    return [record.number, record.version, state, record.received_at.astimezone(tz).replace(tzinfo=None),
            "; ".join(labels.get(n, n) for n in record.changed) or None, record.digest]


def sheet_value(value):
    """What a spreadsheet cell can hold: None, a text, a date, or a number Excel keeps exactly
    (15 significant digits). Any other value a record may hold becomes its text, so that no
    stored answer can ever stop an export."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, (str, dt.date)):
        return value
    if isinstance(value, int) and abs(value) < EXCEL_EXACT:
        return value
    if isinstance(value, float) and math.isfinite(value) and abs(value) < EXCEL_EXACT:
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


class Table:
    """One sheet of the XLSX (written row by row) and its CSV, side by side."""

    def __init__(self, book: Workbook, title: str, cols: list[Column], csv_path: str):
        self.sheet = book.create_sheet(title)
        self.sheet.freeze_panes = "A2"
        for n, col in enumerate(cols, 1):
            self.sheet.column_dimensions[get_column_letter(n)].width = col.width
        bold = Font(bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")
        header = []
        for col in cols:
            cell = WriteOnlyCell(self.sheet, value=col.header)
            cell.font, cell.alignment = bold, wrap
            header.append(cell)
        self.sheet.append(header)
        self.csv_file = open(csv_path, "w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.csv_file, delimiter=";", lineterminator="\r\n")
        self.csv.writerow([csv_text(c.header) for c in cols])

    def append(self, values: list) -> None:
        self.sheet.append([self._cell(v) for v in values])
        self.csv.writerow([self._csv(v) for v in values])

    def _cell(self, value):
        if isinstance(value, dt.datetime):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = DATETIME_FORMAT
            return cell
        if isinstance(value, dt.date):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        if not isinstance(value, str):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_MAX_TEXT]
        cell = WriteOnlyCell(self.sheet, value=None)
        cell._value, cell.data_type = text, "s"  # set directly: openpyxl would read "=..." as a formula
        if is_hostile(text):
            cell.quotePrefix = True
        return cell

    @staticmethod
    def _csv(value) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.strftime("%d/%m/%Y %H:%M:%S")
        if isinstance(value, dt.date):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, float):
            return str(value).replace(".", ",")
        if isinstance(value, str):
            return csv_text(value)
        return str(value)


class SheetWriter:
    """The XLSX (the answers, then the audit sheet of every version) and its two CSV files."""

    def __init__(self, call: Call, xlsx_path: str, csv_path: str, versions_csv_path: str):
        self.xlsx_path = xlsx_path
        self.book = Workbook(write_only=True)
        self.answers = Table(self.book, safe_sheet_title(call.title), columns(call), csv_path)
        self.versions = Table(self.book, "Versions", VERSION_COLUMNS, versions_csv_path)

    def close(self) -> None:
        self.book.save(self.xlsx_path)
        self.discard()

    def discard(self) -> None:
        self.answers.csv_file.close()
        self.versions.csv_file.close()


def safe_sheet_title(title: str) -> str:
    return re.sub(r"[\\/*?:\[\]]", " ", title)[:31].strip() or "Réponses"


def fetch_ahead(items: Iterable, fetch: Callable, ahead: int = AHEAD) -> Iterator:
    """`fetch(item)` for each item, in order, with at most `ahead` of them running in threads."""
    with ThreadPoolExecutor(max_workers=ahead) as pool:
        pending: collections.deque = collections.deque()
        for item in items:
            pending.append(pool.submit(fetch, item))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def build_export(storage: Storage, call: Call, folder: str, *, basename: str | None = None,
                 since: dt.datetime | None = None, until: dt.datetime | None = None,
                 progress: Progress | None = None) -> Export:
    """Write `<basename>.xlsx`, `.csv`, `-versions.csv` and `.zip` into `folder` for the answers
    whose last version was received in [since, until) (all of them by default), withdrawn ones
    excluded. The ZIP holds, for each answer, its files and `reponse.json` (what its empreinte is
    computed over), and the spreadsheets."""
    tz = ZoneInfo(call.timezone)
    basename = basename or call.slug
    os.makedirs(folder, exist_ok=True)
    export = Export(call, xlsx=os.path.join(folder, basename + ".xlsx"), csv=os.path.join(folder, basename + ".csv"),
                    zip=os.path.join(folder, basename + ".zip"), since=since, until=until,
                    versions_csv=os.path.join(folder, basename + "-versions.csv"))
    everything = read_answers(storage, call, progress=progress)
    answers = [a for a in everything if not a[-1].withdrawn and not (since and a[-1].received_at < since)
               and not (until and a[-1].received_at >= until)]
    repeats = same_address([a[-1] for a in answers])
    sums_path = export.zip + ".sha256.tmp"

    def fetch(answer: list[Submission]):
        # Small attachments are read here, ahead; larger ones are streamed by the writer below.
        return answer, {f.key: storage.get(f.key) for f in answer[-1].files if f.size <= CHUNK}

    sheets = SheetWriter(call, export.xlsx, export.csv, export.versions_csv)
    try:
        with zipfile.ZipFile(export.zip, "w", zipfile.ZIP_STORED, allowZip64=True) as archive, \
                open(sums_path, "w", encoding="utf-8") as sums:
            for done, (answer, small) in enumerate(fetch_ahead(answers, fetch), 1):
                record = answer[-1]
                sheets.answers.append(row(call, answer, tz, repeats.get(record.id, ())))
                moment = record.received_at.astimezone(tz)
                export.first = min(export.first or moment, moment)
                export.last = max(export.last or moment, moment)
                export.count += 1
                folder_name = f"{portable_name(record.number, 30)}_{portable_name(applicant(call, record))}"
                for n, f in enumerate(record.files, 1):
                    # The name the applicant gave (made safe), numbered in the order of the form.
                    path = f"{folder_name}/{n}-{portable_name(f.name, 120)}"
                    copy_into(archive, path, storage, f, small.get(f.key), moment)
                    sums.write(f"{f.sha256}  {path}\n")
                    export.files += 1
                info = zipfile.ZipInfo(f"{folder_name}/reponse.json", date_time=moment.timetuple()[:6])
                archive.writestr(info, record.canonical(), zipfile.ZIP_DEFLATED)
                sums.write(f"{record.digest}  {folder_name}/reponse.json\n")
                if progress:
                    progress(done, len(answers), call.slug)
            for answer in everything:
                for record in answer:
                    sheets.versions.append(version_row(call, record, tz))
            sheets.close()
            sheets = None
            for path in (export.xlsx, export.csv, export.versions_csv):
                archive.write(path, os.path.basename(path), zipfile.ZIP_DEFLATED)
            sums.close()
            archive.write(sums_path, "SHA256SUMS.txt", zipfile.ZIP_DEFLATED)
    finally:
        if sheets is not None:
            sheets.discard()
        if os.path.exists(sums_path):
            os.remove(sums_path)
    export.paths = [export.xlsx, export.csv, export.versions_csv, export.zip]
    return export


def read_answers(storage: Storage, call: Call, *, progress: Progress | None = None) -> list[list[Submission]]:
    """Every version of every answer of the call (one listing, then the records fetched ahead),
    each answer's versions oldest first, answers in the order they were first received."""
    keys = [k for group in submission.answer_keys(storage, call.slug).values()
            for k in submission.version_keys(group)]
    grouped: dict[str, list[Submission]] = collections.defaultdict(list)
    for done, record in enumerate(fetch_ahead(keys, lambda k: Submission.from_json(storage.get(k))), 1):
        grouped[record.id].append(record)
        if progress:
            progress(done, len(keys), f"{call.slug} (lecture)")
    answers = [sorted(group, key=lambda r: r.version) for group in grouped.values()]
    return sorted(answers, key=lambda a: (a[0].received_at, a[0].number))


def same_address(records: list[Submission]) -> dict[str, list[str]]:
    """For each answer, the numbers of the others sent from the same address (a person who
    answered twice, or a colleague answering for the same organisation)."""
    by_address = collections.defaultdict(list)
    for record in records:
        by_address[record.email.strip().lower()].append(record)
    return {r.id: [o.number for o in group if o is not r] for group in by_address.values() if len(group) > 1
            for r in group}


def copy_into(archive: zipfile.ZipFile, path: str, storage: Storage, file: StoredFile, data: bytes | None,
              moment: dt.datetime) -> None:
    """One attachment into the ZIP, dated when it was received: the bytes already read, or the
    object streamed in chunks."""
    info = zipfile.ZipInfo(path, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    with archive.open(info, "w", force_zip64=file.size > 2**31 - 1) as entry:
        if data is not None:
            entry.write(data)
            return
        with storage.open(file.key) as body:
            while chunk := body.read(CHUNK):
                entry.write(chunk)
