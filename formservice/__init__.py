"""The form service: answer forms of the calls, stored in S3, acknowledged with a receipt.

Run it with `gunicorn 'formservice:create_app()'` (production) or `flask --app formservice run`.
`calls send-receipts` retries receipt mails queued while SMTP was down.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import jinja2
from flask import Blueprint, Flask, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from . import mail
from .catalogue import Catalogue
from .mail import Mailer, Outbox, SMTPMailer
from .settings import DEVELOPMENT_SECRET, defaults
from .storage import S3Storage, Storage
from .uploads import READ_THROUGH, AnswerRequest

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass
class Services:
    """What a request needs beyond the config, wired once per app."""

    catalogue: Catalogue
    storage: Storage
    mailer: Mailer
    outbox: Outbox


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["formservice"]


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.request_class = AnswerRequest
    app.config.update(defaults())
    app.config.from_prefixed_env("FORMSERVICE")
    app.config.update(config or {})
    _check_secret(app)
    app.config.update(
        MAX_CONTENT_LENGTH=int(app.config["MAX_TOTAL_MB"] * MB * READ_THROUGH) + MB,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config["SECURE_COOKIES"]),
        WTF_CSRF_FIELD_NAME="_csrf",
        # A person may take an afternoon to write an answer: the CSRF token must outlive that.
        WTF_CSRF_TIME_LIMIT=12 * 3600,
    )
    if app.config["PROXIES"]:
        n = int(app.config["PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    theme = app.config["THEME"]
    app.jinja_loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
        jinja2.FileSystemLoader(os.path.join(theme, "templates")),
    ])
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.register_blueprint(Blueprint("theme", __name__, static_folder=os.path.join(theme, "static"),
                                     static_url_path="/theme"))

    storage = S3Storage(app.config["BUCKET"])
    mailer = SMTPMailer(app.config["SMTP_HOST"], int(app.config["SMTP_PORT"]),
                        timeout=float(app.config["SMTP_TIMEOUT"]), username=app.config["SMTP_USERNAME"],
                        password=app.config["SMTP_PASSWORD"], starttls=bool(app.config["SMTP_STARTTLS"]))
    app.extensions["formservice"] = Services(
        catalogue=Catalogue(app.config["CATALOGUE"], check_seconds=float(app.config["CATALOGUE_CHECK_SECONDS"])),
        storage=storage, mailer=mailer, outbox=Outbox(mailer, storage))

    from . import partner_exports, security, views

    security.init_app(app)
    views.init_app(app)
    partner_exports.init_app(app)
    return app


def _check_secret(app: Flask) -> None:
    if app.config["SECRET_KEY"]:
        return
    if app.config["ENV"] == "production":
        raise RuntimeError("FORMSERVICE_SECRET_KEY must be set when FORMSERVICE_ENV=production")
    app.config["SECRET_KEY"] = DEVELOPMENT_SECRET


def send_queued(app: Flask, min_age: float = 120) -> tuple[int, int, int]:
    """Retry the receipt mails queued in storage: (sent, still queued, too recent to retry)."""
    found = services(app)
    return mail.send_queued(found.mailer, found.storage, min_age=min_age)


