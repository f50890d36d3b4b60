"""The page where a partner asks for a call's export again (`/appels/<slug>/export`).

Partners have no account: anyone may ask, so the export only ever goes to the call's `exports_to`
addresses (nothing typed in the page is used, and a form carrying an address is refused), the page
shows those addresses masked, and requests are limited to EXPORT_REQUEST_LIMIT per call and per day
(counted in S3, shared by every instance). The export is built and sent by `calls send-exports`
(cron), since a large call takes longer than a web request may.
"""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Flask, current_app, render_template, request

from . import delivery, ratelimit
from .services import services
from .storage import StorageUnavailable
from .views import notice, now

log = logging.getLogger(__name__)

partner_exports = Blueprint("partner_exports", __name__)
DAY = 86400


def init_app(app: Flask) -> None:
    app.register_blueprint(partner_exports)


def page(kind: str, call, status: int = 200):
    return render_template("export_request.html", kind=kind, call=call,
                           masked=[delivery.mask(a) for a in call.exports_to],
                           limit=int(current_app.config["EXPORT_REQUEST_LIMIT"])), status


@partner_exports.route("/appels/<slug>/export", methods=["GET", "POST"])
def request_export(slug):
    call = services().catalogue.get(slug)
    if call is None or not call.answered_here:
        return notice("unknown", 404)
    moment = now()
    if not call.exports_to:
        return page("no_recipients", call, 404)
    if delivery.sealed(call, moment):
        return page("sealed", call, 200 if request.method == "GET" else 403)
    if request.method == "GET":
        return page("form", call)
    if any(name != current_app.config["WTF_CSRF_FIELD_NAME"] for name in request.form):
        log.warning("formservice: export request for %s with extra fields %s refused", slug, list(request.form))
        return page("typed_address", call, 400)
    config = current_app.config
    try:
        if not ratelimit.allow(services().storage, f"export-request:{slug}", uuid.uuid4().hex,
                               limit=int(config["EXPORT_REQUEST_LIMIT"]), window=DAY,
                               secret=config["SECRET_KEY"], now=moment):
            return page("rate_limited", call, 429)
        delivery.request_export(services().storage, call, now=moment)
    except StorageUnavailable:
        log.exception("formservice: export request for %s not recorded", slug)
        return notice("storage_down", 503)
    return render_template("export_sent.html", call=call, masked=[delivery.mask(a) for a in call.exports_to]), 202
