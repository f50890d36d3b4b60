"""The form service: answer forms of the calls, stored in S3, acknowledged with a receipt.

Run it with `gunicorn 'formservice:create_app()'` (production) or `flask --app formservice run`.
"""

from __future__ import annotations

import os

import jinja2
from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from callmodel.schema import MB

from . import config as settings
from . import alert_pages, lifecycle, pages, partner_exports, question_pages, security, services, views
from .uploads import PARSER_PARTS_MAX, READ_THROUGH, TEXT_PART_MAX, AnswerRequest


def create_app(config: dict | None = None, *, environ=None) -> Flask:
    """Defaults, then the FORMSERVICE_* environment, then `config` (a test's or a command's);
    an unknown or invalid setting refuses the start (formservice.config.ConfigError)."""
    app = Flask(__name__, static_folder=None)
    app.request_class = AnswerRequest
    app.config.update(settings.load(os.environ if environ is None else environ, config,
                                    flask_keys=set(app.config)))
    app.config.update(
        MAX_CONTENT_LENGTH=int(app.config["MAX_TOTAL_MB"] * MB * READ_THROUGH) + MB,
        MAX_FORM_MEMORY_SIZE=TEXT_PART_MAX, MAX_FORM_PARTS=PARSER_PARTS_MAX,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config["SECURE_COOKIES"]),
        WTF_CSRF_FIELD_NAME="_csrf",
        # A person may take an afternoon to write an answer: the CSRF token must outlive that.
        WTF_CSRF_TIME_LIMIT=12 * 3600,
    )
    if app.config["PROXIES"]:
        n = int(app.config["PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    theme = app.config["THEME"]
    app.jinja_loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
        jinja2.FileSystemLoader(os.path.join(theme, "templates")),
    ])
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.register_blueprint(Blueprint("theme", __name__, static_folder=os.path.join(theme, "static"),
                                     static_url_path="/theme"))
    services.init_app(app)
    security.init_app(app)
    pages.init_app(app)
    views.init_app(app)
    lifecycle.init_app(app)
    partner_exports.init_app(app)
    question_pages.init_app(app)
    alert_pages.init_app(app)
    return app
