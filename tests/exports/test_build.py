"""The export files read back as a partner's software would: openpyxl, the csv module, zipfile."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import zipfile
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from formservice.exports import CHUNK, build_export

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"clic\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=cmd|' /C calc'!A0"]


def catalogue_call(world, slug):
    return world.get(slug)


@pytest.fixture
def closed_call(world, now):
    return world.call("clos", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))


def test_spreadsheets_match_stored_submissions(world, storage, closed_call, now, tmp_path):
    world.submit(closed_call, now - dt.timedelta(days=3, hours=2), raison_sociale="Air Pur SAS", effectif=3.5)
    world.submit(closed_call, now - dt.timedelta(days=2), themes=[], consentement=False, creation=None,
                 solution="Deux lignes\net des « guillemets » ; un point-virgule")
    world.submit(closed_call, now - dt.timedelta(days=1, hours=1), files=())
    call = catalogue_call(world, closed_call)
    export = build_export(storage, call, str(tmp_path), basename="export")
    assert export.count == 3 and export.files == 2

    book = openpyxl.load_workbook(export.xlsx)
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Numéro", "Reçue le (heure de Paris)", "Autres réponses de la même adresse",
                           "Raison sociale", "Adresse électronique")
    assert rows[0][-4:] == ("Dossier de réponse : fichier", "Dossier de réponse : taille (octets)",
                            "Dossier de réponse : SHA-256", "J'accepte le règlement")
    assert sheet.column_dimensions["I"].width == 60  # the textarea
    by_number = {r[0]: r for r in rows[1:]}
    paris = ZoneInfo("Europe/Paris")
    with open(export.csv, "rb") as raw:
        assert raw.read(3) == b"\xef\xbb\xbf"
    with open(export.csv, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle, delimiter=";"))
    assert lines[0] == list(rows[0])
    csv_by_number = {line[0]: line for line in lines[1:]}
    assert len(by_number) == len(csv_by_number) == 3
    for record in world.records[closed_call]:
        got = by_number[record.number]
        when = record.received_at.astimezone(paris)
        assert got[1] == when.replace(tzinfo=None)
        assert got[2] is None  # each from its own address
        got = got[:2] + got[3:]
        answers = record.answers
        assert got[2:6] == (answers["raison_sociale"], answers["email"], answers["effectif"],
                            dt.datetime.fromisoformat(answers["creation"]) if answers["creation"] else None)
        assert got[6] == ("; ".join(answers["themes"]) or None)
        assert got[7] == answers["solution"]
        file = record.files[0] if record.files else None
        assert got[8:11] == ((file.name, file.size, file.sha256) if file else (None, None, None))
        assert got[11] == ("Oui" if answers["consentement"] else "Non")
        line = csv_by_number[record.number]
        line = line[:2] + line[3:]
        assert line[1] == when.strftime("%d/%m/%Y %H:%M:%S")
        assert line[4] == str(answers["effectif"]).replace(".", ",")
        assert line[7] == answers["solution"]
        assert line[10] == (file.sha256 if file else "")
    assert sheet["B2"].number_format == "DD/MM/YYYY HH:MM:SS"


def test_zip_holds_every_file_with_its_hash(world, storage, closed_call, now, tmp_path):
    big = bytes(range(256)) * (CHUNK * 3 // 256 + 7)  # streamed from S3 in chunks, not read ahead
    world.submit(closed_call, now - dt.timedelta(days=2), raison_sociale="Société Générale d'Écrans / R&D",
                 files=(("dossier", "dossier réponse.pdf", None), ("dossier", "annexe.pdf", big)))
    world.submit(closed_call, now - dt.timedelta(days=2), raison_sociale="../../etc")
    export = build_export(storage, catalogue_call(world, closed_call), str(tmp_path), basename="export")
    with zipfile.ZipFile(export.zip) as archive:
        names = archive.namelist()
        assert {"export.xlsx", "export.csv", "SHA256SUMS.txt"} <= set(names)
        sums = dict(line.split("  ")[::-1] for line in archive.read("SHA256SUMS.txt").decode().splitlines())
        stored = [(r, f) for r in world.records[closed_call] for f in r.files]
        assert len(sums) == len(stored) == 3
        for record, file in stored:
            [path] = [p for p, digest in sums.items() if digest == file.sha256]
            folder = path.split("/")[0]
            assert folder.startswith(record.number + "_")
            assert hashlib.sha256(archive.read(path)).hexdigest() == file.sha256
        assert any(p.startswith(f"{r.number}_Societe-Generale-d-Ecrans-R-D/") for r, _ in stored for p in names)
        first = next(r for r, _ in stored if len(r.files) == 2)
        assert {p.split("/", 1)[1] for p in names if p.startswith(first.number + "_")} == {
            "1-dossier-reponse.pdf", "2-annexe.pdf"}
        assert all(".." not in p.split("/") and not p.startswith("/") for p in names)


def test_hostile_answers_are_never_formulas(world, storage, closed_call, now, tmp_path):
    for text in HOSTILE:
        world.submit(closed_call, now - dt.timedelta(days=2), raison_sociale=text, solution=text, files=())
    export = build_export(storage, catalogue_call(world, closed_call), str(tmp_path), basename="export")
    with zipfile.ZipFile(export.xlsx) as package:
        sheet_xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = openpyxl.load_workbook(export.xlsx).active
    seen = set()
    for row in sheet.iter_rows(min_row=2):
        for cell in (row[3], row[8]):
            assert cell.data_type == "s" and cell.quotePrefix, cell.value
            seen.add(cell.value)
    assert seen == {t.replace("\r", "\n") for t in HOSTILE}  # XML reads a carriage return as a line feed
    with open(export.csv, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle, delimiter=";"))[1:]
    assert sorted(line[3] for line in lines) == sorted("'" + t for t in HOSTILE)
    assert all(line[8].startswith("'") for line in lines)


def test_progress_is_reported(world, storage, closed_call, now, tmp_path):
    for _ in range(3):
        world.submit(closed_call, now - dt.timedelta(days=2), files=())
    seen = []
    build_export(storage, catalogue_call(world, closed_call), str(tmp_path), progress=lambda *a: seen.append(a))
    reading = [done for done, _, what in seen if what.endswith("(lecture)")]
    writing = [done for done, _, what in seen if not what.endswith("(lecture)")]
    assert reading == writing == [1, 2, 3] and {total for _, total, _ in seen} == {3}


def test_no_stored_value_can_stop_an_export(world, storage, closed_call, now, tmp_path):
    """Whatever a record holds (here values no form would accept today), the export is written and
    shows each value as text where it cannot be a cell."""
    huge = 10**1000
    world.submit(closed_call, now - dt.timedelta(days=2), effectif=huge, creation="31 février", themes="Air",
                 consentement=["oui"], solution={"texte": "imbriqué", "n": [1, 2]}, files=())
    world.submit(closed_call, now - dt.timedelta(days=1), effectif=float("nan"), creation=12, files=())
    world.submit(closed_call, now - dt.timedelta(hours=2), effectif=2.5e20, files=())
    export = build_export(storage, catalogue_call(world, closed_call), str(tmp_path), basename="export")
    assert export.count == 3
    rows = list(openpyxl.load_workbook(export.xlsx).active.iter_rows(min_row=2, values_only=True))
    first, second, third = rows  # in the order they were received
    assert first[5] == str(huge) and first[6] == "31 février" and first[7] == "Air"
    assert first[8] == '{"texte": "imbriqué", "n": [1, 2]}' and first[12] == '["oui"]'
    assert second[5] == "nan" and second[6] == 12
    assert third[5] == "2.5e+20"
    with open(export.csv, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle, delimiter=";"))
    assert lines[1][5] == str(huge)


def test_rows_come_in_order_of_receipt_and_repeats_from_one_address_are_flagged(world, storage, closed_call, now,
                                                                                tmp_path):
    times = [now - dt.timedelta(days=d, minutes=m) for d, m in ((2, 0), (5, 0), (1, 30), (3, 7))]
    records = [world.submit(closed_call, when, files=(), email=address)
               for when, address in zip(times, ("a@x.example", "b@x.example", "A@x.example", "c@x.example"))]
    export = build_export(storage, catalogue_call(world, closed_call), str(tmp_path), basename="export")
    rows = list(openpyxl.load_workbook(export.xlsx).active.iter_rows(min_row=2, values_only=True))
    by_time = sorted(records, key=lambda r: r.received_at)
    assert [r[0] for r in rows] == [r.number for r in by_time]
    flags = {r[0]: r[2] for r in rows}
    assert flags[records[0].number] == records[2].number and flags[records[2].number] == records[0].number
    assert flags[records[1].number] is None and flags[records[3].number] is None
