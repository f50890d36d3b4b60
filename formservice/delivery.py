"""Exports sent to partners by email: by hand, on schedule (cron, any host), on a partner's request.

The mail carries the spreadsheet (XLSX and CSV) and the ZIP of attachments up to
EXPORT_ATTACH_MAX_MB; a larger ZIP is stored under `exports/<slug>/files/` and sent as a presigned
link valid EXPORT_LINK_DAYS.

What the schedule sent is recorded under `exports/<slug>/sent/<what>.json`, created with
IfNoneMatch='*' BEFORE anything is built or sent: of two runs or two hosts, only the one whose
create succeeded sends. The record says `claimed`, then `sent` (or `empty`) once SMTP took the
message. If SMTP refuses or is down, the record is removed and the next run tries again. If the
process dies between claim and send, the record stays `claimed`: nothing is sent again by itself
(we cannot know whether the SMTP server took the mail, and a partner must never get it twice);
every later run reports it as unconfirmed and exits non-zero, so cron mails the operator, who
checks the mail log and sends it by hand with `calls export SLUG --send` if it never left.

Answers are sealed until the call closes (equal treatment): an open call's answers are sent only
to calls that chose a `digest`, or by an operator who says so explicitly.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
import os
import socket
import tempfile
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from callmodel import urls
from callmodel.french import french_datetime
from callmodel.schema import MB, Call

from . import submission
from .exports import Export, Progress, build_export
from .mail import Mailer, MailRejected, MailUnavailable
from .storage import SUBMISSIONS, Storage

log = logging.getLogger(__name__)

EXPORTS = "exports"
REQUESTS = f"{EXPORTS}/_requests"  # slugs never start with "_": no clash with exports/<slug>/
LINKS = f"{EXPORTS}/_links"  # the export page's mailed links: <slug>/<window>.json, used/<nonce>
# A submission accepted just before a moment may be stored a little after it: periods end this much
# in the past, and a call's final export waits this long after it closes.
SETTLE = dt.timedelta(minutes=5)
# A `claimed` record older than this was left by a run that died (an export never takes that long).
STALE = dt.timedelta(hours=6)
MAX_LINK_DAYS = 7  # SigV4 presigned URLs cannot live longer


def sent_key(slug: str, what: str) -> str:
    return f"{EXPORTS}/{slug}/sent/{what}.json"


def months_after(moment: dt.datetime, months: int) -> dt.datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def sealed(call: Call, now: dt.datetime) -> bool:
    """True while answers may not reach the partner: open (or upcoming) and no digest chosen."""
    return call.status(now) != "closed" and not call.digest


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d-%H%M")


@dataclass
class Sending:
    """One export mail to send: which call, what kind, which submissions."""

    call: Call
    kind: str  # "final", "digest", "manual" or "request"
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def export_message(export: Export, sending: Sending, config: Mapping, *, closed: bool, link: str | None,
                   link_expires: dt.datetime | None, zip_size: int) -> EmailMessage:
    call = export.call
    tz = ZoneInfo(call.timezone)
    subject = {"final": "export final", "digest": "nouvelles réponses", "manual": "export",
               "request": "export demandé"}[sending.kind]
    message = EmailMessage()
    message["Subject"] = f"{call.title} : {export.count} réponse{'s' if export.count != 1 else ''} ({subject})"
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(call.exports_to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="appels.invalid")
    message["Auto-Submitted"] = "auto-generated"

    if sending.kind == "digest":
        intro = f"Voici les nouvelles réponses à l'appel « {call.title} » ({call.partner_name}), toujours ouvert"
        intro += f" jusqu'au {french_datetime(call.closes)}." if call.closes else "."
    elif closed:
        intro = f"Voici les réponses à l'appel « {call.title} » ({call.partner_name}), clos le " \
                f"{french_datetime(call.closes)}."
    else:
        intro = f"Voici les réponses reçues à ce jour à l'appel « {call.title} » ({call.partner_name})."
    if export.count:
        period = f"du {french_datetime(export.first.astimezone(tz))} au {french_datetime(export.last.astimezone(tz))}"
    else:
        period = "aucune réponse reçue sur la période"
    if sending.kind == "digest" and sending.since:
        period += f" (réponses arrivées depuis l'envoi précédent, le {french_datetime(sending.since.astimezone(tz))})"
    name = os.path.basename
    lines = [
        "Bonjour,", "", intro, "",
        f"Nombre de réponses : {export.count}",
        f"Période couverte : {period}",
        f"Pièces jointes des candidats : {export.files} fichier{'s' if export.files != 1 else ''}", "",
        "Les fichiers :",
        f"- {name(export.xlsx)} : le tableau des réponses, une ligne par réponse dans sa dernière version"
        " (numéro, date de réception, version, chaque réponse dans l'ordre du formulaire, le nom, la taille"
        " et l'empreinte SHA-256 de chaque fichier, et l'empreinte de la réponse que le candidat a reçue"
        " dans son accusé de réception). Les réponses retirées par leur auteur n'y sont pas. Une seconde"
        " feuille, « Versions », retrace chaque version de chaque réponse (dépôt, modification, retrait)."
        " Il s'ouvre directement avec Excel ou LibreOffice Calc.",
        f"- {name(export.csv)} : le même tableau en CSV, encodé en UTF-8, colonnes séparées par un"
        " point-virgule (;). Excel l'ouvre d'un double clic ; sinon : Données > À partir d'un fichier"
        " texte/CSV, origine « 65001 : Unicode (UTF-8) », délimiteur « Point-virgule ». LibreOffice :"
        " jeu de caractères « Unicode (UTF-8) », séparé par « Point-virgule ».",
    ]
    if link:
        lines += [f"- Les pièces jointes des candidats ({zip_size / MB:.0f} Mo), trop volumineuses pour ce"
                  f" courriel, sont à télécharger avant le {french_datetime(link_expires)} :", f"  {link}"]
    else:
        lines.append(f"- {name(export.zip)} : les pièces jointes des candidats, un dossier par réponse"
                     " (numéro et nom du candidat), avec les tableaux.")
    lines += [
        "  Chaque dossier contient aussi reponse.json : la réponse telle qu'elle a été reçue, dont l'empreinte"
        " SHA-256 est celle de l'accusé de réception du candidat. Le fichier SHA256SUMS.txt du ZIP donne"
        " l'empreinte de chaque fichier, pour vérifier qu'il est identique à celui reçu.", "",
        "Une réponse commençant par =, +, -, @ est gardée comme du texte (précédée d'une apostrophe dans"
        " le CSV) : aucune formule venue d'un candidat ne s'exécute dans votre tableur.", "",
        f"Ces fichiers contiennent des données personnelles : conservez-les au plus {config['RETENTION_MONTHS']}"
        " mois après la clôture de l'appel, sauf obligation légale de conservation plus longue.", "",
        "Pour recevoir à nouveau ces réponses plus tard (un lien est envoyé aux adresses qui reçoivent ce"
        " courriel) :", urls.join(config["URL"], urls.EXPORT.format(slug=call.slug)), "",
        "-- ", config["SITENAME"], "Message automatique : ne pas répondre.",
    ]
    message.set_content("\n".join(lines))
    attach(message, export.xlsx, "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    attach(message, export.csv, "text", "csv")
    if not link:
        attach(message, export.zip, "application", "zip")
    return message


def attach(message: EmailMessage, path: str, maintype: str, subtype: str) -> None:
    with open(path, "rb") as handle:
        message.add_attachment(handle.read(), maintype=maintype, subtype=subtype, filename=os.path.basename(path))


def send_export(storage: Storage, mailer: Mailer, config: Mapping, sending: Sending, *, now: dt.datetime,
                progress: Progress | None = None) -> Export:
    """Build the export in a temporary folder and mail it to the call's exports_to (MailUnavailable
    rises: nothing was sent)."""
    call = sending.call
    if not call.exports_to:
        raise ValueError(f"{call.slug}: no exports_to address")
    days = int(config["EXPORT_LINK_DAYS"])
    if not 0 < days <= MAX_LINK_DAYS:
        raise ValueError(f"EXPORT_LINK_DAYS must be between 1 and {MAX_LINK_DAYS} (S3 presigned links)")
    local = now.astimezone(ZoneInfo(call.timezone))
    basename = f"{call.slug}-{'nouvelles-' if sending.kind == 'digest' else ''}{stamp(local)}"
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        export = build_export(storage, call, folder, basename=basename, since=sending.since, until=sending.until,
                              progress=progress)
        size = os.path.getsize(export.zip)
        link = expires = None
        if size > float(config["EXPORT_ATTACH_MAX_MB"]) * MB:
            key = f"{EXPORTS}/{call.slug}/files/{basename}-{uuid.uuid4().hex[:8]}.zip"
            storage.put_file(key, export.zip, content_type="application/zip")
            link = storage.download_url(key, seconds=days * 86400, filename=os.path.basename(export.zip))
            expires = local + dt.timedelta(days=days)
        message = export_message(export, sending, config, closed=call.status(now) == "closed", link=link,
                             link_expires=expires, zip_size=size)
        mailer.send(message)
    log.info("formservice: export %s of %s (%d submissions) sent to %d address(es)", sending.kind, call.slug,
             export.count, len(call.exports_to))
    return export


@dataclass
class Report:
    """What a `send-exports` run did, one line per action, and what needs a person."""

    lines: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unconfirmed and not self.failed


def due(call: Call, storage: Storage, *, now: dt.datetime, retention_months: int) -> tuple[str, Sending] | None:
    """What the schedule owes this call now: its final export, this period's digest, or nothing."""
    if not call.fields or not call.exports_to or call.closes is None:
        return None
    if now >= call.closes + SETTLE:
        if now < months_after(call.closes, retention_months) and final_owed(storage, call):
            return "final", Sending(call, "final")
        return None
    if call.status(now) == "open":
        mark_seen_open(storage, call.slug, now)
    if call.status(now) != "open" or call.digest not in ("daily", "weekly"):
        return None
    local = now.astimezone(ZoneInfo(call.timezone))
    if call.digest == "daily":
        period = local.strftime("%Y-%m-%d")
    else:
        year, week, _ = local.isocalendar()
        period = f"{year}-W{week:02d}"
    previous = last_digest(storage, call.slug)
    since = dt.datetime.fromisoformat(previous["until"]) if previous else None
    return f"digest-{period}", Sending(call, "digest", since=since, until=now - SETTLE)


