"""Pages of the form service: the answer form, the receipt, /healthz, and the error pages.

A receipt is shown only after every object of the submission is confirmed stored; whatever goes
wrong before that, the person gets the form back with what they typed and a sentence saying why.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import re

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from callmodel import urls
from callmodel.dates import utc_now
from callmodel.french import french_datetime, french_size
from callmodel.schema import FILE_FORMATS, SLUG_RE, Call

from . import ratelimit, receipts, submission, tokens
from .mail import MailUnavailable
from .published import CatalogueUnavailable, answer_state
from .services import services
from .storage import StorageUnavailable
from .submission import Submission
from .uploads import (FORM_PARTS_MAX, TEXT_PART_MAX, accepted_formats, check_upload, formats_label, max_bytes,
                      received_bytes, total_limit)
from .validation import Invalid, check_field, number_rule, shown_value

log = logging.getLogger(__name__)

answers = Blueprint("answers", __name__)
health = Blueprint("health", __name__)

FORM_TOKEN = "_form"
HONEYPOT = "_website"
SECOND = "_seconde"  # ticked to send a second answer from a browser that already answered
ANSWERED = "answered"  # in the session cookie: the answers sent from this browser, by call
ANSWERED_KEPT = 20
_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def now() -> dt.datetime:
    """The service's clock: the time of receipt that counts (a test moves it with time-machine)."""
    return utc_now()


def public_url(endpoint: str, **values) -> str:
    """An absolute link to this service from its configured address (FORMSERVICE_URL), never from
    the Host of a request: a forged Host must not put its own address in a mail we send."""
    return urls.join(current_app.config["URL"], url_for(endpoint, **values).lstrip("/"))


def call_page(call: Call) -> str:
    return urls.call_url(current_app.config["SITE_URL"], call.slug)


def init_app(app: Flask) -> None:
    app.register_blueprint(answers)
    app.register_blueprint(health)
    app.jinja_env.filters.update(fdatetime=french_datetime, filesize=french_size, answer=receipts.show_answer)
    app.jinja_env.globals.update(formats_label=formats_label, max_bytes=max_bytes, call_page=call_page,
                                 number_rule=number_rule,
                                 accept_attr=accept_attr, autocomplete=autocomplete)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(CatalogueUnavailable, catalogue_down)
    app.register_error_handler(HTTPException, http_error)

    @app.context_processor
    def theme_variables():
        config = current_app.config
        return {"SITENAME": config["SITENAME"], "SITESUBTITLE": config["SITESUBTITLE"],
                "PUBLISHER_NAME": config["PUBLISHER_NAME"], "SITE": config["SITE_URL"].rstrip("/"),
                "STATIC": "/theme"}


# The browser's autofill purpose of a field (WCAG 1.3.5, RGAA 11.13): by type, else by these
# field names, which the staff guide recommends for forms that ask who is answering.
AUTOCOMPLETE_BY_TYPE = {"email": "email", "tel": "tel", "url": "url"}
AUTOCOMPLETE_BY_NAME = {
    "prenom": "given-name", "nom": "family-name", "nom_contact": "name", "nom_responsable": "name",
    "nom_complet": "name", "raison_sociale": "organization", "nom_structure": "organization",
    "organisation": "organization", "fonction": "organization-title", "adresse": "street-address",
    "code_postal": "postal-code", "commune": "address-level2", "ville": "address-level2", "pays": "country-name",
}


def autocomplete(field) -> str | None:
    return AUTOCOMPLETE_BY_TYPE.get(field.type) or (AUTOCOMPLETE_BY_NAME.get(field.name) if field.type == "text" else None)


def accept_attr(field) -> str:
    exts = accepted_formats(field)
    return ",".join([f".{e}" for e in exts] + [FILE_FORMATS[e][1] for e in exts])


def notice(kind: str, status: int, **values):
    return render_template("notice.html", kind=kind, **values), status


class Attempt:
    """One showing of the form: the call, the values to put back, the errors, a notice on top."""

    def __init__(self, call: Call, form=None, form_token: str | None = None):
        self.call = call
        self.values = {f.name: shown_value(f, form) for f in call.fields if f.type != "file"} if form else {}
        self.form_token = form_token or tokens.new_form_token(current_app.config["SECRET_KEY"])
        self.errors: dict[str, str] = {}
        self.notice = ""

    @property
    def had_files(self) -> bool:
        return bool(request.files) and any(f.filename for f in request.files.values())

    def render(self, status: int = 200):
        labels = {f.name: f.label for f in self.call.fields}
        return render_template("form.html", call=self.call, values=self.values, errors=self.errors,
                               previous=previous_answer(self.call.slug), second=SECOND,
                               total_limit=french_size(total_limit()),
                               error_list=[(n, labels.get(n, ""), m) for n, m in self.errors.items()],
                               notice=self.notice, form_token=self.form_token,
                               has_file_fields=any(f.type == "file" for f in self.call.fields),
                               had_files=request.method == "POST" and self.had_files,
                               honeypot=HONEYPOT, form_token_name=FORM_TOKEN), status


