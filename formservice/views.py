"""Pages of the form service: the answer form, the receipt, /healthz, and the error pages.

A receipt is shown only after every object of the submission is confirmed stored; whatever goes
wrong before that, the person gets the form back with what they typed, the files they sent, and a
sentence saying why. Corrections, withdrawals and drafts are in formservice.lifecycle.
"""

from __future__ import annotations

import logging
import re
import secrets

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from callmodel import urls
from callmodel.french import french_size
from callmodel.schema import SLUG_RE, Call

from . import attempt as answering
from . import drafts, ratelimit, receipts, submission, tokens
from .attempt import ACTION, DRAFT, FORM_TOKEN, HONEYPOT, SECOND, Attempt
from .mail import MailUnavailable
from .pages import notice, now, public_url
from .published import CatalogueUnavailable, answer_state
from .services import services
from .storage import StorageUnavailable
from .submission import Submission
from .uploads import TEXT_PART_MAX, total_limit
from .validation import Invalid, check_email

log = logging.getLogger(__name__)

answers = Blueprint("answers", __name__)
health = Blueprint("health", __name__)

ANSWERED = "answered"  # in the session cookie: the answers sent from this browser, by call
PENDING = "pending"  # in the session cookie: versions whose storing met a storage error
ANSWERED_KEPT = 20
DRAFT_MAIL_SECONDS = 600  # a draft saved again soon after does not mail its link again
_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def init_app(app: Flask) -> None:
    app.register_blueprint(answers)
    app.register_blueprint(health)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(CatalogueUnavailable, catalogue_down)
    app.register_error_handler(HTTPException, http_error)


def new_attempt(call: Call, **values) -> Attempt:
    token = values.pop("form_token", None) or tokens.new_form_token(current_app.config["SECRET_KEY"])
    return Attempt(call, form_token=token, previous=previous_answer(call.slug), **values)


@answers.route("/" + urls.ANSWER.format(slug="<slug>"), methods=["GET", "POST"])
def answer(slug):
    call = services().catalogue.get(slug)
    if call is None:
        return notice("unknown", 404)
    # One reading of the clock per request, once its body has arrived: the deadline is judged and
    # the answer dated by the same instant (the time of receipt that counts).
    received = now()
    state = answer_state(call, received)
    if state == "closed" and request.method == "POST":
        late = Attempt(call, form=request.form)
        return render_template("notice.html", kind="late", call=call, values=late.values), 403
    if state != "open":
        return notice(state, 200 if request.method == "GET" else 403, call=call)
    if request.method == "GET":
        return new_attempt(call).render()
    return submit(call, received)


def submit(call: Call, received):
    form, config = request.form, current_app.config
    attempt = new_attempt(call, form=form, form_token=form.get(FORM_TOKEN))
    if form.get(HONEYPOT):
        log.info("formservice: honeypot filled on %s from %s", call.slug, request.remote_addr)
        return notice("refused", 400, call=call)
    try:
        # A form without its token is refused like a forged one: a resend must never be a new answer.
        answer_id = tokens.submission_id(config["SECRET_KEY"], call.slug, form.get(FORM_TOKEN) or "")
    except tokens.BadFormToken:
        attempt.form_token = tokens.new_form_token(config["SECRET_KEY"])
        attempt.notice = "expired"
        return attempt.render(400)
    storage = services().storage
    try:
        if not within_rate(answer_id, received):
            return notice("rate_limited", 429, call=call)
        found, files = answering.read(attempt, storage, answer_id)
        if form.get(ACTION) == DRAFT:
            return save_draft(call, attempt, answer_id)
        if attempt.errors or attempt.notice:
            return attempt.render(413 if attempt.notice == "too_large" else 422)
        previous = previous_answer(call.slug)
        if previous and previous["id"] != answer_id and form.get(SECOND) != "oui":
            attempt.notice = "already_answered"
            return attempt.render(409)
        email = found.get(call.email_field.name) if call.email_field else None
        # No read first: storing is create-only (the record's IfNoneMatch), and file keys carry
        # their content's hash, so a resent form rewrites the same bytes and then finds its record.
        try:
            record = submission.store(storage, call, answer_id, found, files, email=email,
                                      build=services().catalogue.build, prefix=config["RECEIPT_PREFIX"], now=received)
        except FileExistsError:
            record = submission.load(storage, call.slug, answer_id, 1)
            if record.fingerprint != submission.fingerprint(found, files):
                attempt.form_token = tokens.new_form_token(config["SECRET_KEY"])
                attempt.kept = {}
                attempt.notice = "reused"
                return attempt.render(409)
            acknowledge_if_pending(call, record)
        except StorageUnavailable:
            remember_pending(answer_id, 1)
            raise
        else:
            acknowledge(call, record)
        remember_answer(record)
    except StorageUnavailable:
        log.exception("formservice: storage unavailable, submission to %s not saved", call.slug)
        attempt.notice = "storage_down"
        attempt.files_lost = any(f.filename for f in request.files.values())
        return attempt.render(503)
    return redirect(receipt_url(record), 303)


