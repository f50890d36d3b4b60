"""What every page of the form service shares: the service's clock, absolute links from the
configuration, the site's theme variables, template helpers and the notice page."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, render_template, url_for

from callmodel import urls
from callmodel.dates import utc_now
from callmodel.french import french_date, french_datetime, french_size
from callmodel.schema import FILE_FORMATS, Call

from .receipts import show_answer
from .uploads import accepted_formats, formats_label, max_bytes
from .validation import number_rule

# The browser's autofill purpose of a field (WCAG 1.3.5, RGAA 11.13): by type, else by these
# field names, which the staff guide recommends for forms that ask who is answering.
AUTOCOMPLETE_BY_TYPE = {"email": "email", "tel": "tel", "url": "url"}
AUTOCOMPLETE_BY_NAME = {
    "prenom": "given-name", "nom": "family-name", "nom_contact": "name", "nom_responsable": "name",
    "nom_complet": "name", "raison_sociale": "organization", "nom_structure": "organization",
    "organisation": "organization", "fonction": "organization-title", "adresse": "street-address",
    "code_postal": "postal-code", "commune": "address-level2", "ville": "address-level2", "pays": "country-name",
}


def now() -> dt.datetime:
    """The service's clock: the time of receipt that counts (a test moves it with time-machine)."""
    return utc_now()


def public_url(endpoint: str, **values) -> str:
    """An absolute link to this service from its configured address (FORMSERVICE_URL), never from
    the Host of a request: a forged Host must not put its own address in a mail we send."""
    return urls.join(current_app.config["URL"], url_for(endpoint, **values).lstrip("/"))


def call_page(call: Call) -> str:
    return urls.call_url(current_app.config["SITE_URL"], call.slug)


def notice(kind: str, status: int, **values):
    return render_template("notice.html", kind=kind, **values), status


def autocomplete(field) -> str | None:
    return AUTOCOMPLETE_BY_TYPE.get(field.type) or (AUTOCOMPLETE_BY_NAME.get(field.name) if field.type == "text" else None)


def accept_attr(field) -> str:
    exts = accepted_formats(field)
    return ",".join([f".{e}" for e in exts] + [FILE_FORMATS[e][1] for e in exts])


def day(value) -> str:
    """A date (or its ISO text) the French way."""
    return french_date(dt.date.fromisoformat(value) if isinstance(value, str) else value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(fdatetime=french_datetime, fdate=day, filesize=french_size, answer=show_answer)
    app.jinja_env.globals.update(formats_label=formats_label, max_bytes=max_bytes, call_page=call_page,
                                 number_rule=number_rule, accept_attr=accept_attr, autocomplete=autocomplete)

    @app.context_processor
    def theme_variables():
        config = current_app.config
        return {"SITENAME": config["SITENAME"], "SITESUBTITLE": config["SITESUBTITLE"],
                "PUBLISHER_NAME": config["PUBLISHER_NAME"], "SITE": config["SITE_URL"].rstrip("/"),
                "STATIC": "/theme"}
