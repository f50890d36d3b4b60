"""The one definition of a call and of a form field, shared by the generator and the form service.

A new call key, field type or audience is added here and nowhere else: the validator, the
templates, `api/calls.json` (callmodel.record) and the form service all read these tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import status as status_rule
from .dates import DEFAULT_TIMEZONE

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

SUMMARY_MAX = 300
TITLE_MAX = 200


@dataclass(frozen=True)
class CallType:
    key: str
    label: str
    plural: str
    answerable: bool
    description: str


CALL_TYPES = {
    t.key: t
    for t in (
        CallType("ami", "Appel à manifestation d'intérêt", "Appels à manifestation d'intérêt", True,
                 "Les acheteurs sondent les entreprises et les laboratoires sur un besoin."),
        CallType("appel-a-solutions", "Appel à solutions", "Appels à solutions", True,
                 "Un besoin précis, des solutions à proposer et à expérimenter."),
        CallType("appel-a-projets", "Appel à projets", "Appels à projets", True,
                 "Des projets à soutenir : entreprises, associations, laboratoires."),
        CallType("challenge", "Challenge", "Challenges", True,
                 "Des équipes relèvent un défi en un temps donné."),
        CallType("concours", "Concours", "Concours", True,
                 "Un concours, parfois une procédure de marché public."),
        CallType("avis-information", "Avis d'information", "Avis d'information", False,
                 "Une information, sans réponse attendue."),
        CallType("consultation", "Consultation citoyenne", "Consultations citoyennes", True,
                 "Les habitants donnent leur avis."),
    )
}

AUDIENCES = {
    "citoyen": "Citoyens",
    "association": "Associations",
    "startup": "Startups",
    "pme": "PME",
    "eti": "ETI",
    "grand-groupe": "Grands groupes",
    "laboratoire": "Laboratoires",
    "collectivite": "Collectivités",
}

STATUSES = {
    "open": "Ouvert",
    "upcoming": "À venir",
    "closed": "Clos",
}

DIGESTS = ("daily", "weekly")

# Accepted attachment formats: extension -> (label, media type). Upload checks in the form
# service look at the content, the extension only chooses which signature is expected.
FILE_FORMATS = {
    "pdf": ("PDF", "application/pdf"),
    "odt": ("OpenDocument texte", "application/vnd.oasis.opendocument.text"),
    "ods": ("OpenDocument tableur", "application/vnd.oasis.opendocument.spreadsheet"),
    "odp": ("OpenDocument présentation", "application/vnd.oasis.opendocument.presentation"),
    "docx": ("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("PowerPoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "png": ("PNG", "image/png"),
    "jpg": ("JPEG", "image/jpeg"),
}
MB = 1024 * 1024
DEFAULT_ACCEPT = ("pdf", "odt", "docx")
DEFAULT_MAX_SIZE_MB = 10
MAX_SIZE_MB_LIMIT = 50

FIELD_TYPES = (
    "text", "textarea", "email", "tel", "url", "number", "date",
    "select", "multiselect", "checkbox", "siret", "file",
)
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000, "email": 254, "tel": 20, "url": 500, "siret": 17}
# A number field without bounds takes a whole or decimal number in this range (a count, an amount).
NUMBER_MIN, NUMBER_MAX = 0, 999_999_999_999


@dataclass(frozen=True)
class Key:
    """One key of a YAML mapping: whether it is required and what it holds (for messages)."""

    name: str
    required: bool
    kind: str


CALL_KEYS = {k.name: k for k in (
    Key("title", True, "text"),
    Key("type", True, "type key"),
    Key("partner", True, "partner key"),
    Key("summary", True, "text"),
    Key("themes", False, "list of theme keys"),
    Key("published", True, "date"),
    Key("opens", False, "date-time"),
    Key("closes", False, "date-time"),
    Key("questions_until", False, "date-time"),
    Key("timezone", False, "IANA time zone"),
    Key("audiences", False, "list of audience keys"),
    Key("budget", False, "text"),
    Key("submission", False, "mapping"),
    Key("documents", False, "list"),
    Key("questions", False, "list"),
    Key("amendments", False, "list"),
)}
SUBMISSION_KEYS = {k.name: k for k in (
    Key("form", False, "form name"),
    Key("fields", False, "list of fields"),
    Key("exports_to", False, "list of e-mail addresses"),
    Key("external_url", False, "https URL"),
    Key("digest", False, "daily or weekly"),
)}
DOCUMENT_KEYS = {k.name: k for k in (Key("title", True, "text"), Key("file", True, "file name"))}
QUESTION_KEYS = {k.name: k for k in (
    Key("date", True, "date"), Key("question", True, "text"), Key("answer", True, "text"))}
AMENDMENT_KEYS = {k.name: k for k in (Key("date", True, "date"), Key("summary", True, "text"))}
FORM_KEYS = {k.name: k for k in (Key("title", False, "text"), Key("fields", True, "list of fields"))}
FIELD_KEYS = {k.name: k for k in (
    Key("name", True, "identifier"),
    Key("label", True, "text"),
    Key("type", True, "field type"),
    Key("required", False, "true or false"),
    Key("help", False, "text"),
    Key("max_length", False, "number"),
    Key("choices", False, "list of texts"),
    Key("accept", False, "list of file extensions"),
    Key("max_size_mb", False, "number"),
    Key("min", False, "number"),
    Key("max", False, "number"),
    Key("step", False, "number"),
)}
PARTNER_KEYS = {k.name: k for k in (
    Key("name", True, "text"), Key("url", False, "URL"),
    Key("description", False, "text"), Key("logo", False, "file name"))}


@dataclass(frozen=True)
class FormField:
    """One field of an answer form, as written in a form definition and in `api/calls.json`."""

    name: str
    label: str
    type: str
    required: bool = False
    help: str = ""
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    max_size_mb: float | None = None
    min: int | float | None = None
    max: int | float | None = None
    step: int | float | None = None

    @property
    def limit(self) -> int | None:
        """The maximum length actually enforced for text-like fields."""
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.type)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["choices"] = list(self.choices)
        data["accept"] = list(self.accept)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "FormField":
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["choices"] = tuple(values.get("choices") or ())
        values["accept"] = tuple(values.get("accept") or ())
        return cls(**values)


@dataclass(frozen=True)
class Partner:
    key: str
    name: str
    url: str = ""
    description: str = ""
    logo: str = ""


@dataclass(frozen=True)
class Document:
    """A document of the call, a file published in the call's folder."""

    title: str
    file: str
    size: int
    format: str

    @property
    def format_label(self) -> str:
        ext = self.format.lower()
        return FILE_FORMATS[ext][0] if ext in FILE_FORMATS else ext.upper()