def within_rate(attempt_id: str, moment) -> bool:
    """Each attempt (a form, a correction, a draft) counts once per address and window."""
    config = current_app.config
    return ratelimit.allow(services().storage, request.remote_addr or "", attempt_id,
                           limit=int(config["RATE_LIMIT"]), window=int(config["RATE_WINDOW_SECONDS"]),
                           secret=config["SECRET_KEY"], now=moment)


def save_draft(call: Call, attempt: Attempt, answer_id: str):
    """Keep what was typed and sent, and mail a private link to finish it later."""
    field = call.email_field
    attempt.errors = {}
    try:
        email = check_email(str(attempt.values.get(field.name) or ""), field)
    except Invalid:
        attempt.errors[field.name] = ("Pour recevoir le lien qui permet de reprendre votre réponse, saisissez une "
                                      "adresse électronique valide.")
        return attempt.render(422)
    storage = services().storage
    earlier = drafts.load(storage, call.slug, answer_id)
    moment = now()
    mail_again = (earlier is None or earlier.email != email or earlier.mailed_at is None
                  or (moment - earlier.mailed_at).total_seconds() > DRAFT_MAIL_SECONDS)
    draft = drafts.Draft(id=answer_id, slug=call.slug, form_token=attempt.form_token, email=email,
                         values=attempt.values, files=tuple(attempt.kept.values()), saved_at=moment,
                         link_salt=earlier.link_salt if earlier else secrets.token_urlsafe(16),
                         mailed_at=moment if mail_again else earlier.mailed_at)
    drafts.save(storage, draft)
    link = link_of("reprendre", call.slug, answer_id, draft.link_salt)
    if mail_again:
        deliver(receipts.draft_message(call, draft, public_url("lifecycle.resume", slug=call.slug, answer_id=answer_id,
                                                                token=link)),
                f"draft-{answer_id}-{int(moment.timestamp())}")
    page = render_template("draft_saved.html", call=call, draft=draft, mailed=mail_again,
                           link=url_for("lifecycle.resume", slug=call.slug, answer_id=answer_id, token=link))
    return page, 200, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def link_of(purpose: str, slug: str, answer_id: str, salt: str) -> str:
    return tokens.link_token(current_app.config["SECRET_KEY"], purpose, slug, answer_id, salt)


def links(call: Call | None, record: Submission, *, absolute: bool = False) -> dict[str, str]:
    """The private links of an answer: its receipt, and while the call is open and the answer
    stands, the links to correct or withdraw it."""
    build = public_url if absolute else url_for
    values = {"slug": record.slug, "answer_id": record.id}
    found = {"recu": build("answers.receipt", token=link_of("recu", record.slug, record.id, record.link_salt),
                           **values)}
    if call is not None and answer_state(call, now()) == "open" and not record.withdrawn:
        for purpose, endpoint in (("modifier", "lifecycle.correct"), ("retirer", "lifecycle.withdraw")):
            found[purpose] = build(endpoint, token=link_of(purpose, record.slug, record.id, record.link_salt),
                                   **values)
    return found


