"""The call model shared by every stage: the calls.json codec and its schema, the status rule, and
`--now`, which means one thing everywhere."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os

import jsonschema
import pytest
from click.testing import CliRunner

from callmodel import record, status
from callmodel.dates import DEFAULT_TIMEZONE, parse_instant
from callmodel.record import from_record, to_record
from calls_cli import main
from calls_cli.options import Instant
from generator import settings as plugin_settings
from generator.reader import read_catalogue

from .conftest import FIXTURE_SETTINGS, ROOT


def load(site_dir, path):
    with open(os.path.join(site_dir, path), encoding="utf-8") as handle:
        return json.load(handle)


def schema():
    with open(record.SCHEMA_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def test_the_built_calls_json_follows_its_published_schema(site_dir):
    data = load(site_dir, "api/calls.json")
    validator = jsonschema.Draft202012Validator(schema())
    assert [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)] == []
    assert load(site_dir, "api/calls.schema.json") == schema()


def test_the_schema_refuses_what_the_form_service_could_not_read(site_dir):
    data = load(site_dir, "api/calls.json")
    validator = jsonschema.Draft202012Validator(schema())
    broken = json.loads(json.dumps(data))
    broken["calls"][0]["closes"] = "2027-01-15T12:00"  # no offset: ambiguous
    del broken["calls"][1]["slug"]
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any("'slug' is a required property" in m for m in messages)
    assert len(messages) >= 2


def test_every_record_reads_back_to_the_same_record(site_dir):
    """from_record then to_record gives the published record again, field for field."""
    data = load(site_dir, "api/calls.json")
    now = dt.datetime.fromisoformat(data["generated"])
    site = data["calls"][0]["url"].split("/appels/")[0]
    forms = next(c["submit_url"] for c in data["calls"] if c["submit_url"]).split("/appels/")[0]
    for published in data["calls"]:
        assert to_record(from_record(published), site=site, forms=forms, now=now) == published


def test_the_model_read_from_files_is_the_model_read_from_calls_json(site_dir):
    """What the generator reads from call.md and what the form service reads from calls.json are
    the same Call, but for what stays with the site (text, folder, source file, history)."""
    settings = plugin_settings.load(FIXTURE_SETTINGS)
    catalogue = read_catalogue(settings["PATH"], plugin_settings.calls_path(settings))
    with open(os.path.join(site_dir, "api", "calls.json"), encoding="utf-8") as public, \
            open(os.path.join(site_dir + "-private", "recipients.json"), encoding="utf-8") as private:
        published, _ = record.read_catalogue(public.read(), private.read())
    assert len(catalogue.calls) == len(published) == 7
    for call in catalogue.calls:
        other = published[call.slug]
        site_only = {"body": "", "folder": "", "source": "", "history": None, "version": None}
        assert dataclasses.replace(call, **site_only) == dataclasses.replace(other, **site_only), call.slug


def test_no_recipient_address_is_ever_published(site_dir):
    """exports_to goes to the build's private file, beside the site, never inside it."""
    settings = plugin_settings.load(FIXTURE_SETTINGS)
    addresses = {a for call in read_catalogue(settings["PATH"], plugin_settings.calls_path(settings)).calls
                 for a in call.exports_to}
    assert len(addresses) >= 3
    for folder, _, files in os.walk(site_dir):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                data = handle.read()
            assert not [a for a in addresses if a.encode() in data], os.path.join(folder, name)
    private = load(site_dir + "-private", "recipients.json")["calls"]
    assert {a for entry in private.values() for a in entry["exports_to"]} == addresses


def test_status_rule_and_next_change():
    paris = dt.timezone(dt.timedelta(hours=1))
    opens, closes = dt.datetime(2027, 1, 1, 9, tzinfo=paris), dt.datetime(2027, 1, 15, 12, tzinfo=paris)
    assert status.status(opens, closes, opens - dt.timedelta(seconds=1)) == "upcoming"
    assert status.status(opens, closes, opens) == "open"
    assert status.status(opens, closes, closes - dt.timedelta(seconds=1)) == "open"
    assert status.status(opens, closes, closes) == "closed"
    assert status.status(opens, None, closes + dt.timedelta(days=999)) == "open"

    class C:
        def __init__(self, o, c):
            self.opens, self.closes = o, c

    calls = [C(opens, closes), C(opens + dt.timedelta(days=2), None)]
    assert status.next_change(calls, opens - dt.timedelta(days=1)) == opens
    assert status.next_change(calls, opens) == opens + dt.timedelta(days=2)
    assert status.next_change(calls, closes) is None


@pytest.mark.parametrize("text, utc", [
    ("2027-01-15T12:00", dt.datetime(2027, 1, 15, 11, 0, tzinfo=dt.timezone.utc)),  # winter: Paris is UTC+1
    ("2027-07-15T12:00", dt.datetime(2027, 7, 15, 10, 0, tzinfo=dt.timezone.utc)),  # summer: UTC+2
    ("2027-01-15T12:00:00+00:00", dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.timezone.utc)),
    ("2027-01-15T12:00Z", dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.timezone.utc)),
])
def test_now_without_offset_is_read_in_the_site_time_zone(text, utc):
    assert Instant().convert(text, None, None) == utc == parse_instant(text)


def test_build_and_operators_read_now_the_same_way(catalogue_copy, tmp_path):
    """`calls build --now` with a local time: the deadline of capteurs-air is noon, Paris time."""
    settings = str(catalogue_copy / "settings.py")
    statuses = []
    for moment in ("2027-01-15T11:59", "2027-01-15T12:00"):
        output = tmp_path / moment.replace(":", "")
        result = CliRunner().invoke(main, ["build", "--settings", settings, "--output", str(output), "--no-search",
                                           "--now", moment])
        assert result.exit_code == 0, result.output
        calls = {c["slug"]: c for c in json.loads((output / "api" / "calls.json").read_text())["calls"]}
        statuses.append(calls["capteurs-air"]["status"])
    assert statuses == ["open", "closed"]
    for command in (["build"], ["send-exports"], ["purge", "--dry-run"], ["export", "x", "--output", "y"]):
        refused = CliRunner().invoke(main, [*command, "--now", "demain"])
        assert refused.exit_code == 2 and "2027-01-15T12:00" in refused.output, command


def test_site_time_zone_is_the_settings_one():
    assert plugin_settings.load(os.path.join(ROOT, "pelicanconf.py"))["TIMEZONE"] == DEFAULT_TIMEZONE