@answers.route("/" + urls.ANSWER.format(slug="<slug>"), methods=["GET", "POST"])
def answer(slug):
    call = services().catalogue.get(slug)
    if call is None:
        return notice("unknown", 404)
    state = answer_state(call, now())
    if state == "closed" and request.method == "POST":
        attempt = Attempt(call, request.form)
        return render_template("notice.html", kind="late", call=call, values=attempt.values), 403
    if state != "open":
        return notice(state, 200 if request.method == "GET" else 403, call=call)
    if request.method == "GET":
        return Attempt(call).render()
    return submit(call)


def submit(call: Call):
    form = request.form
    config = current_app.config
    attempt = Attempt(call, form, form.get(FORM_TOKEN))
    if form.get(HONEYPOT):
        log.info("formservice: honeypot filled on %s from %s", call.slug, request.remote_addr)
        return notice("refused", 400, call=call)
    try:
        # A form without its token is refused like a forged one: a resend must never be a new answer.
        sub_id = tokens.submission_id(config["SECRET_KEY"], call.slug, form.get(FORM_TOKEN) or "")
    except tokens.BadFormToken:
        attempt.form_token = tokens.new_form_token(config["SECRET_KEY"])
        attempt.notice = "expired"
        return attempt.render(400)

    answers_, uploads = {}, []
    file_parts = [f for name in request.files for f in request.files.getlist(name) if f.filename]
    file_fields = {f.name for f in call.fields if f.type == "file"}
    parts = sum(len(values) for _, values in form.lists()) + sum(len(v) for _, v in request.files.lists())
    if parts > FORM_PARTS_MAX:
        attempt.notice = "too_many_parts"
    elif len(file_parts) > config["MAX_FILES"] or any(name not in file_fields for name in request.files):
        attempt.notice = "too_many_files"
    elif received_bytes(file_parts) > total_limit():
        attempt.notice = "too_large"
    for field in call.fields:
        try:
            if field.type == "file":
                parts = [f for f in request.files.getlist(field.name) if f.filename]
                if len(parts) > 1:
                    raise Invalid("Un seul fichier est accepté pour ce champ.")
                upload = check_upload(field, parts[0] if parts else None)
                if upload:
                    uploads.append(upload)
            else:
                answers_[field.name] = check_field(field, form)
        except Invalid as exc:
            attempt.errors[field.name] = str(exc)
            if exc.cleaned is not None:
                attempt.values[field.name] = exc.cleaned
    if attempt.errors or attempt.notice:
        return attempt.render(413 if attempt.notice == "too_large" else 422)
    previous = previous_answer(call.slug)
    if previous and previous["id"] != sub_id and form.get(SECOND) != "oui":
        attempt.notice = "already_answered"
        return attempt.render(409)

    email_field = call.email_field
    email = answers_.get(email_field.name) if email_field else None
    storage = services().storage
    try:
        # No read first: storing is create-only (the record's IfNoneMatch), and file keys carry
        # their content's hash, so a resent form rewrites the same bytes and then finds its record.
        if not ratelimit.allow(storage, request.remote_addr or "", sub_id, limit=int(config["RATE_LIMIT"]),
                               window=int(config["RATE_WINDOW_SECONDS"]), secret=config["SECRET_KEY"], now=now()):
            return notice("rate_limited", 429, call=call)
        try:
            record = submission.store(storage, call, sub_id, answers_, uploads, email=email,
                                      build=services().catalogue.build, prefix=config["RECEIPT_PREFIX"], now=now())
        except FileExistsError:
            record = submission.existing(storage, call.slug, sub_id)
            if record is None or record.fingerprint != submission.fingerprint(answers_, uploads):
                submission.forget_unrecorded_files(storage, record, call.slug, sub_id, uploads)
                attempt.form_token = tokens.new_form_token(config["SECRET_KEY"])
                attempt.notice = "reused"
                return attempt.render(409)
        else:
            send_receipt(call, record)
        remember_answer(record)
    except StorageUnavailable:
        log.exception("formservice: storage unavailable, submission to %s not saved", call.slug)
        attempt.notice = "storage_down"
        return attempt.render(503)
    return redirect(receipt_url(record), 303)


