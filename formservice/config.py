"""Every setting of the form service as data: name, default, type, meaning (the README lists them all).

Each is read from the environment as FORMSERVICE_<NAME> and parsed by its declared type (a secret
made of digits stays a text; `Production` is `production`). A FORMSERVICE_* variable that names no
setting refuses the start, like a mistyped one would otherwise be ignored in silence. The storage
settings default to boto3's own variables (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION), read when an app is created, never at import.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Callable, Mapping

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "FORMSERVICE_"
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"
ENVIRONMENTS = ("development", "production")
EXTENSION_PREFIXES = ("WTF_",)  # Flask-WTF's own settings, which a test may set


class ConfigError(RuntimeError):
    """A setting that cannot be used: the message names it and says what is expected."""


def boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on", "oui"):
        return True
    if value in ("0", "false", "no", "off", "non", ""):
        return False
    raise ValueError("expected true or false")


def environment(text: str) -> str:
    value = text.strip().lower()
    if value not in ENVIRONMENTS:
        raise ValueError(f"expected one of {', '.join(ENVIRONMENTS)}")
    return value


def text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    parse: Callable[[str], object] = text
    # When set, the default is this environment variable's value at start-up, if present.
    env_default: str = ""


SETTINGS = (
    Setting("ENV", "development", "`production` requires SECRET_KEY and turns on Secure cookies and HSTS.",
            environment),
    Setting("SECRET_KEY", None, "Signs sessions, CSRF and form tokens; required in production "
                                "(a fixed development value otherwise)."),
    Setting("URL", "http://127.0.0.1:5000", "Public address of the form service: every link in a mail is "
                                            "built from it, never from a request (the site's build reads the "
                                            "same variable)."),
    Setting("CATALOGUE", os.path.join(ROOT, "output", "api", "calls.json"),
            "Path or http(s) URL of the built api/calls.json."),
    Setting("RECIPIENTS", os.path.join(ROOT, "output-private", "recipients.json"),
            "Path or private URL of the build's recipients.json (who receives each call's answers; never "
            "published with the site)."),
    Setting("CATALOGUE_CHECK_SECONDS", 5.0, "How often, at most, the catalogue is checked for a change.", float),
    Setting("BUCKET", "appels", "S3 bucket of submissions (private)."),
    Setting("S3_ENDPOINT_URL", None, "S3 endpoint (default: `AWS_ENDPOINT_URL_S3`, else AWS itself).",
            env_default="AWS_ENDPOINT_URL_S3"),
    Setting("S3_ACCESS_KEY_ID", None, "S3 access key (default: `AWS_ACCESS_KEY_ID`).",
            env_default="AWS_ACCESS_KEY_ID"),
    Setting("S3_SECRET_ACCESS_KEY", None, "S3 secret key (default: `AWS_SECRET_ACCESS_KEY`).",
            env_default="AWS_SECRET_ACCESS_KEY"),
    Setting("S3_REGION", "us-east-1", "S3 region (default: `AWS_DEFAULT_REGION`).", env_default="AWS_DEFAULT_REGION"),
    Setting("S3_PUBLIC_ENDPOINT_URL", None, "S3 address partners can reach, for the download links of large "
                                            "exports (default: S3_ENDPOINT_URL)."),
    Setting("SITE_URL", "http://127.0.0.1:8000", "Absolute address of the static site (links of the pages)."),
    Setting("SITENAME", "Appels d'innovation de Rivebelle", "Site name, as in pelicanconf.py."),
    Setting("SITESUBTITLE", "Les appels à solutions, à projets et à manifestation d'intérêt de la Métropole "
                            "et de ses partenaires", "Site subtitle, as in pelicanconf.py."),
    Setting("PUBLISHER_NAME", "Métropole de Rivebelle", "Publisher named in the footer and the receipt."),
    Setting("THEME", os.path.join(ROOT, "theme"), "Theme folder (templates/ and static/, served at /theme)."),
    Setting("SMTP_HOST", "127.0.0.1", "SMTP server for receipts."),
    Setting("SMTP_PORT", 8025, "SMTP port.", int),
    Setting("SMTP_USERNAME", "", "SMTP login, if the server needs one."),
    Setting("SMTP_PASSWORD", "", "SMTP password."),
    Setting("SMTP_STARTTLS", False, "Upgrade the SMTP connection with STARTTLS.", boolean),
    Setting("SMTP_TIMEOUT", 10.0, "Seconds before a silent SMTP server counts as down (the mail is queued).", float),
    Setting("MAIL_FROM", "Appels d'innovation de Rivebelle <ne-pas-repondre@rivebelle.example>",
            "Sender of receipts."),
    Setting("RECEIPT_PREFIX", "RVB", "First part of the short submission number (RVB-2026-7K3QXM)."),
    Setting("MAX_TOTAL_MB", 60.0, "Most bytes of files in one answer, all together, in MB (up to four times "
            "more, the form comes back with the typed values; beyond, the request is refused unread).", float),
    Setting("MAX_FILES", 10, "Most attachments accepted in one submission.", int),
    Setting("RATE_LIMIT", 20, "Submissions accepted per address and window (0 = no limit).", int),
    Setting("RATE_WINDOW_SECONDS", 3600, "Window of the rate limit, in seconds.", int),
    Setting("PROXIES", 0, "Number of trusted reverse proxies in front (X-Forwarded-For is read through them).", int),
    Setting("SECURE_COOKIES", None, "Send cookies only over HTTPS, with HSTS (default: on in production, "
                                    "off in development).", boolean),
    Setting("EXPORT_ATTACH_MAX_MB", 10.0, "Largest ZIP of attachments sent inside the export mail, in MB; a "
                                          "larger one is stored in S3 and sent as a link.", float),
    Setting("EXPORT_LINK_DAYS", 7, "Days a download link of an export stays valid (S3 allows 7 at most).", int),
    Setting("EXPORT_REQUEST_LIMIT", 3, "Exports a partner may ask again with the export page's links, per "
                                       "call and per day.", int),
    Setting("RETENTION_MONTHS", 12, "Months after a call closes before `calls purge` deletes its submissions "
                                    "and exports (the privacy page states it).", int),
)
BY_NAME = {s.name: s for s in SETTINGS}


def defaults() -> dict:
    return {s.name: s.default for s in SETTINGS}


def _parse(setting: Setting, value, where: str):
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if value is None or not isinstance(value, str) or setting.parse is text:
        if setting.parse is text and value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: expected a text, got {value!r}")
        return value
    try:
        return setting.parse(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {value!r} is not valid ({exc})") from None


def load(environ: Mapping[str, str], overrides: Mapping | None = None, *, flask_keys=()) -> dict:
    """The settings from their defaults, the environment (FORMSERVICE_*), then `overrides` (a
    test's or a command's mapping), each parsed by its type; ConfigError names what is wrong."""
    unknown = sorted(name for name in environ if name.startswith(PREFIX) and name[len(PREFIX):] not in BY_NAME)
    if unknown:
        hints = [f"{name}{_did_you_mean(name[len(PREFIX):])}" for name in unknown]
        raise ConfigError(f"unknown setting{'s' if len(hints) > 1 else ''} {', '.join(hints)}: the form service reads "
                          f"only {', '.join(PREFIX + s.name for s in SETTINGS)}")
    values = {}
    for setting in SETTINGS:
        value = setting.default
        if setting.env_default and environ.get(setting.env_default):
            value = environ[setting.env_default]
        if PREFIX + setting.name in environ:
            value = _parse(setting, environ[PREFIX + setting.name], PREFIX + setting.name)
        values[setting.name] = value
    for name, value in (overrides or {}).items():
        if name in BY_NAME:
            values[name] = _parse(BY_NAME[name], value, name)
        elif name not in flask_keys and not name.startswith(EXTENSION_PREFIXES):
            raise ConfigError(f"unknown setting {name}{_did_you_mean(name)}")
        else:
            values[name] = value
    return _finish(values)


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, BY_NAME, n=1)
    return f" (did you mean {PREFIX}{close[0]}?)" if close else ""


def _finish(values: dict) -> dict:
    """What the settings imply: production is safe by default or refuses to start."""
    production = values["ENV"] == "production"
    if values["SECURE_COOKIES"] is None:
        values["SECURE_COOKIES"] = production
    secret = values["SECRET_KEY"]
    if not secret:
        if production:
            raise ConfigError("FORMSERVICE_SECRET_KEY must be set when FORMSERVICE_ENV=production")
        values["SECRET_KEY"] = DEVELOPMENT_SECRET
    elif production and (secret == DEVELOPMENT_SECRET or len(secret) < 16):
        raise ConfigError("FORMSERVICE_SECRET_KEY must be a long random text in production (16 characters or more, "
                          "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    for name in ("URL", "SITE_URL"):
        if not str(values[name]).startswith(("http://", "https://")):
            raise ConfigError(f"FORMSERVICE_{name}: {values[name]!r} is not an http(s) address")
    return values
