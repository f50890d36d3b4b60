"""`api/calls.json`, the catalogue the form service and other systems read: its one codec.

`to_record` writes a Call as the build publishes it; `from_record` reads it back as the form
service sees it (the text of the call, its folder and source file stay with the site). The file's
shape is fixed by `calls.schema.json` beside this module, published with the site as
`api/calls.schema.json`; a test validates every build's output against it.

Who receives a call's answers (`exports_to`) is never published: the build writes it to a private
file beside the site (`recipients_json`), which only the form service reads (`read_catalogue`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import posixpath

from . import urls
from .schema import (CALL_TYPES, Amendment, Call, CallHistory, Change, Document, FormField, HistoryEntry,
                     Question, SubmissionSpec)

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.schema.json")


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@functools.lru_cache(maxsize=None)
def fields_data(fields: tuple[FormField, ...]) -> list[dict]:
    """A form's fields as JSON data, converted once per form (most calls share a few forms)."""
    return [f.to_dict() for f in fields]


def history_data(history: CallHistory | None) -> list[dict] | None:
    if history is None or not history.available:
        return None
    return [{"date": e.date.isoformat(), "commit": e.commit, "short": e.short, "publication": e.publication,
             "changes": list(e.changes), "changed": [c.to_dict() for c in e.changed]} for e in history.entries]


def to_record(call: Call, *, site: str, forms: str, now: dt.datetime) -> dict:
    """One call in `api/calls.json`. `version` is the last commit that touched the call (the
    version a receipt names); it and `history` are null when the build has no git history."""
    record = {
        "slug": call.slug,
        "title": call.title,
        "type": call.type,
        "type_label": CALL_TYPES[call.type].label,
        "partner": call.partner,
        "partner_name": call.partner_name,
        "summary": call.summary,
        "themes": list(call.themes),
        "audiences": list(call.audiences),
        "status": call.status(now),
        "published": iso(call.published),
        "opens": iso(call.opens),
        "closes": iso(call.closes),
        "questions_until": iso(call.questions_until),
        "timezone": call.timezone,
        "budget": call.budget or None,
        "url": urls.call_url(site, call.slug),
        "submit_url": None,
        "external_url": None,
        "form": None,
        "fields": [],
        "digest": None,
        "documents": [{"title": d.title, "url": urls.call_url(site, call.slug) + d.file, "format": d.format,
                       "size": d.size} for d in call.documents],
        "questions": [{"id": q.id or None, "date": iso(q.date), "question": q.question, "answer": q.answer}
                      for q in call.questions],
        "amendments": [{"date": iso(a.date), "summary": a.summary} for a in call.amendments],
        "version": call.version,
        "history": history_data(call.history),
    }
    sub = call.submission
    if sub and sub.is_external:
        record["external_url"] = sub.external_url
    elif sub:
        record.update(submit_url=urls.answer_url(forms, call.slug), form=sub.form or None,
                      fields=fields_data(sub.fields), digest=sub.digest or None)
    return record


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def record_json(call: Call, *, site: str, forms: str, now: dt.datetime) -> str:
    """One call's record as it stands in the file (a build keeps it while the call and its status stay)."""
    return _json(to_record(call, site=site, forms=forms, now=now))


def catalogue_json(calls, *, site: str, forms: str, now: dt.datetime, build: dict, themes: dict | None = None,
                   partners: dict | None = None, records=None) -> str:
    """The whole file: when it was generated, from which commit, the labels of the theme and
    partner keys the calls use, and every call (`records`: their record_json texts, when the caller
    already has them)."""
    calls = list(calls)
    if records is None:
        records = [record_json(c, site=site, forms=forms, now=now) for c in calls]
    partners = partners if partners is not None else {c.partner: c.partner_name for c in calls}
    return (f'{{"generated":{_json(iso(now))},"build":{_json(build)},"themes":{_json(themes or {})},'
            f'"partners":{_json(partners)},"calls":[{",".join(records)}]}}')


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def recipients_json(calls, *, build: dict) -> str:
    """The private part of the catalogue: who receives each call's answers (compact: written at
    every build, and JSON's C encoder only writes it so)."""
    return _json({"build": build, "calls": {
        c.slug: {"exports_to": list(c.exports_to), "questions_to": list(c.submission.questions_to)}
        for c in calls if c.exports_to or (c.submission and c.submission.questions_to)}})


def from_record(record: dict, private: dict | None = None) -> Call:
    """A Call as `to_record` wrote it, with its private part from `recipients_json` if given
    (KeyError or ValueError if the record is not one)."""
    fields = tuple(FormField.from_dict(f) for f in record.get("fields") or ())
    if record.get("external_url"):
        submission = SubmissionSpec(external_url=record["external_url"])
    elif record.get("submit_url"):
        submission = SubmissionSpec(form=record.get("form") or "", fields=fields,
                                    exports_to=tuple((private or {}).get("exports_to") or ()),
                                    questions_to=tuple((private or {}).get("questions_to") or ()),
                                    digest=record.get("digest") or "")
    else:
        submission = None
    history = record.get("history")
    return Call(
        slug=record["slug"], title=record["title"], type=record["type"], partner=record["partner"],
        partner_name=record.get("partner_name") or record["partner"], summary=record.get("summary") or "",
        published=dt.date.fromisoformat(record["published"]), opens=_moment(record["opens"]),
        closes=_moment(record.get("closes")), timezone=record["timezone"],
        themes=tuple(record.get("themes") or ()), audiences=tuple(record.get("audiences") or ()),
        questions_until=_moment(record.get("questions_until")), budget=record.get("budget") or "",
        submission=submission,
        documents=tuple(Document(d["title"], posixpath.basename(d["url"]), d["size"], d["format"])
                        for d in record.get("documents") or ()),
        questions=tuple(Question(dt.date.fromisoformat(q["date"]), q["question"], q["answer"], q.get("id") or "")
                        for q in record.get("questions") or ()),
        amendments=tuple(Amendment(dt.date.fromisoformat(a["date"]), a["summary"])
                         for a in record.get("amendments") or ()),
        history=CallHistory(available=False) if history is None else CallHistory(True, tuple(
            HistoryEntry(dt.datetime.fromisoformat(e["date"]), e["commit"], tuple(e["changes"]),
                         tuple(Change(**c) for c in e.get("changed") or ()), e["publication"])
            for e in history)),
        version=record.get("version"))


def read_catalogue(text: str, recipients: str | None = None) -> tuple[dict[str, Call], dict]:
    """The calls of an `api/calls.json` text by slug (with their recipients from the private file's
    text, if given), and the rest of the file: build, themes and partners."""
    data = json.loads(text)
    private = json.loads(recipients)["calls"] if recipients else {}
    calls = (from_record(record, private.get(record["slug"])) for record in data.pop("calls"))
    data.setdefault("build", {})
    return {c.slug: c for c in calls}, data
