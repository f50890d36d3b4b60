"""Export mails through a real SMTP server: attachments or a presigned link, and the schedule."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import urllib.error
import urllib.request
import zipfile

import openpyxl
from click.testing import CliRunner

from calls_cli import main
from calls_cli.local import free_port
from formservice import delivery
from formservice.mail import SMTPMailer

ADDRESSES = ["innovation@rivebelle.example.org", "achats@partenaire.example.com"]


def calls(world):
    return list(world.calls)


def attachments(message) -> dict:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def xlsx_numbers(data: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_send_attaches_spreadsheets_and_zip(world, storage, mailer, config, smtp, now):
    slug = world.call("envoi", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    first = world.submit(slug, now - dt.timedelta(days=5))
    world.submit(slug, now - dt.timedelta(days=2))
    [call] = calls(world)
    delivery.send_export(storage, mailer, config, delivery.Sending(call, "manual"), now=now)
    [(to, message)] = smtp.about(slug, wait=5)
    assert sorted(to) == sorted(ADDRESSES)
    assert abs(message["Date"].datetime - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    body = message.get_body(("plain",)).get_content()
    assert "Nombre de réponses : 2" in body and f"Appel [{slug}]" in body and "clos le" in body
    assert "Période couverte : du" in body
    assert "point-virgule" in body and "UTF-8" in body
    files = attachments(message)
    assert sorted(name.rsplit(".", 1)[1] for name in files) == ["csv", "xlsx", "zip"]
    xlsx = next(v for k, v in files.items() if k.endswith(".xlsx"))
    assert first.number in xlsx_numbers(xlsx)
    with zipfile.ZipFile(io.BytesIO(next(v for k, v in files.items() if k.endswith(".zip")))) as archive:
        assert any(n.startswith(first.number + "_") for n in archive.namelist())


def test_large_zip_is_sent_as_a_link_that_downloads(world, storage, mailer, config, smtp, now):
    slug = world.call("lien", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    record = world.submit(slug, now - dt.timedelta(days=3), files=(("dossier", "gros.pdf", b"x" * 300_000),))
    [call] = calls(world)
    delivery.send_export(storage, mailer, {**config, "EXPORT_ATTACH_MAX_MB": 0.1}, delivery.Sending(call, "manual"),
                         now=now)
    [(_, message)] = smtp.about(slug, wait=5)
    assert not any(name.endswith(".zip") for name in attachments(message))
    body = message.get_body(("plain",)).get_content()
    assert "trop volumineuses" in body and "télécharger avant le" in body
    link = re.search(r"https?://\S+", body).group(0)
    assert "X-Amz-Expires=604800" in link
    with urllib.request.urlopen(link, timeout=10) as response:
        data = response.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        [path] = [n for n in archive.namelist() if n.startswith(record.number) and n.endswith(".pdf")]
        assert archive.read(path) == b"x" * 300_000
    try:
        urllib.request.urlopen(link.replace("X-Amz-Expires=604800", "X-Amz-Expires=604799"), timeout=10)
        raise AssertionError("a tampered link downloaded")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403


def test_final_export_is_sent_once(world, storage, mailer, config, smtp, now):
    slug = world.call("final", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(hours=1))
    world.submit(slug, now - dt.timedelta(days=2))
    assert delivery.send_exports(storage, mailer, calls(world), config, now=now).ok
    assert delivery.send_exports(storage, mailer, calls(world), config, now=now + dt.timedelta(days=1)).ok
    assert len(smtp.about(slug, wait=5)) == 1
    record = json.loads(storage.get(delivery.sent_key(slug, "final")))
    assert record["state"] == "sent" and record["count"] == 1


def test_two_hosts_at_once_send_one_mail(world, storage, mailer, config, smtp, now):
    slug = world.call("deux-hotes", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(hours=1))
    world.submit(slug, now - dt.timedelta(days=2))
    reports = []
    start = threading.Barrier(4)

    def host(name):
        start.wait()
        reports.append(delivery.send_exports(storage, mailer, calls(world), config, now=now, host=name))

    threads = [threading.Thread(target=host, args=(f"hote-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(smtp.about(slug, wait=5)) == 1
    assert sum("sent to 2 address(es)" in line for r in reports for line in r.lines) == 1


def test_not_sent_before_closing_nor_before_settling(world, storage, mailer, config, smtp, now):
    slug = world.call("scelle", opens=now - dt.timedelta(days=30), closes=now + dt.timedelta(days=3))
    late = world.call("juste-clos", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(minutes=1))
    world.submit(slug, now - dt.timedelta(days=2))
    delivery.send_exports(storage, mailer, calls(world), config, now=now)
    assert smtp.about(slug, wait=0.5) == [] and smtp.about(late) == []
    result = CliRunner().invoke(main, ["export", slug, "--send"], env={**world.env, "FORMSERVICE_SMTP_PORT": str(smtp.port)})
    assert result.exit_code == 1 and "sealed" in result.output
    assert smtp.about(slug, wait=0.5) == []


def test_digest_sends_only_new_submissions(world, storage, mailer, config, smtp, now):
    day = now.replace(hour=8, minute=0)
    slug = world.call("digest", opens=day - dt.timedelta(days=10), closes=day + dt.timedelta(days=10), digest="daily")
    old = [world.submit(slug, day - dt.timedelta(days=d)) for d in (3, 2)]
    delivery.send_exports(storage, mailer, calls(world), config, now=day)
    delivery.send_exports(storage, mailer, calls(world), config, now=day + dt.timedelta(hours=3))
    [(_, first)] = smtp.about(slug, wait=5)
    assert sorted(xlsx_numbers(next(v for k, v in attachments(first).items() if k.endswith(".xlsx")))) == \
        sorted(r.number for r in old)
    new = world.submit(slug, day + dt.timedelta(hours=5))
    delivery.send_exports(storage, mailer, calls(world), config, now=day + dt.timedelta(days=1))
    messages = smtp.about(slug, wait=5)
    assert len(messages) == 2, [m["Subject"] for _, m in messages]
    second = messages[1][1]
    assert xlsx_numbers(next(v for k, v in attachments(second).items() if k.endswith(".xlsx"))) == [new.number]
    assert "nouvelles réponses" in second["Subject"]
    delivery.send_exports(storage, mailer, calls(world), config, now=day + dt.timedelta(days=2))
    assert len(smtp.about(slug, wait=0.5)) == 2  # nothing new: no mail


def test_smtp_down_releases_the_claim(world, storage, mailer, config, smtp, now):
    slug = world.call("smtp-coupe", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(hours=1))
    world.submit(slug, now - dt.timedelta(days=2))
    down = SMTPMailer("127.0.0.1", free_port(), timeout=1)
    report = delivery.send_exports(storage, down, calls(world), config, now=now)
    assert not report.ok and "will be retried" in report.failed[0]
    assert delivery.send_exports(storage, mailer, calls(world), config, now=now).ok
    assert len(smtp.about(slug, wait=5)) == 1


def test_crash_between_claim_and_send_is_reported_not_resent(world, storage, mailer, config, smtp, now):
    slug = world.call("crash", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    world.submit(slug, now - dt.timedelta(days=2))
    claimed = {"what": "final", "state": "claimed", "host": "hote-mort", "claimed_at": (now - dt.timedelta(hours=7)).isoformat()}
    storage.put(delivery.sent_key(slug, "final"), json.dumps(claimed).encode(), if_none_match=True)
    result = CliRunner().invoke(main, ["send-exports", "--now", now.isoformat()],
                                env={**world.env, "FORMSERVICE_SMTP_PORT": str(smtp.port)})
    assert result.exit_code == 1
    assert "never confirmed sent" in result.output and f"calls export {slug} --send" in result.output
    assert smtp.about(slug, wait=0.5) == []


def test_cli_export_writes_files(world, smtp, now, tmp_path):
    slug = world.call("cli", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(days=1))
    world.submit(slug, now - dt.timedelta(days=2))
    result = CliRunner().invoke(main, ["export", slug, "--output", str(tmp_path / "out")],
                                env=world.env)
    assert result.exit_code == 0, result.output
    assert "1 submission(s), 1 file(s)" in result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    base = names[-1].removesuffix(".zip")
    assert names == sorted([f"{base}.csv", f"{base}-versions.csv", f"{base}.xlsx", f"{base}.zip"])
    assert smtp.about(slug, wait=0.3) == []


def test_commands_reach_a_local_instance_or_say_why_in_one_line(tmp_path):
    """`--instance PORT` reaches the `make serve PORT=...` of this checkout; nothing runs on 8300 here."""
    runner = CliRunner()
    for command in (["send-receipts"], ["export", "capteurs-air", "--output", str(tmp_path)], ["send-exports"]):
        result = runner.invoke(main, [*command, "--instance", "8300"])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert "Error: " in result.output
        assert ("object storage unreachable" in result.output or "build the site first" in result.output)


def test_a_final_export_is_not_owed_for_a_call_closed_before_the_platform_saw_it(world, storage, mailer, config,
                                                                                   smtp, now):
    """make serve's first start used to mail "0 réponses" about demo calls closed long ago."""
    old = world.call("ancien-vide", opens=now - dt.timedelta(days=90), closes=now - dt.timedelta(days=60))
    seen = world.call("vu-ouvert", opens=now - dt.timedelta(days=10), closes=now + dt.timedelta(hours=1))
    assert delivery.send_exports(storage, mailer, calls(world), config, now=now).ok  # sees `seen` open
    later = now + dt.timedelta(hours=2)
    report = delivery.send_exports(storage, mailer, calls(world), config, now=later)
    assert report.ok and f"{seen}: final: 0 submission(s) sent to 2 address(es)" in report.lines
    assert smtp.about(old, wait=0.5) == [] and len(smtp.about(seen, wait=5)) == 1
    world.submit(old, now - dt.timedelta(days=61))  # answers stored here: its export is owed
    delivery.send_exports(storage, mailer, calls(world), config, now=later)
    assert len(smtp.about(old, wait=5)) == 1


def test_an_export_refused_for_good_is_set_aside_and_the_others_go(world, storage, mailer, config, smtp, now):
    bad = world.call("refuse", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(hours=1),
                     exports_to=("personne@refuse.example",))
    good = world.call("accepte", opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(hours=1))
    for slug in (bad, good):
        world.submit(slug, now - dt.timedelta(days=2))
    report = delivery.send_exports(storage, mailer, calls(world), config, now=now)
    assert [line for line in report.failed if bad in line and "set aside" in line]
    assert len(smtp.about(good, wait=5)) == 1
    record = json.loads(storage.get(delivery.sent_key(bad, "final")))
    assert record["state"] == "failed" and "refused" in record["reason"]
    again = delivery.send_exports(storage, mailer, calls(world), config, now=now + dt.timedelta(hours=1))
    assert not [line for line in again.failed if bad in line]  # not retried on every run
