"""`calls purge`: what it lists is exactly what it deletes; --dry-run deletes nothing."""

from __future__ import annotations

import datetime as dt
import os

from click.testing import CliRunner

from calls_cli import main
from formservice.config import ROOT, defaults


def stored(storage, slug) -> set[str]:
    return {k for prefix in (f"submissions/{slug}/", f"exports/{slug}/") for k in storage.keys(prefix)}


def test_purge_deletes_exactly_what_it_lists(world, storage, now):
    old = world.call("ancien", opens=now - dt.timedelta(days=500), closes=now - dt.timedelta(days=400))
    recent = world.call("recent", opens=now - dt.timedelta(days=300), closes=now - dt.timedelta(days=200))
    for slug in (old, recent):
        world.submit(slug, now - dt.timedelta(days=450 if slug == old else 250))
        world.submit(slug, now - dt.timedelta(days=450 if slug == old else 250), files=())
        storage.put(f"exports/{slug}/sent/final.json", b"{}")
    before_old, before_recent = stored(storage, old), stored(storage, recent)
    assert len(before_old) == 4  # two records, one file, the sent record
    env = world.env
    runner = CliRunner()

    dry = runner.invoke(main, ["purge", "--dry-run", "--now", now.isoformat()], env=env)
    assert dry.exit_code == 0, dry.output
    listed = {line for line in dry.stdout.splitlines() if line and not line.startswith("#")}
    assert {k for k in listed if old in k or recent in k} == before_old
    assert stored(storage, old) == before_old  # dry run: nothing deleted
    assert "2 submission(s)" in dry.stderr

    done = runner.invoke(main, ["purge", "--now", now.isoformat()], env=env)
    assert done.exit_code == 0, done.output
    deleted = {line for line in done.stdout.splitlines() if line and not line.startswith("#")}
    assert {k for k in deleted if old in k or recent in k} == before_old
    assert stored(storage, old) == set()
    assert stored(storage, recent) == before_recent

    shorter = runner.invoke(main, ["purge", "--months", "6", "--dry-run", "--now", now.isoformat()], env=env)
    assert {line for line in shorter.stdout.splitlines() if recent in line} == before_recent


def test_privacy_page_states_the_retention():
    with open(os.path.join(ROOT, "content", "pages", "donnees-personnelles.md"), encoding="utf-8") as page:
        text = page.read()
    months = defaults()["RETENTION_MONTHS"]
    assert months == 12 and "**douze mois après la clôture de l'appel**" in text


def test_purge_deletes_the_rate_limit_counters_of_past_windows(world, storage, now):
    window = defaults()["RATE_WINDOW_SECONDS"]
    current = int(now.timestamp()) // window * window
    old = [f"ratelimit/{current - window}/{'a' * 32}/{'1' * 32}", f"ratelimit/{current - 5 * window}/{'b' * 32}/{'2' * 32}"]
    live = f"ratelimit/{current}/{'a' * 32}/{'3' * 32}"
    for key in old + [live]:
        storage.put(key, b"")
    world.call("ouvert", opens=now - dt.timedelta(days=10), closes=now + dt.timedelta(days=10))
    env = world.env
    dry = CliRunner().invoke(main, ["purge", "--dry-run", "--now", now.isoformat()], env=env)
    assert dry.exit_code == 0, dry.output
    assert {line for line in dry.stdout.splitlines() if line.startswith("ratelimit/")} >= set(old)
    assert live not in dry.stdout
    assert "counter(s) of past windows" in dry.stderr
    done = CliRunner().invoke(main, ["purge", "--now", now.isoformat()], env=env)
    assert done.exit_code == 0, done.output
    left = set(storage.keys("ratelimit/"))  # the bucket is shared: other tests' live counters may be there
    assert live in left and not left & set(old)


def test_purge_deletes_bookkeeping_that_counts_no_more(world, storage, now):
    tag = world.tag
    keys = [f"exports/_links/used/{tag}", f"exports/_links/appel-{tag}/123.json", f"outbox-leases/{tag}.eml/42"]
    for key in keys:
        storage.put(key, b"{}")
    world.call("menage", opens=now - dt.timedelta(days=10), closes=now + dt.timedelta(days=10))
    dry = CliRunner().invoke(main, ["purge", "--dry-run", "--now", (now + dt.timedelta(days=3)).isoformat()],
                             env=world.env)
    assert dry.exit_code == 0 and set(keys) <= set(dry.stdout.splitlines())
    today = CliRunner().invoke(main, ["purge", "--dry-run", "--now", now.isoformat()], env=world.env)
    assert not set(keys) & set(today.stdout.splitlines())  # too recent: they may still count
