"""The life of an answer after it is sent, without an account: correct it, withdraw it, or resume a
draft, each through a private link mailed to the applicant (formservice.tokens.link_token).

Until the call closes (the service's clock), a correction is a new version with its own receipt,
and a withdrawal is a last version that says so; the partner's export holds the last version of
each answer, withdrawn ones excluded. After the deadline, or once an answer is withdrawn, a link
shows the answer as it stands, read-only: never an error page.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for

from callmodel.schema import SLUG_RE

from . import attempt as answering
from . import drafts, submission, tokens
from .attempt import CORRECTION, Attempt
from .pages import notice, now
from .published import answer_state
from .services import services
from .storage import StorageUnavailable
from .submission import WITHDRAWN, Submission
from .views import (acknowledge, acknowledge_if_pending, checked_answer, link_of, new_attempt, receipt_page,
                    remember_answer, remember_pending, within_rate)

log = logging.getLogger(__name__)

lifecycle = Blueprint("lifecycle", __name__)
_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def init_app(app: Flask) -> None:
    app.register_blueprint(lifecycle)


def final_or_withdrawn(found: list[Submission]):
    """The read-only page an answer's links show once it can no longer change, or None."""
    call = services().catalogue.get(found[-1].slug)
    if found[-1].withdrawn:
        return receipt_page(found, note="withdrawn")
    if call is None or answer_state(call, now()) != "open":
        return receipt_page(found, note="closed")
    return None


def changeable(slug: str, answer_id: str, purpose: str, token: str):
    """(the answer's versions, None) while its link may still change it; else (…, the page to show
    instead: an unknown link, an answer withdrawn or past its deadline)."""
    found = checked_answer(slug, answer_id, purpose, token)
    if found is None:
        return None, notice("no_receipt", 404)
    return found, final_or_withdrawn(found)


@lifecycle.route("/modifier/<slug>/<answer_id>/<token>", methods=["GET", "POST"])
def correct(slug, answer_id, token):
    try:
        found, instead = changeable(slug, answer_id, "modifier", token)
        if instead is not None:
            return instead
        latest = found[-1]
        call = services().catalogue.get(slug)
        action = url_for("lifecycle.correct", slug=slug, answer_id=answer_id, token=token)
        secret = current_app.config["SECRET_KEY"]
        if request.method == "GET":
            return Attempt(call, values=answering.shown_values(call, latest), kept={f.field: f for f in latest.files},
                           correction=latest, correction_token=tokens.correction_token(secret, answer_id, latest.version),
                           action=action).render()
        attempt = Attempt(call, form=request.form, correction=latest, action=action,
                          correction_token=tokens.correction_token(secret, answer_id, latest.version))
        try:
            corrected, base = tokens.correction_of(secret, request.form.get(CORRECTION) or "")
        except tokens.BadFormToken:
            attempt.notice = "expired"
            return attempt.render(400)
        if corrected != answer_id:
            return notice("no_receipt", 404)
        received = now()
        if not within_rate(f"{answer_id}-{base + 1}", received):
            return notice("rate_limited", 429, call=call)
        found_answers, files = answering.read(attempt, services().storage, answer_id)
        if attempt.errors or attempt.notice:
            return attempt.render(413 if attempt.notice == "too_large" else 422)
        if base != latest.version:
            sent = next((v for v in found if v.version == base + 1), None)
            if sent is not None and sent.fingerprint == submission.fingerprint(found_answers, files):
                return redirect(version_receipt(sent), 303)  # the same correction sent twice
            attempt.notice = "changed_meanwhile"
            return attempt.render(409)
        if submission.fingerprint(found_answers, files) == latest.fingerprint:
            attempt.notice = "unchanged"
            return attempt.render(200)
        if answer_state(call, received) != "open":
            return final_or_withdrawn(found)
        return store_version(call, attempt, latest, found_answers, files, received)
    except StorageUnavailable:
        log.exception("formservice: storage unavailable, correction of %s not saved", answer_id)
        return notice("storage_down", 503)


def store_version(call, attempt: Attempt | None, latest: Submission, found_answers: dict, files: list, received,
                  state: str = submission.SUBMITTED):
    """The next version, created once; a second sending of the same lands on its receipt."""
    email = found_answers.get(call.email_field.name) if state == submission.SUBMITTED else latest.email
    try:
        record = submission.store(services().storage, call, latest.id, found_answers, files, email=email,
                                  build=services().catalogue.build, prefix=current_app.config["RECEIPT_PREFIX"],
                                  now=received, previous=latest, state=state)
    except FileExistsError:
        record = submission.load(services().storage, call.slug, latest.id, latest.version + 1)
        if record.fingerprint != submission.fingerprint(found_answers, files) or record.state != state:
            if attempt is None:
                return redirect(url_for("lifecycle.withdraw", slug=call.slug, answer_id=latest.id,
                                        token=link_of("retirer", call.slug, latest.id, latest.link_salt)), 303)
            attempt.notice = "changed_meanwhile"
            return attempt.render(409)
        acknowledge_if_pending(call, record)
    except StorageUnavailable:
        remember_pending(latest.id, latest.version + 1)
        raise
    else:
        acknowledge(call, record)
    remember_answer(record)
    return redirect(version_receipt(record), 303)


def version_receipt(record: Submission) -> str:
    return url_for("answers.receipt", slug=record.slug, answer_id=record.id, version=record.version,
                   token=link_of("recu", record.slug, record.id, record.link_salt))


@lifecycle.route("/retirer/<slug>/<answer_id>/<token>", methods=["GET", "POST"])
def withdraw(slug, answer_id, token):
    try:
        found, instead = changeable(slug, answer_id, "retirer", token)
        if instead is not None:
            return instead
        call = services().catalogue.get(slug)
        if request.method == "GET":
            page = render_template("withdraw.html", call=call, record=found[-1])
            return page, 200, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
        received = now()
        if not within_rate(f"{answer_id}-{found[-1].version + 1}", received):
            return notice("rate_limited", 429, call=call)
        return store_version(call, None, found[-1], {}, [], received, state=WITHDRAWN)
    except StorageUnavailable:
        log.exception("formservice: storage unavailable, withdrawal of %s not saved", answer_id)
        return notice("storage_down", 503)


@lifecycle.get("/reprendre/<slug>/<answer_id>/<token>")
def resume(slug, answer_id, token):
    if not SLUG_RE.match(slug) or not _ID_RE.match(answer_id):
        return notice("no_draft", 404)
    try:
        draft = drafts.load(services().storage, slug, answer_id)
        sent = submission.versions(services().storage, slug, answer_id)
    except StorageUnavailable:
        return notice("storage_down", 503)
    secret = current_app.config["SECRET_KEY"]
    if draft is None or not tokens.link_ok(secret, "reprendre", slug, answer_id, draft.link_salt, token):
        return notice("no_draft", 404)
    if sent:  # the draft was sent since: its link shows the answer's receipt
        return receipt_page(sent, note="draft_sent")
    call = services().catalogue.get(slug)
    if call is None or answer_state(call, now()) != "open":
        return notice("draft_closed", 410, call=call)
    page = new_attempt(call, values=draft.values, kept={f.field: f for f in draft.files},
                       form_token=draft.form_token).render()
    return page[0], page[1], {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
