"""Questions asked to a call's organiser on its page, and the mail that brings each asker the answer
once it is published.

    questions/<slug>/<id>.json       a question as asked: its text, who asked and their address
    questions/<slug>/<id>.answered   created once (IfNoneMatch) when the asker is mailed the answer

Staff publish the answer in the call file (`questions:`, with the question's `id`), for everybody,
without the name or address of whoever asked; the next `calls send-alerts` mails the asker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import json
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Callable, Iterable, Iterator, Mapping

from callmodel import urls
from callmodel.french import french_datetime
from callmodel.schema import Call

from .mail import MailRejected, message_id
from .storage import Storage

log = logging.getLogger(__name__)

QUESTIONS = "questions"
# Crockford's base 32 (no I, L, O, U): an id read or typed by a person is not misread.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class AskedQuestion:
    id: str  # Q-XXXXXX, in the mails, in `calls questions` and in the call file's answer
    slug: str
    asked_at: dt.datetime
    text: str
    email: str
    name: str = ""
    organisation: str = ""

    def to_json(self) -> bytes:
        data = dataclasses.asdict(self)
        data["asked_at"] = self.asked_at.isoformat()
        return json.dumps(data, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "AskedQuestion":
        data = json.loads(raw)
        data["asked_at"] = dt.datetime.fromisoformat(data["asked_at"])
        return cls(**data)


def question_id(digest: str) -> str:
    """Q- and six characters from a hex digest (the form's token): one question per form sent."""
    value = int(digest[:8], 16)
    return "Q-" + "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(6))


def question_key(slug: str, qid: str) -> str:
    return f"{QUESTIONS}/{slug}/{qid}.json"


def store(storage: Storage, question: AskedQuestion) -> None:
    """Create-only: FileExistsError when this id is taken (the same form sent twice)."""
    storage.put(question_key(question.slug, question.id), question.to_json(), content_type="application/json",
                if_none_match=True)


def load(storage: Storage, slug: str, qid: str) -> AskedQuestion | None:
    try:
        return AskedQuestion.from_json(storage.get(question_key(slug, qid)))
    except FileNotFoundError:
        return None


def asked(storage: Storage, slug: str) -> Iterator[AskedQuestion]:
    """Every question asked about a call, oldest first."""
    found = [load(storage, slug, key.rsplit("/", 1)[1].removesuffix(".json"))
             for key in storage.keys(f"{QUESTIONS}/{slug}/") if key.endswith(".json")]
    yield from sorted((q for q in found if q is not None), key=lambda q: q.asked_at)


def claim_answer_mail(storage: Storage, slug: str, qid: str, now: dt.datetime) -> bool:
    """True once: whoever creates the mark mails the asker the published answer."""
    try:
        storage.put(f"{QUESTIONS}/{slug}/{qid}.answered", json.dumps({"at": now.isoformat()}).encode(),
                    content_type="application/json", if_none_match=True)
    except FileExistsError:
        return False
    return True


def _message(subject: str, to: str, kind: str, question: AskedQuestion, lines: list[str],
             config: Mapping) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = message_id(kind, f"{question.slug}-{question.id}", config["URL"])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join([*lines, "", "-- ", config["SITENAME"], "Message automatique : ne pas répondre."]))
    return message


def organiser_message(call: Call, question: AskedQuestion, config: Mapping) -> EmailMessage:
    """The question, to the call's organiser, with how to publish the answer for everybody."""
    who = ", ".join(p for p in (question.name, question.organisation) if p) or "une personne qui n'a pas donné son nom"
    return _message(f"Question {question.id} sur l'appel « {call.title} »", ", ".join(call.questions_to),
                    "question", question, [
                        "Bonjour,", "",
                        f"Une question a été posée le {french_datetime(question.asked_at.astimezone(call.opens.tzinfo))}"
                        f" sur la page de l'appel « {call.title} », par {who} ({question.email}) :", "",
                        *[f"> {line}" for line in question.text.splitlines()], "",
                        "Par égalité de traitement, répondez publiquement : ajoutez la question (reformulée, sans "
                        "nommer son auteur) et sa réponse à l'appel, dans « Questions et réponses publiques », avec "
                        f"l'identifiant {question.id}. Une fois la réponse publiée, la personne la reçoit par "
                        "courriel.",
                        f"Page de l'appel : {urls.call_url(config['SITE_URL'], call.slug)}"], config)


def acknowledgement(call: Call, question: AskedQuestion, config: Mapping) -> EmailMessage:
    return _message(f"Votre question sur l'appel « {call.title} » ({question.id})", question.email,
                    "question-ack", question, [
                        "Bonjour,", "",
                        f"Votre question sur l'appel « {call.title} » est transmise à l'organisateur sous la "
                        f"référence {question.id} :", "", *[f"> {line}" for line in question.text.splitlines()], "",
                        "Les réponses sont publiées sur la page de l'appel, pour toutes et tous, sans le nom de qui "
                        "a posé la question. Vous recevrez la réponse par courriel dès sa publication.",
                        f"Page de l'appel : {urls.call_url(config['SITE_URL'], call.slug)}"], config)


def answer_message(call: Call, question: AskedQuestion, published, config: Mapping) -> EmailMessage:
    """The answer published on the call's page, to whoever asked (once)."""
    return _message(f"Réponse à votre question sur l'appel « {call.title} » ({question.id})", question.email,
                    "question-answer", question, [
                        "Bonjour,", "",
                        f"La réponse à votre question {question.id} est publiée sur la page de l'appel "
                        f"« {call.title} » :", "", f"Question : {published.question}", f"Réponse : {published.answer}",
                        "", f"Page de l'appel : {urls.call_url(config['SITE_URL'], call.slug)}#questions"], config)


def mail_answers(storage: Storage, calls: Iterable[Call], config: Mapping, deliver: Callable, *,
                 now: dt.datetime) -> int:
    """Mail each asker the published answer to their question, once; the count mailed."""
    sent = 0
    for call in calls:
        for published in call.questions:
            if not published.id:
                continue
            question = load(storage, call.slug, published.id)
            if question is None or not claim_answer_mail(storage, call.slug, published.id, now):
                continue
            try:
                deliver(answer_message(call, question, published, config), f"answer-{call.slug}-{published.id}")
            except MailRejected as exc:  # this address is refused for good; the others still go
                log.warning("formservice: answer to %s refused by the mail server: %s", published.id, exc)
                continue
            sent += 1
    return sent
