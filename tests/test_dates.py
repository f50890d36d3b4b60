"""Status and dates in the call's time zone, across daylight-saving changes, with a frozen clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from callmodel.dates import DateError, parse_datetime
from callmodel.french import days_left_text, french_date, french_datetime, french_size
from callmodel.schema import Call

PARIS = ZoneInfo("Europe/Paris")


def call(opens, closes, tz="Europe/Paris"):
    zone = ZoneInfo(tz)
    return Call(slug="c", source="c", title="t", type="ami", partner="p", summary="s",
                published=dt.date(2027, 1, 1), opens=parse_datetime(opens, zone),
                closes=parse_datetime(closes, zone) if closes else None, timezone=tz)


def now():
    return dt.datetime.now(dt.timezone.utc)


def test_local_times_take_the_offset_of_their_day():
    assert parse_datetime("2027-03-27T12:00", PARIS).isoformat() == "2027-03-27T12:00:00+01:00"
    assert parse_datetime("2027-03-28T12:00", PARIS).isoformat() == "2027-03-28T12:00:00+02:00"
    assert parse_datetime("2027-10-31T12:00", PARIS).isoformat() == "2027-10-31T12:00:00+01:00"


def test_explicit_offset_is_converted_to_the_call_zone():
    assert parse_datetime("2027-01-15T11:00Z", PARIS).isoformat() == "2027-01-15T12:00:00+01:00"


def test_skipped_local_time_is_refused():
    with pytest.raises(DateError, match="n.existe pas dans le fuseau Europe/Paris"):
        parse_datetime("2027-03-28T02:30", PARIS)


@pytest.mark.parametrize("opens, closes, closing_utc", [
    # Noon in Paris the day clocks move forward is 10:00 UTC, not 11:00...
    ("2027-03-01T09:00", "2027-03-28T12:00", dt.datetime(2027, 3, 28, 10, 0, tzinfo=dt.timezone.utc)),
    # ...and the day they move back, 11:00 UTC.
    ("2027-10-01T09:00", "2027-10-31T12:00", dt.datetime(2027, 10, 31, 11, 0, tzinfo=dt.timezone.utc)),
])
def test_status_flips_exactly_at_closing_across_daylight_saving(opens, closes, closing_utc):
    c = call(opens, closes)
    with time_machine.travel(closing_utc - dt.timedelta(seconds=1), tick=False):
        assert c.status(now()) == "open"
    with time_machine.travel(closing_utc, tick=False):
        assert c.status(now()) == "closed"


def test_upcoming_before_opening_in_another_zone():
    c = call("2027-01-10T09:00", "2027-02-10T12:00", tz="America/Cayenne")
    with time_machine.travel(dt.datetime(2027, 1, 10, 11, 59, tzinfo=dt.timezone.utc), tick=False):
        assert c.status(now()) == "upcoming"
    with time_machine.travel(dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.timezone.utc), tick=False):
        assert c.status(now()) == "open"


def test_notice_without_deadline_never_closes():
    c = call("2026-11-01T00:00", None)
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), tick=False):
        assert c.status(now()) == "open"


def test_french_formats():
    assert french_date(dt.date(2027, 1, 1)) == "1er janvier 2027"
    assert french_datetime(parse_datetime("2027-01-15T12:00", PARIS)) == "15 janvier 2027 à 12 h 00 (heure de Paris)"
    assert french_datetime(parse_datetime("2027-08-03T09:05", ZoneInfo("America/Cayenne"))) == \
        "3 août 2027 à 9 h 05 (heure de Cayenne)"


def test_days_left_counts_calendar_days_in_the_call_zone():
    closes = parse_datetime("2027-01-15T12:00", PARIS)
    assert days_left_text(closes, dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.timezone.utc)) == "Dernier jour"
    assert days_left_text(closes, dt.datetime(2027, 1, 14, 23, 30, tzinfo=dt.timezone.utc)) == "Dernier jour"
    assert days_left_text(closes, dt.datetime(2027, 1, 14, 12, 0, tzinfo=dt.timezone.utc)) == "Clôture demain"
    assert days_left_text(closes, dt.datetime(2027, 1, 5, 12, 0, tzinfo=dt.timezone.utc)) == "10 jours restants"


def test_french_sizes():
    assert [french_size(n) for n in (500, 10485, 1048576, 1572864, 3 * 1024 ** 3)] == [
        "500 octets", "10 ko", "1 Mo", "1,5 Mo", "3 Go"]
