"""The acknowledgement of receipt: the rows it lists and the e-mails (text + HTML) that carry it, and
the mail that carries a draft's link."""

from __future__ import annotations

import datetime as dt
import email.utils
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from flask import current_app, render_template

from callmodel.french import french_date, french_datetime
from callmodel.schema import Call

from .mail import message_id
from .submission import Submission

# Quoted-printable bodies: safe for any line length, and still readable in a raw message file.
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP


def show_answer(value) -> str:
    """An answer as a person reads it: Oui/Non, lists joined, a dash when left empty."""
    if value is True:
        return "Oui"
    if value is False:
        return "Non"
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return str(value).replace(".", ",")
    return str(value)


def answer_rows(call: Call | None, record: Submission) -> list[tuple[str, object]]:
    """(label, value) of every answer, in the order of the form; labels from the record if the call
    has left the catalogue since."""
    labels = dict(record.labels)
    if call is not None:
        labels.update({f.name: f.label for f in call.fields})
    return [(labels.get(name, name), value) for name, value in record.answers.items()]


def changed_labels(call: Call | None, record: Submission) -> list[str]:
    """What a correction changed, by the fields' labels."""
    labels = dict(record.labels)
    if call is not None:
        labels.update({f.name: f.label for f in call.fields})
    return [labels.get(name, name) for name in record.changed]


def version_text(record: Submission) -> str:
    """The version of the call text the answer was made against, in words and as a commit."""
    words = f"version du {french_date(dt.date.fromisoformat(record.call_version_date))}" \
        if record.call_version_date else "version"
    return f"{words}, {record.call_version[:12]}" if record.call_version else "non renseignée"


def _message(subject: str, to: str, kind: str, key: str, text: str, html: str) -> Message:
    """Built with the email package's classic MIME classes: a tenth of the CPU of EmailMessage's
    header registry, which was a tenth of the form service's time per answer."""
    config = current_app.config
    message = MIMEMultipart("alternative")
    message["Subject"] = Header(subject, "utf-8")
    message["From"] = email.utils.formataddr(email.utils.parseaddr(config["MAIL_FROM"]), "utf-8")
    message["To"] = to
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = message_id(kind, key, config["URL"])
    message["Auto-Submitted"] = "auto-generated"
    message.attach(MIMEText(text, "plain", UTF8_QP))
    message.attach(MIMEText(html, "html", UTF8_QP))
    return message


def receipt_message(call: Call, record: Submission, links: dict[str, str]) -> Message:
    """The receipt of one version (a first answer, a correction or a withdrawal), with the private
    links to read it online and, while the call is open, to correct or withdraw the answer."""
    values = {"record": record, "call": call, "rows": answer_rows(call, record), "links": links,
              "changed": changed_labels(call, record), "call_version": version_text(record)}
    if record.withdrawn:
        subject = f"Accusé de retrait {record.number} – {call.title}"
    elif record.version > 1:
        subject = f"Accusé de réception {record.number}, version {record.version} – {call.title}"
    else:
        subject = f"Accusé de réception {record.number} – {call.title}"
    return _message(subject, record.email, "receipt", f"{record.id}-v{record.version}",
                    render_template("receipt_mail.txt", **values), render_template("receipt_mail.html", **values))


def draft_message(call: Call, draft, link: str) -> Message:
    """The private link to resume a saved draft, valid until the call closes."""
    values = {"call": call, "draft": draft, "link": link,
              "saved": french_datetime(draft.saved_at.astimezone(call.opens.tzinfo))}
    return _message(f"Votre réponse en cours – {call.title}", draft.email, "draft",
                    f"{draft.id}-{int(draft.saved_at.timestamp())}",
                    render_template("draft_mail.txt", **values), render_template("draft_mail.html", **values))