def final_owed(storage: Storage, call: Call) -> bool:
    """A closed call owes its partner a final export (sent once: its claim says so) unless it closed
    before the platform ever saw it open and nobody answered it here: a platform started after old
    calls closed mails no "0 réponses" about them."""
    try:
        storage.get(sent_key(call.slug, "final"))
        return True  # claimed or sent: the claim decides, and reports one never confirmed
    except FileNotFoundError:
        pass
    if next(iter(storage.children(f"{SUBMISSIONS}/{call.slug}/")), None) is not None:
        return True
    try:
        storage.get(seen_key(call.slug))
        return True
    except FileNotFoundError:
        return False


def seen_key(slug: str) -> str:
    return f"{EXPORTS}/{slug}/seen-open.json"


def mark_seen_open(storage: Storage, slug: str, now: dt.datetime) -> None:
    """Remember that the schedule saw this call open (its final export will be owed)."""
    try:
        storage.put(seen_key(slug), json.dumps({"at": now.isoformat()}).encode(), content_type="application/json",
                    if_none_match=True)
    except FileExistsError:
        pass


def last_digest(storage: Storage, slug: str) -> dict | None:
    keys = [k for k in storage.keys(f"{EXPORTS}/{slug}/sent/digest-")]
    for key in sorted(keys, reverse=True):
        try:
            return json.loads(storage.get(key))
        except FileNotFoundError:
            continue
    return None


