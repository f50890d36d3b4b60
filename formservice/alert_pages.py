"""Subscribing to alerts without an account (`/alertes`): choose types, themes, partners and
publics (none: every call), or follow one call (`?suivre=<slug>`), and give an address. Nothing is
sent until the link mailed to that address is opened and confirmed (double opt-in). Every mail
carries a one-click unsubscription (RFC 8058): a POST to its link, without a form, ends it."""

from __future__ import annotations

import email.utils
import logging
import secrets
from email.message import EmailMessage

from flask import Blueprint, Flask, current_app, render_template, request

from callmodel import urls
from callmodel.addresses import BadAddress, normalize_address
from callmodel.schema import AUDIENCES, CALL_TYPES

from . import alerts, ratelimit
from .mail import message_id
from .pages import notice, now
from .security import csrf
from .services import services
from .storage import StorageUnavailable
from .views import deliver, within_rate

log = logging.getLogger(__name__)

alert_pages = Blueprint("alerts", __name__)
FILTERS = ("types", "themes", "partners", "audiences")
DAY = 86400
CONFIRMATIONS_PER_ADDRESS = 3  # a day: an address can't be flooded with confirmation mails


def init_app(app: Flask) -> None:
    app.register_blueprint(alert_pages)


def choices() -> dict[str, dict[str, str]]:
    """What can be chosen, with the labels people read."""
    labels = services().catalogue.labels
    return {"types": {k: t.plural for k, t in CALL_TYPES.items()}, "themes": dict(labels.get("themes") or {}),
            "partners": dict(labels.get("partners") or {}), "audiences": dict(AUDIENCES)}


def page(kind: str, status: int = 200, **values):
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"} if kind != "form" else {}
    return render_template("alerts.html", kind=kind, choices=choices(), **values), status, headers


def link(purpose: str, subscription: alerts.Subscription) -> str:
    return alerts.link_url(current_app.config, purpose, subscription)


@alert_pages.route("/" + urls.ALERTS, methods=["GET", "POST"])
def subscribe():
    catalogue = services().catalogue
    follow = request.values.get("suivre") or ""
    followed = catalogue.get(follow) if follow else None
    if follow and followed is None:
        return notice("unknown", 404)
    if request.method == "GET":  # a listing's link preselects its type, theme or partner
        offered = choices()
        chosen = {name: [v for v in request.args.getlist(name) if v in offered[name]] for name in FILTERS}
        return page("form", followed=followed, chosen=chosen, values={}, errors={})
    form = request.form
    chosen = {name: [v for v in form.getlist(name)] for name in FILTERS}
    errors = {}
    for name in FILTERS:
        if any(v not in choices()[name] for v in chosen[name]):
            errors[name] = "Choisissez parmi les propositions."
    try:
        address = normalize_address(form.get("courriel", "").strip())
    except BadAddress:
        address = ""
        errors["courriel"] = "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."
    if form.get("consentement") != "oui":
        errors["consentement"] = "Cochez cette case pour recevoir les alertes."
    if errors:
        return page("form", 422, followed=followed, chosen=chosen, values=form, errors=errors)
    moment = now()
    subscription = alerts.Subscription(
        id=secrets.token_hex(16), email=address, created_at=moment, salt=secrets.token_urlsafe(16),
        follow=(followed.slug,) if followed else (),
        **({} if followed else {name: tuple(chosen[name]) for name in FILTERS}))
    storage, config = services().storage, current_app.config
    try:
        if not within_rate(f"alert-{subscription.id}", moment):
            return notice("rate_limited", 429)
        if ratelimit.allow(storage, f"alert-address:{address}", subscription.id, limit=CONFIRMATIONS_PER_ADDRESS,
                           window=DAY, secret=config["SECRET_KEY"], now=moment):
            alerts.save(storage, subscription, new=True)
            deliver(confirmation_message(subscription, followed), f"alert-confirm-{subscription.id}")
        else:
            log.info("formservice: too many confirmation mails for one address today, none sent")
    except StorageUnavailable:
        log.exception("formservice: storage unavailable, subscription not saved")
        return notice("storage_down", 503)
    return page("sent", 202, followed=followed, address=address)


def confirmation_message(subscription: alerts.Subscription, followed) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = f"Confirmez votre abonnement – {config['SITENAME']}"
    message["From"] = config["MAIL_FROM"]
    message["To"] = subscription.email
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = message_id("alert-confirm", subscription.id, config["URL"])
    message["Auto-Submitted"] = "auto-generated"
    what = (f"les nouvelles de l'appel « {followed.title} »" if followed
            else "les nouveaux appels : " + " ; ".join(alerts.filters_text(subscription, services().catalogue.labels)))
    message.set_content("\n".join([
        "Bonjour,", "", f"Quelqu'un (vous, sans doute) a demandé à recevoir par courriel {what}.", "",
        "Pour confirmer, ouvrez ce lien puis validez :", link("confirmer", subscription), "",
        "Sans confirmation, rien ne vous sera envoyé et cette demande sera effacée dans "
        f"{alerts.PENDING_DAYS} jours.", "", "-- ", config["SITENAME"], "Message automatique : ne pas répondre."]))
    return message


def checked(sid: str, token: str, purpose: str):
    found = alerts.load(services().storage, sid) if len(sid) == 32 and sid.isalnum() else None
    if found is None or not alerts.link_ok(current_app.config["SECRET_KEY"], purpose, found[0], token):
        return None
    return found


@alert_pages.route("/" + urls.CONFIRM.format(id="<sid>", token="<token>"), methods=["GET", "POST"])
def confirm(sid, token):
    try:
        found = checked(sid, token, "confirmer")
        if found is None:
            return notice("no_subscription", 404)
        subscription = found[0]
        if subscription.state == alerts.CONFIRMED:
            return page("confirmed", subscription=subscription, unsubscribe=link("desinscription", subscription))
        if request.method == "GET":  # a mail scanner opening the link confirms nothing
            return page("confirm", subscription=subscription)
        confirmed = alerts.confirm(services().storage, subscription, now())
    except StorageUnavailable:
        return notice("storage_down", 503)
    return page("confirmed", subscription=confirmed, unsubscribe=link("desinscription", confirmed))


@alert_pages.route("/" + urls.UNSUBSCRIBE.format(id="<sid>", token="<token>"), methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click", with no form to carry a token
def unsubscribe(sid, token):
    try:
        found = checked(sid, token, "desinscription")
        if found is None:
            return notice("no_subscription", 404)
        if request.method == "GET":
            return page("unsubscribe", subscription=found[0])
        alerts.remove(services().storage, sid)
    except StorageUnavailable:
        return notice("storage_down", 503)
    return page("unsubscribed")

