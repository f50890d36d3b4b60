"""Dates of calls, parsed in the call's time zone (shown the French way by callmodel.french).

`DEFAULT_TIMEZONE` is the site's time zone (pelicanconf.py's TIMEZONE) and the zone of a call that
names none; an instant given without an offset anywhere (`--now`, CALLS_NOW) is read in it.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Paris"
# The zones of French territories, offered by the call editor; `calls check` accepts any IANA zone.
TIMEZONES = (DEFAULT_TIMEZONE, "America/Cayenne", "America/Guadeloupe", "America/Martinique", "America/Miquelon",
             "Indian/Reunion", "Indian/Mayotte", "Pacific/Noumea", "Pacific/Tahiti", "Pacific/Wallis")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:\d{2})?$")


class DateError(ValueError):
    """A date written in a call that cannot be read; the message is shown to staff as is."""


# Messages the call editor repeats in the browser (generator.editor passes them on).
NOT_A_DATETIME = ("« {text} » n'est pas une date et une heure : écrivez AAAA-MM-JJTHH:MM, "
                  "par exemple 2027-01-15T12:00")
NO_SUCH_DATE = "la date « {text} » n'existe pas"
SKIPPED_TIME = ("« {text} » n'existe pas dans le fuseau {zone} : cette heure est sautée au passage à l'heure "
                "d'été ; choisissez-en une autre")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateError(f"« {name} » n'est pas un fuseau horaire connu (par exemple Europe/Paris)") from None


def parse_date(value) -> dt.date:
    text = str(value).strip()
    if not _DATE_RE.match(text):
        raise DateError(f"« {text} » n'est pas une date : écrivez AAAA-MM-JJ, par exemple 2027-01-15")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DateError(NO_SUCH_DATE.format(text=text)) from None


def parse_datetime(value, tz: ZoneInfo, *, date_only_time: dt.time | None = None) -> dt.datetime:
    """An aware datetime; a time without offset is local to `tz`.

    A bare date is accepted only when `date_only_time` says which time of the day it means.
    A local time that does not exist (skipped by a daylight-saving change) is an error.
    """
    text = str(value).strip()
    if _DATE_RE.match(text):
        day = parse_date(text)
        if date_only_time is None:
            raise DateError(f"« {text} » : il manque l'heure, par exemple {text}T12:00")
        return _localize(dt.datetime.combine(day, date_only_time), tz, text)
    match = _DATETIME_RE.match(text)
    if not match:
        raise DateError(NOT_A_DATETIME.format(text=text))
    day, time, offset = match.groups()
    try:
        parsed = dt.datetime.fromisoformat(f"{day}T{time}{'+00:00' if offset == 'Z' else offset or ''}")
    except ValueError:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise DateError(NO_SUCH_DATE.format(text=text)) from None
        raise DateError(f"l'heure de « {text} » n'existe pas (de 00:00 à 23:59)") from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(tz)
    return _localize(parsed, tz, text)


def _localize(naive: dt.datetime, tz: ZoneInfo, text: str) -> dt.datetime:
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(dt.timezone.utc).astimezone(tz)
    if round_trip.replace(tzinfo=None) != naive:
        raise DateError(SKIPPED_TIME.format(text=text, zone=tz.key))
    return aware


def parse_instant(value, tz_name: str = DEFAULT_TIMEZONE) -> dt.datetime:
    """An aware instant from an ISO 8601 text (or a datetime); without an offset, local to `tz_name`."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else _localize(value, zone(tz_name), value.isoformat())
    return parse_datetime(value, zone(tz_name))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)

