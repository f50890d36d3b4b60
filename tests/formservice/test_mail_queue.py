"""The mail queue: one bad message never stops the others, two senders never send one message twice,
and a receipt's links and Message-ID come from the configuration, never from the request."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from formhelpers import Answering, company_answers

from calls_cli.local import free_port
from formservice import mail
from formservice.mail import SMTPMailer, send_queued
from formservice.services import services
from formservice.storage import S3Storage, StorageUnavailable, outbox_key
from tests.servers import Inbox


def queued(storage, to: str, subject: str) -> str:
    """A message put in the queue as raw bytes, as a stored message may be (key: outbox/<key>.eml)."""
    raw = (f"From: ne-pas-repondre@rivebelle.example\r\nTo: {to}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '-')}@test.invalid>\r\n\r\nBonjour\r\n").encode()
    key = outbox_key(secrets.token_hex(16))
    storage.put(key, raw, content_type="message/rfc822")
    return key


def subjects(smtp, tag: str) -> list[str]:
    return sorted(m["Subject"] for _, m in smtp.wait_for(lambda to, m: tag in m["Subject"], 5))


def test_a_poison_message_is_set_aside_with_its_reason_and_the_others_go(s3, smtp):
    storage = S3Storage(s3.bucket)
    tag = secrets.token_hex(4)
    good = [queued(storage, f"personne{n}@airpur.example", f"recu {tag} {n}") for n in range(3)]
    hostile = queued(storage, "=?utf-8?q?x=0D=0ABcc=3A_x=40y.zz?=@b.cc", f"recu {tag} piege")
    refused = queued(storage, "absent@refuse.example", f"recu {tag} refuse")
    storage.put(outbox_key(f"illisible-{tag}"), b"\xff\xfe not a mail", content_type="message/rfc822")
    report = send_queued(SMTPMailer("127.0.0.1", smtp.port, timeout=5), storage, min_age=0)
    assert subjects(smtp, tag) == [f"recu {tag} {n}" for n in range(3)]
    aside = "\n".join(report.set_aside)
    assert hostile in aside and refused in aside and f"illisible-{tag}" in aside
    for key in (hostile, refused):
        name = key.removeprefix("outbox/")
        assert json.loads(storage.get(f"outbox-failed/{name}.json"))["reason"]
        assert storage.get(f"outbox-failed/{name}")
    left = set(storage.keys("outbox/"))
    assert not left & {*good, hostile, refused, outbox_key(f"illisible-{tag}")}


def test_two_senders_at_once_send_each_message_once(s3, smtp):
    storage = S3Storage(s3.bucket)
    tag = secrets.token_hex(4)
    keys = [queued(storage, f"double{n}@airpur.example", f"lot {tag} {n:02d}") for n in range(30)]
    mailer = SMTPMailer("127.0.0.1", smtp.port, timeout=5)
    start = threading.Barrier(2)
    reports = []

    def sender(name):
        start.wait()
        reports.append(send_queued(mailer, storage, min_age=0, sender=name))

    threads = [threading.Thread(target=sender, args=(f"cron-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = subjects(smtp, f"lot {tag}")
    assert got == [f"lot {tag} {n:02d}" for n in range(30)]  # each once, none lost
    assert sum(r.sent for r in reports) >= 30  # the bucket is shared: others' queued mails may go too
    assert not set(storage.keys("outbox/")) & set(keys)
    assert not [k for k in storage.keys("outbox-leases/") if any(k.split("/")[1] == key[7:] for key in keys)]


def test_a_lease_left_by_a_dead_sender_expires(s3, smtp):
    storage = S3Storage(s3.bucket)
    tag = secrets.token_hex(4)
    key = queued(storage, "perdu@airpur.example", f"orphelin {tag}")
    mailer = SMTPMailer("127.0.0.1", smtp.port, timeout=5)
    now = dt.datetime.now(dt.timezone.utc)
    assert mail.take_lease(storage, key, now=now, lease=300, sender="mort")  # then the sender dies
    assert send_queued(mailer, storage, min_age=0, now=now + dt.timedelta(seconds=60)).leased >= 1
    assert smtp.wait_for(lambda to, m: f"orphelin {tag}" in m["Subject"], 0.5) == []
    send_queued(mailer, storage, min_age=0, now=now + dt.timedelta(seconds=700))
    assert subjects(smtp, f"orphelin {tag}") == [f"orphelin {tag}"]


class FlakyDeletes(S3Storage):
    """The real storage, but its deletes fail the first times (an outage right after sending)."""

    failures = 2

    def delete_many(self, keys):
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable("storage down (test)")
        super().delete_many(keys)


def test_a_storage_outage_after_sending_does_not_send_twice(s3, smtp):
    storage = FlakyDeletes(s3.bucket)
    outbox = mail.Outbox(SMTPMailer("127.0.0.1", smtp.port, timeout=5), storage, unqueue_delay=0.05)
    tag = secrets.token_hex(4)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@rivebelle.example", "b@airpur.example", f"panne {tag}"
    message.set_content("x")
    assert outbox.deliver(message, f"panne-{tag}").result(timeout=10)
    deadline = dt.datetime.now() + dt.timedelta(seconds=10)
    while outbox_key(f"panne-{tag}") in set(storage.keys("outbox/")):
        assert dt.datetime.now() < deadline, "never unqueued"
        threading.Event().wait(0.05)
    assert storage.failures == 0
    send_queued(SMTPMailer("127.0.0.1", smtp.port, timeout=5), storage, min_age=0)
    assert subjects(smtp, f"panne {tag}") == [f"panne {tag}"]


def test_receipt_links_and_message_id_come_from_the_configuration(make_app, smtp):
    app = make_app(URL="https://reponses.rivebelle.example", PROXIES=1)
    person = Answering(app.test_client())
    person.environ.update(HTTP_HOST="piege.example", HTTP_X_FORWARDED_HOST="piege.example",
                          HTTP_X_FORWARDED_PROTO="http")
    person.open()
    sent = person.send(company_answers(email="hote@airpur.example"))
    assert sent.status_code == 303
    sub_id = sent.headers["Location"].split("/")[3]
    [receipt] = smtp.to("hote@airpur.example")
    text = receipt.get_body(("plain",)).get_content()
    assert "piege.example" not in str(receipt)
    assert f"https://reponses.rivebelle.example/recu/capteurs-air/{sub_id}/" in text
    assert receipt["Message-ID"].strip() == f"<receipt-{sub_id}-v1@reponses.rivebelle.example>"
    assert services(app).outbox  # the app's own outbox sent it


class CountingInbox(Inbox):
    """An inbox that counts the SMTP sessions opened to it (one EHLO each)."""

    def __init__(self):
        super().__init__()
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions += 1
        return responses


def test_a_batch_keeps_its_connection_and_replaces_one_the_server_closed():
    inbox, port = CountingInbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    mailer = SMTPMailer("127.0.0.1", port, timeout=5)

    def note(n):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@rivebelle.example", "b@airpur.example", f"lot {n}"
        message.set_content("Bonjour")
        return message

    try:
        with mailer.batch():
            mailer.send(note(1))
            mailer.send(note(2))
            assert inbox.sessions == 1  # the second mail went on the first one's connection
            server.stop()  # the server goes away with the kept connection open
            server = Controller(inbox, hostname="127.0.0.1", port=port)
            server.start()
            mailer.send(note(3))  # the dead connection is found out before anything is sent on it
        mailer.send(note(4))  # outside a batch: a connection of its own, closed after it
    finally:
        server.stop()
    assert [m["Subject"] for _, m in inbox.messages] == ["lot 1", "lot 2", "lot 3", "lot 4"]
    assert inbox.sessions == 3
