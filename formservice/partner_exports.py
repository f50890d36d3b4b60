"""The partner's page to receive a call's answers again (`/appels/<slug>/export`).

Partners have no account, so the page hands out nothing: asking sends a **single-use link** to the
call's `exports_to` addresses (nothing typed in the page is used), and the page only says "if your
address receives the answers of this call, check your mail". Requests within a window are folded
into one link mail. Opening the link shows a confirmation; confirming (a POST: mail scanners follow
links, they do not submit forms) uses the link up and queues the export, which `calls send-exports`
(cron) builds and mails, since a large call takes longer than a web request may. At most
EXPORT_REQUEST_LIMIT exports per call and per day, counted in S3 and shared by every instance.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import uuid
from email.message import EmailMessage

from flask import Blueprint, Flask, current_app, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from callmodel import urls
from callmodel.french import french_datetime
from callmodel.schema import Call

from . import delivery, ratelimit
from .mail import message_id
from .services import services
from .storage import StorageUnavailable
from .pages import notice, now, public_url

log = logging.getLogger(__name__)

partner_exports = Blueprint("partner_exports", __name__)
DAY = 86400
LINK_SECONDS = DAY  # a link is valid one day
FOLD_SECONDS = 1800  # one link mail per call and per half hour, however many requests


def init_app(app: Flask) -> None:
    app.register_blueprint(partner_exports)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="formservice-export-link")


def page(kind: str, call: Call, status: int = 200, **values):
    return render_template("export_request.html", kind=kind, call=call,
                           limit=int(current_app.config["EXPORT_REQUEST_LIMIT"]), **values), status


def answerable(slug: str) -> Call | None:
    call = services().catalogue.get(slug)
    return call if call is not None and call.answered_here else None


@partner_exports.route("/" + urls.EXPORT.format(slug="<slug>"), methods=["GET", "POST"])
def request_link(slug):
    call = answerable(slug)
    if call is None:
        return notice("unknown", 404)
    if delivery.sealed(call, now()):
        return page("sealed", call, 200 if request.method == "GET" else 403)
    if request.method == "GET":
        return page("form", call)
    if any(name != current_app.config["WTF_CSRF_FIELD_NAME"] for name in request.form):
        log.warning("formservice: export request for %s with extra fields %s refused", slug, list(request.form))
        return page("typed_address", call, 400)
    try:
        send_link(call)
    except StorageUnavailable:
        log.exception("formservice: export link for %s not sent", slug)
        return notice("storage_down", 503)
    return page("link_sent", call, 202)


def send_link(call: Call) -> None:
    """Mail a single-use link to the call's recipients, unless one went in this window."""
    moment = now()
    window = int(moment.timestamp()) // FOLD_SECONDS
    storage = services().storage
    try:
        storage.put(f"{delivery.LINKS}/{call.slug}/{window}.json", json.dumps({"at": moment.isoformat()}).encode(),
                    content_type="application/json", if_none_match=True)
    except FileExistsError:
        return  # folded into the mail already sent in this window
    if not call.exports_to:
        log.error("formservice: export link for %s: the call has no exports_to", call.slug)
        return
    token = _signer().dumps({"slug": call.slug, "nonce": uuid.uuid4().hex})
    link = public_url("partner_exports.use_link", slug=call.slug, token=token)
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = f"Lien pour recevoir les réponses : {call.title}"
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(call.exports_to)
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = message_id("export-link", f"{call.slug}-{window}", config["URL"])
    message["Auto-Submitted"] = "auto-generated"
    expires = french_datetime((moment + dt.timedelta(seconds=LINK_SECONDS)).astimezone(call.opens.tzinfo))
    message.set_content("\n".join([
        "Bonjour,", "",
        f"Un nouvel envoi des réponses à l'appel « {call.title} » ({call.partner_name}) a été demandé depuis "
        "la page d'export de la plateforme.", "",
        "Pour recevoir le tableau des réponses et les pièces jointes des candidats, ouvrez ce lien puis "
        f"confirmez (il ne sert qu'une fois et expire le {expires}) :", link, "",
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne sera envoyé.", "",
        "-- ", config["SITENAME"], "Message automatique : ne pas répondre."]))
    services().outbox.deliver(message, f"export-link-{call.slug}-{window}")


@partner_exports.route("/" + urls.EXPORT.format(slug="<slug>") + "/<token>", methods=["GET", "POST"])
def use_link(slug, token):
    call = answerable(slug)
    if call is None:
        return notice("unknown", 404)
    try:
        data = _signer().loads(token, max_age=LINK_SECONDS)
    except SignatureExpired:
        return page("link_expired", call, 410)
    except BadSignature:
        return page("link_invalid", call, 404)
    if data.get("slug") != slug:
        return page("link_invalid", call, 404)
    storage = services().storage
    used = f"{delivery.LINKS}/used/{data['nonce']}"
    try:
        storage.get(used)
        return page("link_used", call, 410)
    except FileNotFoundError:
        pass
    except StorageUnavailable:
        return notice("storage_down", 503)
    if request.method == "GET":
        return page("confirm", call, token=token)
    config = current_app.config
    try:
        try:
            storage.put(used, json.dumps({"slug": slug, "at": now().isoformat()}).encode(),
                        content_type="application/json", if_none_match=True)
        except FileExistsError:
            return page("link_used", call, 410)
        if not ratelimit.allow(storage, f"export-request:{slug}", uuid.uuid4().hex,
                               limit=int(config["EXPORT_REQUEST_LIMIT"]), window=DAY,
                               secret=config["SECRET_KEY"], now=now()):
            return page("rate_limited", call, 429)
        delivery.request_export(storage, call, now=now())
    except StorageUnavailable:
        log.exception("formservice: export request for %s not recorded", slug)
        return notice("storage_down", 503)
    return render_template("export_sent.html", call=call), 202
