"""`calls export`, `calls send-exports`, `calls send-receipts` and `calls purge`: the operators' side.

They use the form service's settings (FORMSERVICE_* and AWS_* variables, as in production). With
`--instance PORT`, or when no S3 endpoint is configured at all, they reach a local instance of
`make serve` instead (its S3 server, mail sink and catalogue), so a person can export right after
answering a call locally. Storage or catalogue trouble is one clear line, never a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from zoneinfo import ZoneInfo

import click

from callmodel.dates import utc_now
from formservice import alerts, create_app, delivery, mail, questions, ratelimit, retention
from formservice.config import ConfigError
from formservice.exports import build_export
from formservice.published import CatalogueUnavailable
from formservice.services import services
from formservice.storage import StorageUnavailable

from . import options
from .local import Instance
from .progress import Progress


def form_service(instance: int | None):
    """The form service's config and services: a local instance's, or the environment's."""
    configured = os.environ.get("FORMSERVICE_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
    overrides = Instance.find(instance or 8000).formservice_config() if instance or not configured else None
    try:
        app = create_app(overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return app.config, services(app)


def operation(function):
    """The command's storage and catalogue trouble said in one line, with what to check."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except StorageUnavailable as exc:
            raise click.ClickException(f"object storage unreachable ({exc}); is the S3 server running "
                                       "(`make serve`, or the --instance PORT of yours)?") from None
        except CatalogueUnavailable as exc:
            raise click.ClickException(f"{exc}: build the site first (`make html`), or set "
                                       "FORMSERVICE_CATALOGUE") from None
    return run


def find_call(found, slug: str):
    call = found.catalogue.get(slug)
    if call is None:
        raise click.ClickException(f"no call {slug!r} in the catalogue {found.catalogue.source}")
    if not call.answered_here:
        raise click.ClickException(f"{slug}: this call takes no answers here (information or external platform)")
    return call


@click.command()
@click.argument("slug")
@click.option("--output", type=click.Path(file_okay=False), help="Write the XLSX, CSV and ZIP into this folder.")
@click.option("--send", is_flag=True, help="Email the export to the call's exports_to addresses.")
@click.option("--before-closing", is_flag=True,
              help="Allow --send while the call is open (answers are sealed until it closes).")
@options.now
@options.instance
@operation
def export(slug, output, send, before_closing, now, instance):
    """Export a call's submissions: spreadsheet (XLSX, CSV with `;`, UTF-8) and ZIP of attachments."""
    if not output and not send:
        raise click.UsageError("say where the export goes: --output DIR, --send, or both")
    config, found = form_service(instance)
    call = find_call(found, slug)
    moment = now or utc_now()
    if output:
        base = f"{call.slug}-{delivery.stamp(moment.astimezone(ZoneInfo(call.timezone)))}"
        result = build_export(found.storage, call, output, basename=base, progress=Progress("Exporting"))
        click.echo(f"{result.count} submission(s), {result.files} file(s):")
        for path in result.paths:
            click.echo(f"  {path}")
    if send:
        if delivery.sealed(call, moment) and not before_closing:
            raise click.ClickException(f"{slug} is open and its answers are sealed until it closes: "
                                       "add --before-closing to send them anyway")
        result = delivery.send_export(found.storage, found.mailer, config, delivery.Sending(call, "manual"),
                                      now=moment, progress=Progress("Exporting"))
        click.echo(f"{result.count} submission(s) sent to {', '.join(call.exports_to)}.")


@click.command()
@options.now
@options.instance
@operation
def send_exports(now, instance):
    """Send what is due (run from cron on any host): final exports of calls that closed, digests, requests.

    Each sending is recorded in storage before it is made: two runs or two hosts never send twice."""
    config, found = form_service(instance)
    report = delivery.send_exports(found.storage, found.mailer, found.catalogue.calls(), config,
                                   now=now or utc_now(), progress=Progress("Exporting"))
    for line in report.lines:
        click.echo(line)
    for line in report.failed + report.unconfirmed:
        click.echo(line, err=True)
    if not report.ok:
        sys.exit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="List what would be deleted, delete nothing.")
@click.option("--months", type=click.IntRange(min=1), help="Months after closing (default: RETENTION_MONTHS, 12).")
@options.now
@options.instance
@operation
def purge(dry_run, months, now, instance):
    """Delete submissions, exports and questions of calls closed more than RETENTION_MONTHS ago, the
    rate-limit counters of past windows, and alert subscriptions never confirmed (after 3 days),
    listing each object."""
    config, found = form_service(instance)
    months = months or int(config["RETENTION_MONTHS"])
    calls = found.catalogue.calls()
    moment = now or utc_now()
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
    stale = (retention.bookkeeping(found.storage, now=moment) + retention.unsent(found.storage, calls, now=moment)
             + alerts.stale(found.storage, calls, now=moment, months=months))
    if stale:
        click.echo(f"# {len(stale)} object(s) that count no more: used links, leases, files of answers never "
                   "sent, drafts of closed calls, alert subscriptions never confirmed or following only "
                   "expired calls", err=True)
        for key in stale:
            click.echo(key)
    total = sum(len(i.keys) for i in expired) + len(counters) + len(stale)
    if dry_run:
        click.echo(f"Dry run: {total} object(s) would be deleted.", err=True)
        return
    retention.purge(found.storage, expired)
    found.storage.delete_many(counters + stale)
    click.echo(f"{total} object(s) deleted.", err=True)


@click.command()
@click.option("--min-age", type=click.FloatRange(min=0), default=120, show_default=True, metavar="SECONDS",
              help="Leave the receipts queued more recently to the form service that is sending them.")
@options.instance
@operation
def send_receipts(min_age, instance):
    """Send the receipt mails queued while the mail server was down (run it from cron)."""
    _, found = form_service(instance)
    report = mail.send_queued(found.mailer, found.storage, min_age=min_age)
    click.echo(f"{report.sent} queued receipt(s) sent, {report.left} still queued"
               + (f", {report.recent} queued less than {min_age:g} s ago left to the form service" if report.recent else "")
               + (f", {report.leased} being sent by another sender" if report.leased else "") + ".")
    for line in report.set_aside:
        click.echo(f"set aside under {mail.FAILED}/ (never sendable): {line}", err=True)
    if report.left or report.set_aside:
        sys.exit(1)


@click.command()
@options.now
@options.instance
@operation
def send_alerts(now, instance):
    """Mail the news (run from cron, e.g. every 15 minutes): each asker the published answer to their
    question, once; then one digest per subscriber with calls published or changed since their last.

    Two runs at once never send the same news twice to the same person."""
    config, found = form_service(instance)
    calls = found.catalogue.calls()
    moment = now or utc_now()
    deliver = functools.partial(mail.send_or_queue, found.mailer, found.storage)
    answered = questions.mail_answers(found.storage, calls, config, deliver, now=moment)
    report = alerts.send_alerts(found.storage, found.mailer, calls, config, now=moment,
                                queue=functools.partial(mail.queue, found.storage))
    click.echo(f"{answered} answer(s) mailed to who asked; {report.news} news item(s) kept, {report.digests} "
               f"digest(s) sent to {report.subscribers} confirmed subscriber(s)"
               + (f", {report.skipped} taken by another sender" if report.skipped else "") + ".")
    for line in report.failed:
        click.echo(line, err=True)
    if report.failed:
        sys.exit(1)


@click.command("questions")
@click.argument("slug")
@click.option("--all", "everything", is_flag=True, help="Also list the questions already answered.")
@options.instance
@operation
def questions_command(slug, everything, instance):
    """List the questions asked about a call (SLUG) that no published answer replies to yet: their
    id (write it as the answer's `id` in the call file), date, who asked and the question."""
    config, found = form_service(instance)
    call = found.catalogue.get(slug)
    if call is None:
        raise click.ClickException(f"no call {slug!r} in the catalogue {found.catalogue.source}")
    answered = {q.id for q in call.questions if q.id}
    listed = 0
    for question in questions.asked(found.storage, slug):
        if question.id in answered and not everything:
            continue
        listed += 1
        who = ", ".join(p for p in (question.name, question.organisation, question.email) if p)
        state = "répondue" if question.id in answered else "sans réponse"
        click.echo(f"{question.id}  {question.asked_at.astimezone(call.opens.tzinfo):%Y-%m-%d %H:%M}  {state}  {who}")
        click.echo("    " + question.text.replace("\n", "\n    "))
    click.echo(f"{listed} question(s){'' if everything else ' sans réponse publiée'}.", err=True)
