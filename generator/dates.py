"""Dates of calls: parsed in the call's time zone, shown the French way (and file sizes too)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:\d{2})?$")


class DateError(ValueError):
    """A date written in a call that cannot be read; the message is shown to staff as is."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateError(f'"{name}" is not a known time zone (e.g. Europe/Paris)') from None


def parse_date(value) -> dt.date:
    text = str(value).strip()
    if not _DATE_RE.match(text):
        raise DateError(f'"{text}" is not a date (expected YYYY-MM-DD)')
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DateError(f'"{text}" is not a valid date') from None


def parse_datetime(value, tz: ZoneInfo, *, date_only_time: dt.time | None = None) -> dt.datetime:
    """An aware datetime; a time without offset is local to `tz`.

    A bare date is accepted only when `date_only_time` says which time of the day it means.
    A local time that does not exist (skipped by a daylight-saving change) is an error.
    """
    text = str(value).strip()
    if _DATE_RE.match(text):
        day = parse_date(text)
        if date_only_time is None:
            raise DateError(f'"{text}" needs a time of day, e.g. {text}T12:00')
        return _localize(dt.datetime.combine(day, date_only_time), tz, text)
    match = _DATETIME_RE.match(text)
    if not match:
        raise DateError(f'"{text}" is not a date-time (expected YYYY-MM-DDTHH:MM)')
    day, time, offset = match.groups()
    try:
        parsed = dt.datetime.fromisoformat(f"{day}T{time}{'+00:00' if offset == 'Z' else offset or ''}")
    except ValueError:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise DateError(f'"{text}" is not a valid date') from None
        raise DateError(f'"{text}" is not a valid time') from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(tz)
    return _localize(parsed, tz, text)


def _localize(naive: dt.datetime, tz: ZoneInfo, text: str) -> dt.datetime:
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(dt.timezone.utc).astimezone(tz)
    if round_trip.replace(tzinfo=None) != naive:
        raise DateError(f'"{text}" does not exist in {tz.key} (skipped by the daylight-saving change)')
    return aware


def city(tz_name: str) -> str:
    return tz_name.rsplit("/", 1)[-1].replace("_", " ")


def french_date(day: dt.date) -> str:
    """15 janvier 2027 (1er for the first of the month)."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def french_time(moment: dt.datetime) -> str:
    return f"{moment.hour} h {moment.minute:02d}"


def french_datetime(moment: dt.datetime, *, with_zone: bool = True) -> str:
    """15 janvier 2027 à 12 h 00 (heure de Paris)."""
    text = f"{french_date(moment.date())} à {french_time(moment)}"
    if with_zone and moment.tzinfo is not None:
        text += f" (heure de {city(moment.tzinfo.key)})"
    return text


def days_left(closes: dt.datetime, now: dt.datetime) -> int:
    """Whole calendar days between today and the closing day, in the call's time zone."""
    return (closes.date() - now.astimezone(closes.tzinfo).date()).days


def days_left_text(closes: dt.datetime, now: dt.datetime) -> str:
    days = days_left(closes, now)
    if days <= 0:
        return "Dernier jour"
    if days == 1:
        return "Clôture demain"
    return f"{days} jours restants"


def french_size(size: float) -> str:
    """12 ko, 1,2 Mo: French units with a decimal comma, on pages, forms and receipts."""
    if size < 1024:
        return f"{size:.0f} octets"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} ko"
    for unit in ("Mo", "Go"):
        size /= 1024
        if size < 1024 * 1024 or unit == "Go":
            return f"{size / 1024:.1f} {unit}".replace(".", ",").replace(",0 ", " ")
    raise AssertionError("unreachable")
