"""The services a request needs beyond the config, built once per app from its settings (as
flaskr's db.py): the published calls, the storage, the mailer and the outbox. Views reach them
with `services()`; two apps in one process (a test) each have their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from flask import Flask, current_app

from .mail import Mailer, Outbox, SMTPMailer
from .published import PublishedCalls
from .storage import S3Storage, Storage


@dataclass
class Services:
    catalogue: PublishedCalls
    storage: Storage
    mailer: Mailer
    outbox: Outbox


def build(config: Mapping) -> Services:
    storage = S3Storage(config["BUCKET"], endpoint_url=config["S3_ENDPOINT_URL"],
                        access_key=config["S3_ACCESS_KEY_ID"], secret_key=config["S3_SECRET_ACCESS_KEY"],
                        region=config["S3_REGION"], public_endpoint_url=config["S3_PUBLIC_ENDPOINT_URL"])
    mailer = SMTPMailer(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=float(config["SMTP_TIMEOUT"]),
                        username=config["SMTP_USERNAME"], password=config["SMTP_PASSWORD"],
                        starttls=bool(config["SMTP_STARTTLS"]))
    return Services(catalogue=PublishedCalls(config["CATALOGUE"], config["RECIPIENTS"],
                                             check_seconds=float(config["CATALOGUE_CHECK_SECONDS"])),
                    storage=storage, mailer=mailer, outbox=Outbox(mailer, storage))


def init_app(app: Flask) -> None:
    app.extensions["formservice"] = build(app.config)


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["formservice"]