def receipt_url(record: Submission) -> str:
    return links(None, record)["recu"]


def acknowledge(call: Call, record: Submission) -> None:
    """Queue the receipt mail of a version and let it go in the background."""
    deliver(receipts.receipt_message(call, record, links(call, record, absolute=True)),
            f"receipt-{record.id}-v{record.version}")


def remember_pending(answer_id: str, version: int) -> None:
    """Storing a version failed on a storage error: it may have been stored all the same, with no
    receipt queued. The session remembers it, so that the same form sent again queues the receipt."""
    pending = [p for p in session.get(PENDING) or () if p != f"{answer_id}-{version}"]
    session[PENDING] = [*pending, f"{answer_id}-{version}"][-ANSWERED_KEPT:]


def acknowledge_if_pending(call: Call, record: Submission) -> None:
    """A version found already stored when this browser sends it again: if an earlier sending met
    a storage error (so its receipt was never queued), queue the receipt now; if not, it is a form
    sent twice and its receipt is on its way."""
    pending = list(session.get(PENDING) or ())
    if f"{record.id}-{record.version}" in pending:
        pending.remove(f"{record.id}-{record.version}")
        session[PENDING] = pending
        acknowledge(call, record)


def deliver(message, key: str) -> None:
    """Queue a mail; if it cannot even be queued (storage down a moment after a record was
    stored), try to send it right away rather than lose it."""
    try:
        services().outbox.deliver(message, key)
    except StorageUnavailable:
        try:
            services().mailer.send(message)
        except MailUnavailable:
            log.exception("formservice: mail %s neither queued nor sent", key)


def previous_answer(slug: str) -> dict | None:
    """The last answer sent to this call from this browser, as the session cookie remembers it."""
    return (session.get(ANSWERED) or {}).get(slug)


def remember_answer(record: Submission) -> None:
    answered = {k: v for k, v in (session.get(ANSWERED) or {}).items() if k != record.slug}
    answered[record.slug] = {"id": record.id, "version": record.version, "number": record.number,
                             "receipt": receipt_url(record), "at": record.received_text}
    session[ANSWERED] = dict(list(answered.items())[-ANSWERED_KEPT:])


def checked_answer(slug: str, answer_id: str, purpose: str, token: str) -> list[Submission] | None:
    """Every version of an answer, if the link is genuine for that purpose (None otherwise)."""
    if not SLUG_RE.match(slug) or not _ID_RE.match(answer_id):
        return None
    found = submission.versions(services().storage, slug, answer_id)
    if not found or not tokens.link_ok(current_app.config["SECRET_KEY"], purpose, slug, answer_id,
                                       found[0].link_salt, token):
        return None
    return found


@answers.get("/recu/<slug>/<answer_id>/<token>")
def receipt(slug, answer_id, token):
    try:
        found = checked_answer(slug, answer_id, "recu", token)
    except StorageUnavailable:
        return notice("storage_down", 503)
    if found is None:
        return notice("no_receipt", 404)
    return receipt_page(found, request.args.get("version", type=int))


def receipt_page(found: list[Submission], version: int | None = None, *, status: int = 200, note: str = ""):
    """A version's receipt (the last by default), with every version of the answer listed."""
    record = next((r for r in found if r.version == version), found[-1])
    call = services().catalogue.get(record.slug)
    current = links(call, found[-1])
    page = render_template("receipt.html", record=record, call=call, versions=found, latest=found[-1],
                           rows=receipts.answer_rows(call, record), changed=receipts.changed_labels(call, record),
                           links=current, note=note, closes=call.closes if call else None)
    return page, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


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
            new_attempt(calls[0]).render()
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
            attempt = new_attempt(call, form=request.form, form_token=request.form.get(FORM_TOKEN))
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