@dataclass(frozen=True)
class Question:
    date: dt.date
    question: str
    answer: str


@dataclass(frozen=True)
class Amendment:
    date: dt.date
    summary: str


@dataclass(frozen=True)
class SubmissionSpec:
    """How a call is answered (its `submission:` key): our form (fields + exports_to) or an
    external tender platform."""

    form: str = ""
    fields: tuple[FormField, ...] = ()
    exports_to: tuple[str, ...] = ()
    external_url: str = ""
    digest: str = ""

    @property
    def is_external(self) -> bool:
        return bool(self.external_url)


@dataclass(frozen=True)
class Change:
    """One field changed by a version of a call: what a program reads beside the French sentence.

    Dates and date-times are ISO 8601 (with their offset); lists are lists of keys; `old` and
    `new` are None for the text of the call and the form's fields (too long, or not public)."""

    field: str
    old: object = None
    new: object = None

    def to_dict(self) -> dict:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class HistoryEntry:
    """One published version of a call (a commit that changed its folder), as the public reads it."""

    date: dt.datetime
    commit: str
    changes: tuple[str, ...]
    changed: tuple[Change, ...] = ()
    publication: bool = False

    @property
    def short(self) -> str:
        return self.commit[:10]


@dataclass(frozen=True)
class CallHistory:
    """A call's entries, oldest first; `available` is false when the build had no git history."""

    available: bool
    entries: tuple[HistoryEntry, ...] = ()

    @property
    def version(self) -> str | None:
        """The last commit that touched the call's folder: the version a receipt names."""
        return self.entries[-1].commit if self.entries else None

    @property
    def amendments(self) -> tuple[HistoryEntry, ...]:
        return tuple(e for e in self.entries if not e.publication)


@dataclass(frozen=True)
class Call:
    """A published call. Its status is derived from its dates and a clock, never stored.

    The generator builds it from `calls/<slug>/call.md` (with `body`, `folder` and `source`); the
    form service from `api/calls.json` (callmodel.record), where those three are empty."""

    slug: str
    title: str
    type: str
    partner: str
    summary: str
    published: dt.date
    opens: dt.datetime
    closes: dt.datetime | None
    timezone: str = DEFAULT_TIMEZONE
    partner_name: str = ""
    themes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    questions_until: dt.datetime | None = None
    budget: str = ""
    submission: SubmissionSpec | None = None
    documents: tuple[Document, ...] = ()
    questions: tuple[Question, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    history: CallHistory | None = None
    version: str | None = None
    body: str = ""
    folder: str = ""
    source: str = ""

    def __post_init__(self):
        """Its instants are shown in its own time zone, whatever offset they were given with."""
        tz = ZoneInfo(self.timezone)
        for name in ("opens", "closes", "questions_until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is not tz:
                object.__setattr__(self, name, moment.astimezone(tz))

    @property
    def type_info(self) -> CallType:
        return CALL_TYPES[self.type]

    @property
    def answerable(self) -> bool:
        """Whether answers are expected at all (an information notice expects none)."""
        return self.type_info.answerable and self.submission is not None

    @property
    def answered_here(self) -> bool:
        """Answered with our form (not on a tender platform, not an information notice)."""
        return self.answerable and not self.submission.is_external and bool(self.submission.fields)

    @property
    def fields(self) -> tuple[FormField, ...]:
        return self.submission.fields if self.submission else ()

    @property
    def email_field(self) -> FormField | None:
        return next((f for f in self.fields if f.type == "email"), None)

    @property
    def exports_to(self) -> tuple[str, ...]:
        return self.submission.exports_to if self.submission else ()

    @property
    def external_url(self) -> str:
        return self.submission.external_url if self.submission else ""

    @property
    def digest(self) -> str:
        return self.submission.digest if self.submission else ""

    def status(self, now: dt.datetime) -> str:
        """upcoming, open or closed at `now` (callmodel.status, the one rule)."""
        return status_rule.status(self.opens, self.closes, now)
