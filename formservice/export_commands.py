"""`calls export`, `calls send-exports`, `calls send-receipts` and `calls purge`: the operators' side.

With no AWS_ENDPOINT_URL_S3 in the environment, they reach the local instance of `make serve`
(its S3 server and mail sink, generator.serve.local_env), so a person can export right after
answering a call locally; otherwise every FORMSERVICE_* and AWS_* variable applies as for the
form service.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from zoneinfo import ZoneInfo

import click

from . import delivery, ratelimit, retention
from .exports import build_export


def form_service():
    """The form service's config and services, on the local defaults when no S3 is configured."""
    if not os.environ.get("AWS_ENDPOINT_URL_S3"):
        from generator.serve import local_env

        for name, value in local_env().items():
            os.environ.setdefault(name, value)
    from . import create_app, services

    app = create_app()
    return app.config, services(app)


def parse_now(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.timezone.utc)
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise click.BadParameter("give an offset, e.g. 2027-01-15T12:00+01:00", param_hint="--now")
    return moment


def find_call(found, slug: str):
    call = found.catalogue.get(slug)
    if call is None:
        raise click.ClickException(f"no call {slug!r} in the catalogue {found.catalogue.source}")
    if not call.fields:
        raise click.ClickException(f"{slug}: this call takes no answers here (information or external platform)")
    return call


def progress_printer():
    from generator.cli import Progress

    return Progress("Exporting")


@click.command("export")
@click.argument("slug")
@click.option("--output", type=click.Path(file_okay=False), help="Write the XLSX, CSV and ZIP into this folder.")
@click.option("--send", is_flag=True, help="Email the export to the call's exports_to addresses.")
@click.option("--before-closing", is_flag=True,
              help="Allow --send while the call is open (answers are sealed until it closes).")
@click.option("--now", help="Act as if at this ISO date-time with offset (tests).")
def export(slug, output, send, before_closing, now):
    """Export a call's submissions: spreadsheet (XLSX, CSV with `;`, UTF-8) and ZIP of attachments."""
    if not output and not send:
        raise click.UsageError("say where the export goes: --output DIR, --send, or both")
    config, found = form_service()
    call = find_call(found, slug)
    moment = parse_now(now)
    if output:
        base = f"{call.slug}-{delivery.stamp(moment.astimezone(ZoneInfo(call.timezone)))}"
        result = build_export(found.storage, call, output, basename=base, progress=progress_printer())
        click.echo(f"{result.count} submission(s), {result.files} file(s):")
        for path in result.paths:
            click.echo(f"  {path}")
    if send:
        if delivery.sealed(call, moment) and not before_closing:
            raise click.ClickException(f"{slug} is open and its answers are sealed until it closes: "
                                       "add --before-closing to send them anyway")
        result = delivery.send_export(found.storage, found.mailer, config, delivery.Sending(call, "manual"),
                                      now=moment, progress=progress_printer())
        click.echo(f"{result.count} submission(s) sent to {', '.join(call.exports_to)}.")


@click.command("send-exports")
@click.option("--now", help="Act as if at this ISO date-time with offset (tests, catching up).")
def send_exports(now):
    """Send what is due (run from cron on any host): final exports of calls that closed, digests, requests.

    Each sending is recorded in storage before it is made: two runs or two hosts never send twice."""
    config, found = form_service()
    report = delivery.send_exports(found.storage, found.mailer, found.catalogue.calls(), config, now=parse_now(now),
                                   progress=progress_printer())
    for line in report.lines:
        click.echo(line)
    for line in report.failed + report.unconfirmed:
        click.echo(line, err=True)
    if not report.ok:
        sys.exit(1)


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be deleted, delete nothing.")
@click.option("--months", type=click.IntRange(min=1), help="Months after closing (default: RETENTION_MONTHS, 12).")
@click.option("--now", help="Act as if at this ISO date-time with offset (tests).")
def purge(dry_run, months, now):
    """Delete submissions and exports of calls closed more than RETENTION_MONTHS ago, and the rate-limit
    counters of past windows, listing each object."""
    config, found = form_service()
    months = months or int(config["RETENTION_MONTHS"])
    calls = found.catalogue.calls()
    moment = parse_now(now)
    expired = retention.plan(found.storage, calls, now=moment, months=months)
    for item in expired:
        click.echo(f"# {item.call.slug}: closed {item.call.closes.isoformat()}, kept until {item.until.isoformat()}: "
                   f"{item.submissions} submission(s), {len(item.keys)} object(s)", err=True)
        for key in item.keys:
            click.echo(key)
    for slug in retention.unknown_slugs(found.storage, calls):
        click.echo(f"# {slug}: submissions of a call missing from the catalogue, kept", err=True)
    counters = ratelimit.past_counters(found.storage, window=int(config["RATE_WINDOW_SECONDS"]), now=moment)
    if counters:
        click.echo(f"# rate limit: {len(counters)} counter(s) of past windows", err=True)
        for key in counters:
            click.echo(key)
    total = sum(len(i.keys) for i in expired) + len(counters)
    if dry_run:
        click.echo(f"Dry run: {total} object(s) would be deleted.", err=True)
        return
    retention.purge(found.storage, expired)
    found.storage.delete_many(counters)
    click.echo(f"{total} object(s) deleted.", err=True)


@click.command("send-receipts")
@click.option("--min-age", type=click.FloatRange(min=0), default=120, show_default=True, metavar="SECONDS",
              help="Leave the receipts queued more recently to the form service that is sending them.")
def send_receipts(min_age):
    """Send the receipt mails queued while the mail server was down (run it from cron)."""
    from . import mail

    _, found = form_service()
    sent, left, recent = mail.send_queued(found.mailer, found.storage, min_age=min_age)
    click.echo(f"{sent} queued receipt(s) sent, {left} still queued"
               + (f", {recent} queued less than {min_age:g} s ago left to the form service." if recent else "."))
    if left:
        sys.exit(1)
