"""The page where anyone asks a call's organiser a question (`/appels/<slug>/question`), while the
call is open and until its `questions_until` (the service's clock). The question is stored, mailed
to the organiser (`questions_to`, else `exports_to`) and acknowledged on screen and by mail; the
answer is published for everybody in the call file (formservice.questions)."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, render_template, request

from callmodel import urls
from callmodel.schema import Call, FormField

from . import questions, tokens
from .attempt import FORM_TOKEN, HONEYPOT
from .pages import notice, now
from .services import services
from .storage import StorageUnavailable
from .validation import Invalid, check_field, shown_value
from .views import deliver, within_rate

log = logging.getLogger(__name__)

question_pages = Blueprint("questions", __name__)

FIELDS = (
    FormField("question", "Votre question", "textarea", True, max_length=2000,
              help="Elle sera transmise à l'organisateur ; la réponse est publiée sur la page de l'appel, pour toutes "
                   "et tous."),
    FormField("nom", "Votre nom (facultatif)", "text", max_length=120),
    FormField("organisation", "Votre organisation (facultatif)", "text", max_length=160),
    FormField("courriel", "Votre adresse électronique", "email", True,
              help="Pour vous envoyer la réponse dès sa publication ; elle n'est jamais publiée."),
    FormField("consentement", "J'accepte que ma question soit transmise à l'organisateur puis publiée avec sa "
                              "réponse, sans mon nom ni mon adresse", "checkbox", True),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(question_pages)


def page(call: Call, *, values=None, errors=None, form_token: str = "", status: int = 200, notice_kind: str = ""):
    labels = {f.name: f.label for f in FIELDS}
    errors = errors or {}
    return render_template("question.html", call=call, fields=FIELDS, values=values or {}, errors=errors,
                           error_list=[(n, labels[n], m) for n, m in errors.items()], notice=notice_kind,
                           form_token=form_token or tokens.new_form_token(current_app.config["SECRET_KEY"]),
                           names={"form_token": FORM_TOKEN, "honeypot": HONEYPOT}), status


@question_pages.route("/" + urls.QUESTION.format(slug="<slug>"), methods=["GET", "POST"])
def ask(slug):
    call = services().catalogue.get(slug)
    if call is None:
        return notice("unknown", 404)
    moment = now()
    if not call.questions_open(moment):
        return notice("questions_closed", 200 if request.method == "GET" else 403, call=call)
    if request.method == "GET":
        return page(call)
    form, secret = request.form, current_app.config["SECRET_KEY"]
    values = {f.name: shown_value(f, form) for f in FIELDS}
    if form.get(HONEYPOT):
        return notice("refused", 400, call=call)
    try:
        digest = tokens.submission_id(secret, f"{slug}/question", form.get(FORM_TOKEN) or "")
    except tokens.BadFormToken:
        return page(call, values=values, status=400, notice_kind="expired")
    answers, errors = {}, {}
    for field in FIELDS:
        try:
            answers[field.name] = check_field(field, form)
        except Invalid as exc:
            errors[field.name] = str(exc)
            if exc.cleaned is not None:
                values[field.name] = exc.cleaned
    if errors:
        return page(call, values=values, errors=errors, form_token=form.get(FORM_TOKEN), status=422)
    question = questions.AskedQuestion(
        id=questions.question_id(digest), slug=slug, asked_at=moment, text=answers["question"],
        email=answers["courriel"], name=answers["nom"] or "", organisation=answers["organisation"] or "")
    storage = services().storage
    try:
        if not within_rate(f"question-{question.id}", moment):
            return notice("rate_limited", 429, call=call)
        try:
            questions.store(storage, question)
        except FileExistsError:
            earlier = questions.load(storage, slug, question.id)
            if earlier is None or (earlier.text, earlier.email) != (question.text, question.email):
                return page(call, values=values, status=409, notice_kind="reused")
            question = earlier  # the same form sent twice: acknowledged once
        else:
            config = current_app.config
            deliver(questions.organiser_message(call, question, config), f"question-{slug}-{question.id}")
            deliver(questions.acknowledgement(call, question, config), f"question-ack-{slug}-{question.id}")
    except StorageUnavailable:
        log.exception("formservice: storage unavailable, question on %s not saved", slug)
        return page(call, values=values, form_token=form.get(FORM_TOKEN), status=503, notice_kind="storage_down")
    return render_template("question_sent.html", call=call, question=question), 200