def claim(storage: Storage, slug: str, what: str, body: dict) -> bool:
    """Create the record of a sending; False if another run or host already did."""
    try:
        storage.put(sent_key(slug, what), json.dumps(body, ensure_ascii=False).encode(),
                    content_type="application/json", if_none_match=True)
        return True
    except FileExistsError:
        return False


def send_claimed(storage: Storage, mailer: Mailer, config: Mapping, what: str, sending: Sending, report: Report,
                 *, now: dt.datetime, host: str, progress: Progress | None = None) -> bool:
    """Claim `what`, then send it; False only when it failed and was released for a later run."""
    call = sending.call
    body = {"what": what, "slug": call.slug, "kind": sending.kind, "state": "claimed", "host": host,
            "claimed_at": now.isoformat(), "since": sending.since.isoformat() if sending.since else None,
            "until": sending.until.isoformat() if sending.until else None, "to": list(call.exports_to)}
    if not claim(storage, call.slug, what, body):
        check_claim(storage, call.slug, what, report, now=now)
        return True
    key = sent_key(call.slug, what)
    try:
        if sending.kind == "digest" and not any_new(storage, call, sending):
            body.update(state="empty")
            storage.put(key, json.dumps(body, ensure_ascii=False).encode(), content_type="application/json")
            report.lines.append(f"{call.slug}: {what}: no new submission, nothing sent")
            return True
        export = send_export(storage, mailer, config, sending, now=now, progress=progress)
    except MailRejected as exc:
        # Never deliverable as it is (a recipient refused for good): set aside with its reason, not
        # retried on every run; a person fixes exports_to, then sends it with `calls export --send`.
        body.update(state="failed", failed_at=dt.datetime.now(dt.timezone.utc).isoformat(), reason=str(exc))
        storage.put(key, json.dumps(body, ensure_ascii=False).encode(), content_type="application/json")
        report.failed.append(f"{call.slug}: {what}: refused by the mail server ({exc}); set aside in {key}: fix "
                             f"exports_to, then run `calls export {call.slug} --send`")
        return True
    except Exception as exc:  # noqa: BLE001 - one call's failure must not stop the others' exports
        # Nothing left: the claim is released so that the next run tries again.
        storage.delete(key)
        report.failed.append(f"{call.slug}: {what}: not sent ({exc}); will be retried")
        if not isinstance(exc, (MailUnavailable, OSError)):
            log.exception("formservice: export %s of %s failed", what, call.slug)
        return False
    body.update(state="sent", sent_at=dt.datetime.now(dt.timezone.utc).isoformat(), count=export.count)
    storage.put(key, json.dumps(body, ensure_ascii=False).encode(), content_type="application/json")
    report.lines.append(f"{call.slug}: {what}: {export.count} submission(s) sent to {len(call.exports_to)} address(es)")
    return True


