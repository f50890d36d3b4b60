"""Dates, times and sizes the French way, as pages, mails and spreadsheets show them."""

from __future__ import annotations

import datetime as dt

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def city(tz_name: str) -> str:
    return tz_name.rsplit("/", 1)[-1].replace("_", " ")


def french_date(day: dt.date) -> str:
    """15 janvier 2027 (1er for the first of the month)."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def french_time(moment: dt.datetime, *, seconds: bool = False) -> str:
    """12 h 00, or 11 h 58 min 07 s to the second."""
    if seconds:
        return f"{moment.hour} h {moment.minute:02d} min {moment.second:02d} s"
    return f"{moment.hour} h {moment.minute:02d}"


def french_datetime(moment: dt.datetime, *, with_zone: bool = True, seconds: bool = False) -> str:
    """15 janvier 2027 à 12 h 00 (heure de Paris)."""
    text = f"{french_date(moment.date())} à {french_time(moment, seconds=seconds)}"
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


def french_number(value) -> str:
    """1 000 000 or 12,5: thin no-break spaces between thousands, a decimal comma."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    whole, _, decimals = str(value).partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return sign + "\u202f".join(groups) + ("," + decimals if decimals else "")


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
