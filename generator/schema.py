"""The one definition of a call and of a form field, shared by the generator and the form service.

A new call key, field type or audience is added here and nowhere else: the validator, the
templates, `api/calls.json` and the form service all read these tables.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")

SUMMARY_MAX = 300
DEFAULT_TIMEZONE = "Europe/Paris"


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
DEFAULT_ACCEPT = ("pdf", "odt", "docx")
DEFAULT_MAX_SIZE_MB = 10
MAX_SIZE_MB_LIMIT = 50

FIELD_TYPES = (
    "text", "textarea", "email", "tel", "url", "number", "date",
    "select", "multiselect", "checkbox", "siret", "file",
)
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000, "email": 254, "tel": 20, "url": 500, "siret": 17}


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
    date: object
    question: str
    answer: str


@dataclass(frozen=True)
class Amendment:
    date: object
    summary: str


@dataclass(frozen=True)
class Submission:
    """How a call is answered: our form (fields + exports_to) or an external tender platform."""

    form: str = ""
    fields: tuple[FormField, ...] = ()
    exports_to: tuple[str, ...] = ()
    external_url: str = ""
    digest: str = ""

    @property
    def is_external(self) -> bool:
        return bool(self.external_url)

    @property
    def email_field(self) -> FormField:
        return next(f for f in self.fields if f.type == "email")


@dataclass
class Call:
    """A validated call. Status is derived from the dates and a clock, never stored."""

    slug: str
    source: str
    title: str
    type: str
    partner: str
    summary: str
    published: object
    opens: object
    closes: object | None
    timezone: str
    themes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    questions_until: object | None = None
    budget: str = ""
    submission: Submission | None = None
    documents: tuple[Document, ...] = ()
    questions: tuple[Question, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    body: str = ""
    folder: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def type_info(self) -> CallType:
        return CALL_TYPES[self.type]

    @property
    def answerable(self) -> bool:
        """Whether answers are expected at all (an information notice expects none)."""
        return self.type_info.answerable and self.submission is not None

    def status(self, now) -> str:
        """upcoming before `opens`, open until `closes` (an information notice without a
        deadline stays open), closed after."""
        if now < self.opens:
            return "upcoming"
        if self.closes is None or now < self.closes:
            return "open"
        return "closed"
