"""One showing of an answer form, and reading what it sends back.

The same form serves a first answer, a correction (formservice.lifecycle) and a resumed draft.
Whatever happens, a person never loses what they sent: typed values come back in their fields,
and each file is stored as soon as it is received (formservice.staging) and listed with
"retirer" and a way to replace it, so that only a file that was itself refused is asked for again.
"""

from __future__ import annotations

from flask import current_app, render_template, request, url_for

from callmodel.french import french_number, french_size
from callmodel.schema import Call

from . import staging
from .storage import Storage
from .submission import StoredFile, Submission
from .uploads import FORM_PARTS_MAX, check_upload, received_bytes, total_limit
from .validation import Invalid, check_field, shown_value

FORM_TOKEN = "_form"
HONEYPOT = "_website"
CORRECTION = "_correction"  # which answer and version a correction form corrects
ACTION = "_action"  # "brouillon": save and resume later
DRAFT = "brouillon"
KEEP = "_garder_"  # + field name: the signed reference of a file already received
DROP = "_retirer_"  # + field name: ticked to remove that file
SECOND = "_seconde"  # ticked to send a second answer from a browser that already answered


class Attempt:
    """The call, the values to put back, the files kept, the errors, a notice on top."""

    def __init__(self, call: Call, *, form=None, form_token: str | None = None, values: dict | None = None,
                 kept: dict[str, StoredFile] | None = None, correction: Submission | None = None,
                 correction_token: str = "", action: str = "", previous: dict | None = None):
        self.call = call
        self.values = values if values is not None else (
            {f.name: shown_value(f, form) for f in call.fields if f.type != "file"} if form else {})
        self.form_token = form_token
        self.kept = dict(kept or {})
        self.correction = correction
        self.correction_token = correction_token
        self.action = action or url_for("answers.answer", slug=call.slug)
        self.previous = previous
        self.errors: dict[str, str] = {}
        self.notice = ""
        self.files_lost = False  # files sent that could not be kept (the storage was down)

    def render(self, status: int = 200):
        secret = current_app.config["SECRET_KEY"]
        labels = {f.name: f.label for f in self.call.fields}
        kept = {name: {"file": f, "reference": staging.reference(secret, f)} for name, f in self.kept.items()}
        return render_template(
            "form.html", call=self.call, values=self.values, errors=self.errors, kept=kept,
            error_list=[(n, labels.get(n, ""), m) for n, m in self.errors.items()], notice=self.notice,
            form_token=self.form_token, correction=self.correction, correction_token=self.correction_token,
            action=self.action, previous=self.previous, total_limit=french_size(total_limit()),
            files_lost=self.files_lost,
            has_file_fields=any(f.type == "file" for f in self.call.fields),
            names={"form_token": FORM_TOKEN, "honeypot": HONEYPOT, "correction": CORRECTION, "action": ACTION,
                   "draft": DRAFT, "keep": KEEP, "drop": DROP, "second": SECOND}), status


def read(attempt: Attempt, storage: Storage, answer_id: str) -> tuple[dict, list[StoredFile]]:
    """Check every field of the posted form into `attempt` (its errors, its notice); store each new
    file at once, kept for the next showing. Returns the clean answers and the answer's files."""
    form, config, call = request.form, current_app.config, attempt.call
    secret = config["SECRET_KEY"]
    for field in call.fields:
        if field.type == "file":
            token = form.get(KEEP + field.name)
            kept = staging.resolve(secret, call.slug, answer_id, field.name, token) if token else None
            if kept:
                attempt.kept[field.name] = kept
    file_parts = [f for name in request.files for f in request.files.getlist(name) if f.filename]
    file_fields = {f.name for f in call.fields if f.type == "file"}
    parts = sum(len(values) for _, values in form.lists()) + sum(len(v) for _, v in request.files.lists())
    if parts > FORM_PARTS_MAX:
        attempt.notice = "too_many_parts"
    elif len(file_parts) > config["MAX_FILES"] or any(name not in file_fields for name in request.files):
        attempt.notice = "too_many_files"
    elif received_bytes(file_parts) > total_limit():
        attempt.notice = "too_large"
    answers = {}
    for field in call.fields:
        try:
            if field.type == "file":
                read_file(attempt, storage, answer_id, field)
            else:
                answers[field.name] = check_field(field, form)
        except Invalid as exc:
            attempt.errors[field.name] = str(exc)
            if exc.cleaned is not None:
                attempt.values[field.name] = exc.cleaned
    return answers, [attempt.kept[f.name] for f in call.fields if f.name in attempt.kept]


def read_file(attempt: Attempt, storage: Storage, answer_id: str, field) -> None:
    """A new file replaces the kept one (and is kept in turn); "retirer" drops it."""
    parts = [f for f in request.files.getlist(field.name) if f.filename]
    if len(parts) > 1:
        raise Invalid("Un seul fichier est accepté pour ce champ.")
    if parts and attempt.notice not in ("too_large", "too_many_files", "too_many_parts"):
        upload = check_upload(field, parts[0])
        attempt.kept[field.name] = staging.stage(storage, attempt.call.slug, answer_id, upload)
    elif request.form.get(DROP + field.name) == "oui":
        attempt.kept.pop(field.name, None)
    if field.required and field.name not in attempt.kept and field.name not in attempt.errors:
        raise Invalid("Joignez ce fichier.")


def shown_values(call: Call, record: Submission) -> dict:
    """A stored version's answers as the form shows them, to correct it."""
    values = {}
    for field in call.fields:
        value = record.answers.get(field.name)
        if field.type in ("file",):
            continue
        if field.type in ("checkbox", "multiselect"):
            values[field.name] = value or ([] if field.type == "multiselect" else False)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            values[field.name] = french_number(value).replace("\u202f", " ")
        else:
            values[field.name] = "" if value is None else str(value)
    return values
