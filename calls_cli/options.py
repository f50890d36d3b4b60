"""The options several commands share, declared once, with one meaning everywhere."""

from __future__ import annotations

import os

import click

from callmodel.dates import DEFAULT_TIMEZONE, DateError, parse_instant

PROJECT_SETTINGS = "pelicanconf.py"


class Instant(click.ParamType):
    """An ISO 8601 date-time; without an offset it is read in the site's time zone (Europe/Paris)."""

    name = "ISO-TIME"

    def convert(self, value, param, ctx):
        if value is None or not isinstance(value, str):
            return value
        try:
            return parse_instant(value)
        except DateError as exc:
            self.fail(f"{exc} ; avec un décalage : 2027-01-15T12:00+01:00", param, ctx)


def settings(function):
    return click.option(
        "--settings", "settings_path", default=PROJECT_SETTINGS, show_default=True,
        type=click.Path(dir_okay=False), callback=lambda ctx, param, value: os.path.abspath(value),
        help="Pelican settings file of the site.")(function)


def now(function):
    return click.option(
        "--now", type=Instant(),
        help=f"Act as if at this ISO date-time (without offset: {DEFAULT_TIMEZONE}), e.g. 2027-01-15T12:00.")(function)


def instance(function):
    return click.option(
        "--instance", type=click.IntRange(1, 65535), metavar="PORT",
        help="Reach the local instance whose site runs on PORT (`make serve PORT=...`); the default when "
             "no S3 endpoint is configured is the one on 8000.")(function)