def any_new(storage: Storage, call: Call, sending: Sending) -> bool:
    return any((not sending.since or record.received_at >= sending.since) and record.received_at < sending.until
               for record in submission.iter_submissions(storage, call.slug))


def check_claim(storage: Storage, slug: str, what: str, report: Report, *, now: dt.datetime) -> None:
    try:
        record = json.loads(storage.get(sent_key(slug, what)))
    except FileNotFoundError:
        return
    if record.get("state") != "claimed":
        return
    claimed_at = dt.datetime.fromisoformat(record["claimed_at"])
    if now - claimed_at > STALE:
        report.unconfirmed.append(
            f"{slug}: {what} claimed by {record.get('host')} at {record['claimed_at']} but never confirmed sent: "
            f"check the mail log; if it never left, run `calls export {slug} --send` "
            f"(record: {sent_key(slug, what)})")
    else:
        report.lines.append(f"{slug}: {what}: being sent by {record.get('host')} since {record['claimed_at']}")


def request_export(storage: Storage, call: Call, *, now: dt.datetime) -> str:
    """Queue a partner's request for `send_exports` (exports are too long to build inside a request)."""
    request_id = f"{stamp(now.astimezone(dt.timezone.utc))}-{uuid.uuid4().hex[:12]}"
    storage.put(f"{REQUESTS}/{call.slug}/{request_id}.json",
                json.dumps({"slug": call.slug, "requested_at": now.isoformat()}).encode(),
                content_type="application/json")
    return request_id


def send_exports(storage: Storage, mailer: Mailer, calls: Iterable[Call], config: Mapping, *,
                 now: dt.datetime, host: str | None = None, progress: Progress | None = None) -> Report:
    """Everything the schedule owes: final exports, digests, and partners' queued requests."""
    host = host or socket.gethostname()
    report = Report()
    known = {}
    for call in calls:
        known[call.slug] = call
        found = due(call, storage, now=now, retention_months=int(config["RETENTION_MONTHS"]))
        if found:
            what, sending = found
            send_claimed(storage, mailer, config, what, sending, report, now=now, host=host, progress=progress)
    for key in list(storage.keys(REQUESTS + "/")):
        slug, request_id = key[len(REQUESTS) + 1:].removesuffix(".json").split("/", 1)
        call = known.get(slug)
        if call is None or sealed(call, now) or not call.exports_to:
            report.lines.append(f"{slug}: request {request_id} dropped (call unknown, sealed or without exports_to)")
            storage.delete(key)
            continue
        if send_claimed(storage, mailer, config, f"request-{request_id}", Sending(call, "request"), report,
                        now=now, host=host, progress=progress):
            storage.delete(key)
    return report
