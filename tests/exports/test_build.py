"""The export files read back as a partner's software would: openpyxl, the csv module, zipfile."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
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


def sheet_rows(path, sheet=None) -> list[dict]:
    """Each row of a sheet as {header: value}, as a partner's software reads it."""
    book = openpyxl.load_workbook(path)
    rows = list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def csv_rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle, delimiter=";"))
    return [dict(zip(lines[0], line)) for line in lines[1:]]


def test_spreadsheets_match_stored_submissions(world, storage, closed_call, now, tmp_path):
    world.submit(closed_call, now - dt.timedelta(days=3, hours=2), raison_sociale="Air Pur SAS", effectif=3.5)
    world.submit(closed_call, now - dt.timedelta(days=2), themes=[], consentement=False, creation=None,
                 solution="Deux lignes\net des « guillemets » ; un point-virgule")
    world.submit(closed_call, now - dt.timedelta(days=1, hours=1), files=())
    call = catalogue_call(world, closed_call)
    export = build_export(storage, call, str(tmp_path), basename="export")
    assert export.count == 3 and export.files == 2

    book = openpyxl.load_workbook(export.xlsx)
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    headers = next(sheet.iter_rows(values_only=True))
    assert headers[:6] == ("Numéro", "Reçue le (heure de Paris)", "Version", "Dernière version le (heure de Paris)",
                           "Autres réponses de la même adresse", "Raison sociale")
    assert headers[-5:] == ("Dossier de réponse : fichier", "Dossier de réponse : taille (octets)",
                            "Dossier de réponse : SHA-256", "J'accepte le règlement",
                            "Empreinte de la réponse (SHA-256 de reponse.json)")
    assert sheet.column_dimensions["K"].width == 60  # the textarea
    assert sheet["B2"].number_format == "DD/MM/YYYY HH:MM:SS"
    with open(export.csv, "rb") as raw:
        assert raw.read(3) == b"\xef\xbb\xbf"
    by_number = {r["Numéro"]: r for r in sheet_rows(export.xlsx)}
    csv_by_number = {r["Numéro"]: r for r in csv_rows(export.csv)}
    assert len(by_number) == len(csv_by_number) == 3
    paris = ZoneInfo("Europe/Paris")
    for record in world.records[closed_call]:
        got, line, answers = by_number[record.number], csv_by_number[record.number], record.answers
        when = record.received_at.astimezone(paris)
        assert got["Reçue le (heure de Paris)"] == when.replace(tzinfo=None) == got[
            "Dernière version le (heure de Paris)"]
        assert got["Version"] == 1 and got["Autres réponses de la même adresse"] is None
        assert (got["Raison sociale"], got["Adresse électronique"], got["Effectif"]) == (
            answers["raison_sociale"], answers["email"], answers["effectif"])
        assert got["Date de création"] == (dt.datetime.fromisoformat(answers["creation"]) if answers["creation"]
                                           else None)
        assert got["Thèmes"] == ("; ".join(answers["themes"]) or None)
        assert got["Votre solution"] == answers["solution"] == line["Votre solution"]
        file = record.files[0] if record.files else None
        assert (got["Dossier de réponse : fichier"], got["Dossier de réponse : taille (octets)"],
                got["Dossier de réponse : SHA-256"]) == ((file.name, file.size, file.sha256) if file else (None,) * 3)
        assert got["J'accepte le règlement"] == ("Oui" if answers["consentement"] else "Non")
        assert got["Empreinte de la réponse (SHA-256 de reponse.json)"] == record.digest
        assert line["Reçue le (heure de Paris)"] == when.strftime("%d/%m/%Y %H:%M:%S")
        assert line["Effectif"] == str(answers["effectif"]).replace(".", ",")
        assert line["Dossier de réponse : SHA-256"] == (file.sha256 if file else "")


