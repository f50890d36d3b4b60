"""Every setting of the form service as data: name, default, meaning (the README lists them all).

Each is read from the environment as FORMSERVICE_<NAME> (Flask's `from_prefixed_env`, which parses
JSON values such as numbers and true/false). Storage endpoint and credentials are boto3's own
variables: AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS = (
    Setting("ENV", "development", "`production` refuses to start without SECRET_KEY."),
    Setting("SECRET_KEY", None, "Signs sessions, CSRF and form tokens; required in production "
                                "(a fixed development value otherwise)."),
    Setting("CATALOGUE", os.path.join(ROOT, "output", "api", "calls.json"),
            "Path or http(s) URL of the built api/calls.json."),
    Setting("CATALOGUE_CHECK_SECONDS", 5, "How often, at most, the catalogue is checked for a change."),
    Setting("BUCKET", "appels", "S3 bucket of submissions (private)."),
    Setting("SITE_URL", "http://127.0.0.1:8000", "Absolute address of the static site (links of the pages)."),
    Setting("SITENAME", "Appels d'innovation de Rivebelle", "Site name, as in pelicanconf.py."),
    Setting("SITESUBTITLE", "Les appels à solutions, à projets et à manifestation d'intérêt de la Métropole "
                            "et de ses partenaires", "Site subtitle, as in pelicanconf.py."),
    Setting("PUBLISHER_NAME", "Métropole de Rivebelle", "Publisher named in the footer and the receipt."),
    Setting("THEME", os.path.join(ROOT, "theme"), "Theme folder (templates/ and static/, served at /theme)."),
    Setting("SMTP_HOST", "127.0.0.1", "SMTP server for receipts."),
    Setting("SMTP_PORT", 8025, "SMTP port."),
    Setting("SMTP_USERNAME", "", "SMTP login, if the server needs one."),
    Setting("SMTP_PASSWORD", "", "SMTP password."),
    Setting("SMTP_STARTTLS", False, "Upgrade the SMTP connection with STARTTLS."),
    Setting("SMTP_TIMEOUT", 10, "Seconds before a silent SMTP server counts as down (the mail is queued)."),
    Setting("MAIL_FROM", "Appels d'innovation de Rivebelle <ne-pas-repondre@rivebelle.example>",
            "Sender of receipts."),
    Setting("RECEIPT_PREFIX", "RVB", "First part of the short submission number (RVB-2026-7K3QXM)."),
    Setting("MAX_TOTAL_MB", 60, "Most bytes of files in one answer, all together, in MB (up to four times "
            "more, the form comes back with the typed values; beyond, the request is refused unread)."),
    Setting("MAX_FILES", 10, "Most attachments accepted in one submission."),
    Setting("RATE_LIMIT", 20, "Submissions accepted per address and window (0 = no limit)."),
    Setting("RATE_WINDOW_SECONDS", 3600, "Window of the rate limit, in seconds."),
    Setting("PROXIES", 0, "Number of trusted reverse proxies in front (X-Forwarded-For is read through them)."),
    Setting("SECURE_COOKIES", False, "Send cookies only over HTTPS (true in production)."),
    Setting("EXPORT_ATTACH_MAX_MB", 10, "Largest ZIP of attachments sent inside the export mail, in MB; a larger "
                                        "one is stored in S3 and sent as a link."),
    Setting("EXPORT_LINK_DAYS", 7, "Days a download link of an export stays valid (S3 allows 7 at most)."),
    Setting("EXPORT_REQUEST_LIMIT", 3, "Exports a partner may ask again from the export page, per call and per day."),
    Setting("RETENTION_MONTHS", 12, "Months after a call closes before `calls purge` deletes its submissions "
                                    "and exports (the privacy page states it)."),
)


def defaults() -> dict:
    return {s.name: s.default for s in SETTINGS}