def previous_answer(slug: str) -> dict | None:
    """The last answer sent to this call from this browser, as the session cookie remembers it."""
    return (session.get(ANSWERED) or {}).get(slug)


def remember_answer(record: Submission) -> None:
    answered = {k: v for k, v in (session.get(ANSWERED) or {}).items() if k != record.slug}
    answered[record.slug] = {"id": record.id, "number": record.number, "receipt": receipt_url(record),
                             "at": record.received_text}
    session[ANSWERED] = dict(list(answered.items())[-ANSWERED_KEPT:])


def receipt_url(record: Submission) -> str:
    return url_for("answers.receipt", slug=record.slug, sub_id=record.id, token=record.receipt_token)


def send_receipt(call: Call, record: Submission) -> None:
    """Queue the receipt mail and let it go in the background; if it cannot even be queued (the
    record was stored a moment ago), try to send it right away rather than lose it."""
    link = public_url("answers.receipt", slug=record.slug, sub_id=record.id, token=record.receipt_token)
    message = receipts.receipt_message(call, record, link)
    try:
        services().outbox.deliver(message, record.id)
    except StorageUnavailable:
        try:
            services().mailer.send(message)
        except MailUnavailable:
            log.exception("formservice: receipt mail of %s neither queued nor sent", record.id)


@answers.get("/recu/<slug>/<sub_id>/<token>")
def receipt(slug, sub_id, token):
    if not SLUG_RE.match(slug) or not _ID_RE.match(sub_id):
        return notice("no_receipt", 404)
    try:
        record = submission.existing(services().storage, slug, sub_id)
    except StorageUnavailable:
        return notice("storage_down", 503)
    if record is None or not hmac.compare_digest(record.receipt_token.encode(), token.encode()):
        return notice("no_receipt", 404)
    call = services().catalogue.get(slug)
    page = render_template("receipt.html", record=record, call=call, rows=receipts.answer_rows(call, record))
    return page, 200, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


@health.get("/healthz")
def healthz():
    report = {"storage": "ok", "catalogue": "ok"}
    try:
        services().storage.ping()
    except StorageUnavailable as exc:
        log.warning("formservice: healthz: %s", exc)
        report["storage"] = "unreachable"
    try:
        report["calls"] = len(services().catalogue)
    except CatalogueUnavailable:
        report["catalogue"] = "unreadable"
    report["forms"] = "ok" if can_show_a_form() else "broken"
    report["recipients"] = "unreadable" if services().catalogue.recipients_error else "ok"
    ok = report["storage"] == report["catalogue"] == report["forms"] == report["recipients"] == "ok"
    report["status"] = "ok" if ok else "unavailable"
    return report, 200 if ok else 503


def can_show_a_form() -> bool:
    """Whether this instance can render an answer form at all (theme, templates, secret)."""
    try:
        calls = [c for c in services().catalogue.calls() if c.answered_here]
        if calls:
            Attempt(calls[0]).render()
        else:
            render_template("notice.html", kind="not_found")
    except CatalogueUnavailable:
        return False
    except Exception:  # noqa: BLE001 - anything that breaks a form breaks this check, and is logged
        log.exception("formservice: healthz: a form cannot be shown")
        return False
    return True


def csrf_failed(error: CSRFError):
    """An expired or missing CSRF token: the form comes back filled in, with a fresh token."""
    if request.endpoint == "answers.answer":
        call = services().catalogue.get(request.view_args["slug"])
        if call is not None and answer_state(call, now()) == "open":
            attempt = Attempt(call, request.form, request.form.get(FORM_TOKEN))
            attempt.notice = "expired"
            return attempt.render(400)
    return notice("expired", 400)


def too_large(error):
    """A request the service would not read to the end: its files far over the total limit, or one
    text over TEXT_PART_MAX (either way its answers cannot be read back)."""
    if (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
        return notice("too_large", 413, limit=french_size(total_limit()), sent=french_size(request.content_length),
                      back=request.path)
    return notice("text_too_large", 413, limit=french_size(TEXT_PART_MAX), back=request.path)


def catalogue_down(error):
    log.error("formservice: %s", error)
    return notice("catalogue_down", 503)


def http_error(error: HTTPException):
    if error.code == 404:
        return notice("not_found", 404)
    return notice("error", error.code or 500, code=error.code)