def test_the_export_holds_the_last_version_of_each_answer_and_every_version_in_its_audit_sheet(
        world, storage, closed_call, now, tmp_path):
    kept = world.submit(closed_call, now - dt.timedelta(days=5), raison_sociale="Première SAS")
    corrected = world.correct(kept, now - dt.timedelta(days=4), raison_sociale="Première SAS (corrigée)",
                              files=())
    gone = world.submit(closed_call, now - dt.timedelta(days=3), raison_sociale="Retirée SARL")
    withdrawn = world.withdraw(gone, now - dt.timedelta(days=2))
    export = build_export(storage, catalogue_call(world, closed_call), str(tmp_path), basename="export")
    assert export.count == 1 and export.files == 0
    [answer] = sheet_rows(export.xlsx)
    assert answer["Numéro"] == kept.number and answer["Version"] == 2
    assert answer["Raison sociale"] == "Première SAS (corrigée)" and answer["Dossier de réponse : fichier"] is None
    assert answer["Empreinte de la réponse (SHA-256 de reponse.json)"] == corrected.digest
    audit = sheet_rows(export.xlsx, "Versions")
    assert [(r["Numéro"], r["Version"], r["État"], r["Empreinte de la version (SHA-256)"]) for r in audit] == [
        (kept.number, 1, "réponse", kept.digest), (kept.number, 2, "modification", corrected.digest),
        (gone.number, 1, "réponse", gone.digest), (gone.number, 2, "retrait", withdrawn.digest)]
    assert audit[1]["Champs modifiés"] == "Raison sociale; Dossier de réponse"
    assert [r["Numéro"] for r in csv_rows(export.versions_csv)] == [r["Numéro"] for r in audit]
    with zipfile.ZipFile(export.zip) as archive:
        names = archive.namelist()
        assert not [n for n in names if n.startswith(gone.number)]
        [folder] = {n.split("/")[0] for n in names if n.startswith(kept.number)}
        canonical = archive.read(f"{folder}/reponse.json")
        assert hashlib.sha256(canonical).hexdigest() == corrected.digest  # what the receipt states
        assert json.loads(canonical)["reponses"]["raison_sociale"] == "Première SAS (corrigée)"
        assert "export-versions.csv" in names


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
        answers = {p: d for p, d in sums.items() if p.endswith("/reponse.json")}
        assert sorted(answers.values()) == sorted(r.digest for r in world.records[closed_call])
        assert all(hashlib.sha256(archive.read(p)).hexdigest() == d for p, d in answers.items())
        sums = {p: d for p, d in sums.items() if p not in answers}
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
            "1-dossier-reponse.pdf", "2-annexe.pdf", "reponse.json"}
        assert all(".." not in p.split("/") and not p.startswith("/") for p in names)


def test_hostile_answers_are_never_formulas(world, storage, closed_call, now, tmp_path):
    for text in HOSTILE:
        world.submit(closed_call, now - dt.timedelta(days=2), raison_sociale=text, solution=text, files=())
    export = build_export(storage, catalogue_call(world, closed_call), str(tmp_path), basename="export")
    with zipfile.ZipFile(export.xlsx) as package:
        sheet_xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = openpyxl.load_workbook(export.xlsx).worksheets[0]
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
    columns = headers.index("Raison sociale"), headers.index("Votre solution")
    seen = set()
    for row in sheet.iter_rows(min_row=2):
        for cell in (row[columns[0]], row[columns[1]]):
            assert cell.data_type == "s" and cell.quotePrefix, cell.value
            seen.add(cell.value)
    assert seen == {t.replace("\r", "\n") for t in HOSTILE}  # XML reads a carriage return as a line feed
    lines = csv_rows(export.csv)
    assert sorted(line["Raison sociale"] for line in lines) == sorted("'" + t for t in HOSTILE)
    assert all(line["Votre solution"].startswith("'") for line in lines)


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
    first, second, third = sheet_rows(export.xlsx)  # in the order they were received
    assert first["Effectif"] == str(huge) and first["Date de création"] == "31 février" and first["Thèmes"] == "Air"
    assert first["Votre solution"] == '{"texte": "imbriqué", "n": [1, 2]}'
    assert first["J'accepte le règlement"] == '["oui"]'
    assert second["Effectif"] == "nan" and second["Date de création"] == 12
    assert third["Effectif"] == "2.5e+20"
    assert csv_rows(export.csv)[0]["Effectif"] == str(huge)


def test_rows_come_in_order_of_receipt_and_repeats_from_one_address_are_flagged(world, storage, closed_call, now,
                                                                                tmp_path):
    times = [now - dt.timedelta(days=d, minutes=m) for d, m in ((2, 0), (5, 0), (1, 30), (3, 7))]
    records = [world.submit(closed_call, when, files=(), email=address)
               for when, address in zip(times, ("a@x.example", "b@x.example", "A@x.example", "c@x.example"))]
    export = build_export(storage, catalogue_call(world, closed_call), str(tmp_path), basename="export")
    rows = sheet_rows(export.xlsx)
    by_time = sorted(records, key=lambda r: r.received_at)
    assert [r["Numéro"] for r in rows] == [r.number for r in by_time]
    flags = {r["Numéro"]: r["Autres réponses de la même adresse"] for r in rows}
    assert flags[records[0].number] == records[2].number and flags[records[2].number] == records[0].number
    assert flags[records[1].number] is None and flags[records[3].number] is None
