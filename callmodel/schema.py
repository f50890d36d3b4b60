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

# How often a partner receives answers while a call is open (`submission.digest`).
DIGESTS = {"daily": "Chaque jour", "weekly": "Chaque semaine"}

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

FIELD_TYPES = {
    "text": "Texte court",
    "textarea": "Texte long",
    "email": "Adresse électronique (celle de l'accusé de réception)",
    "tel": "Téléphone",
    "url": "Adresse web",
    "number": "Nombre",
    "date": "Date",
    "select": "Liste de choix (un seul)",
    "multiselect": "Liste de choix (plusieurs)",
    "checkbox": "Case à cocher",
    "siret": "Numéro SIRET",
    "file": "Fichier joint",
}
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000, "email": 254, "tel": 20, "url": 500, "siret": 17}
# A number field without bounds takes a whole or decimal number in this range (a count, an amount).
NUMBER_MIN, NUMBER_MAX = 0, 999_999_999_999


# What a key holds, as a phrase for the validator's messages. The editor (generator.editor) gives
# each kind its widget: a key added to a table below reaches the validator and the editor at once.
KINDS = {
    "text": "un texte",
    "long text": "un texte",
    "markdown": "un texte en Markdown",
    "call type": "un type d'appel",
    "partner": "une clé de content/partners.yaml",
    "themes": "une liste de clés de content/themes.yaml",
    "audiences": "une liste de publics",
    "date": "une date AAAA-MM-JJ",
    "date-time": "une date et une heure AAAA-MM-JJTHH:MM",
    "time zone": "un fuseau horaire, par exemple Europe/Paris",
    "submission": "la façon de répondre",
    "form": "un formulaire de content/forms/",
    "fields": "une liste de champs",
    "field type": "un type de champ",
    "e-mail addresses": "une liste d'adresses électroniques",
    "https URL": "une adresse https://",
    "URL": "une adresse http:// ou https://",
    "digest": "daily ou weekly",
    "entries": "une liste",
    "file": "un nom de fichier",
    "identifier": "un nom en minuscules, chiffres et _",
    "boolean": "true ou false",
    "whole number": "un nombre entier",
    "number": "un nombre",
    "texts": "une liste de textes",
    "file formats": "une liste d'extensions de fichier",
    "question id": "un identifiant de question, par exemple Q-7K3QXM",
}


@dataclass(frozen=True)
class Key:
    """One key of a YAML mapping: whether it is required, what it holds (a KINDS key), its French
    label and help as staff read them, its upper bound (characters of a text, size of a number),
    and the keys of its entries when it holds mappings."""

    name: str
    required: bool
    kind: str
    label: str
    hint: str = ""
    limit: int | float | None = None
    items: dict | None = None


def keys(*table: Key) -> dict[str, Key]:
    return {k.name: k for k in table}


FIELD_KEYS = keys(
    Key("name", True, "identifier", "Nom technique",
        "Minuscules, chiffres et _ (par exemple raison_sociale) : le nom de la colonne dans l'export."),
    Key("label", True, "text", "Libellé", "La question, telle que le candidat la lit."),
    Key("type", True, "field type", "Type de champ"),
    Key("required", False, "boolean", "Obligatoire"),
    Key("help", False, "text", "Aide", "Une précision affichée sous le libellé."),
    Key("max_length", False, "whole number", "Longueur maximale", "En caractères, pour un texte."),
    Key("choices", False, "texts", "Choix", "Pour une liste de choix : une proposition par ligne."),
    Key("accept", False, "file formats", "Formats acceptés", "Pour un fichier joint."),
    Key("max_size_mb", False, "number", "Taille maximale (Mo)", "Pour un fichier joint.", limit=MAX_SIZE_MB_LIMIT),
    Key("min", False, "number", "Valeur minimale",
        f"Pour un nombre ; {NUMBER_MIN} si rien n'est indiqué (0 : pas de nombre négatif)."),
    Key("max", False, "number", "Valeur maximale",
        "Pour un nombre ; 999 999 999 999 si rien n'est indiqué."),
    Key("step", False, "number", "Pas", "Pour un nombre : 1 pour un nombre entier, 0.5 pour des demis."),
)
SUBMISSION_KEYS = keys(
    Key("form", False, "form", "Formulaire de réponse",
        "Un formulaire commun : entreprise pour les entreprises et laboratoires, citoyen pour une consultation."),
    Key("fields", False, "fields", "Formulaire propre à l'appel",
        "Seulement si aucun formulaire commun ne convient (à la place du formulaire de réponse).",
        items=FIELD_KEYS),
    Key("exports_to", False, "e-mail addresses", "Destinataires des réponses",
        "Les adresses électroniques qui reçoivent les réponses à la clôture (jamais publiées)."),
    Key("questions_to", False, "e-mail addresses", "Destinataires des questions",
        "Qui reçoit les questions posées sur la page de l'appel (jamais publiées) ; vide : les "
        "destinataires des réponses."),
    Key("external_url", False, "https URL", "Lien vers la plateforme des marchés publics",
        "Pour une procédure de marché public : les réponses se déposent sur cette plateforme "
        "(laissez alors vides le formulaire et les destinataires)."),
    Key("digest", False, "digest", "Envoi des réponses pendant l'ouverture",
        "Vide : les réponses restent scellées jusqu'à la clôture (égalité de traitement)."),
)
DOCUMENT_KEYS = keys(
    Key("title", True, "text", "Titre du document", "Tel qu'il s'affiche sur la page, par exemple Cahier des charges."),
    Key("file", True, "file", "Fichier", "PDF ou ODT de préférence ; il est déposé dans le dossier de l'appel."),
)
QUESTION_KEYS = keys(
    Key("id", False, "question id", "Identifiant de la question reçue",
        "Celui du courriel de la question (Q-7K3QXM) : la personne qui l'a posée reçoit la réponse "
        "publiée. Vide pour une réponse sans question reçue par la plateforme."),
    Key("date", True, "date", "Date de la réponse"),
    Key("question", True, "long text", "Question", "Reformulée, sans nommer son auteur."),
    Key("answer", True, "long text", "Réponse", "La même pour tous les candidats."),
)
AMENDMENT_KEYS = keys(
    Key("date", True, "date", "Date"),
    Key("summary", True, "long text", "Ce qui change",
        "Par exemple : Date limite repoussée au 31 janvier 2027 à 12 h 00."),
)
CALL_KEYS = keys(
    Key("title", True, "text", "Titre", f"Le titre de la page, {TITLE_MAX} caractères au plus.", limit=TITLE_MAX),
    Key("type", True, "call type", "Type d'appel"),
    Key("partner", True, "partner", "Partenaire", "L'organisation qui porte l'appel."),
    Key("summary", True, "long text", "Résumé",
        f"Une phrase qui dit ce qui est recherché, {SUMMARY_MAX} caractères au plus : "
        "elle s'affiche dans les listes et les résultats de recherche.", limit=SUMMARY_MAX),
    Key("themes", False, "themes", "Thèmes"),
    Key("published", True, "date", "Date de publication"),
    Key("opens", False, "date-time", "Ouverture des réponses",
        "Heure du fuseau de l'appel (Paris par défaut). Vide : le jour de publication à 0 h."),
    Key("closes", False, "date-time", "Date limite de réponse",
        "Heure du fuseau de l'appel ; l'heure de réception fait foi. Obligatoire, sauf pour un avis "
        "d'information. Pour clore plus tôt, avancez cette date et ajoutez une note de modification."),
    Key("questions_until", False, "date-time", "Date limite des questions",
        "Facultative ; avant la date limite de réponse."),
    Key("timezone", False, "time zone", "Fuseau horaire des dates"),
    Key("audiences", False, "audiences", "Publics visés"),
    Key("budget", False, "text", "Budget", "Facultatif, en clair : Jusqu'à 50 000 € HT par lauréat."),
    Key("submission", False, "submission", "Comment répondre",
        "Un formulaire de la plateforme et ses destinataires, ou le lien de la plateforme des marchés "
        "publics. Rien pour un avis d'information.", items=SUBMISSION_KEYS),
    Key("documents", False, "entries", "Documents", items=DOCUMENT_KEYS),
    Key("questions", False, "entries", "Questions et réponses publiques",
        "Les réponses aux questions reçues, publiées pour tous.", items=QUESTION_KEYS),
    Key("amendments", False, "entries", "Notes de modification",
        "Toute modification qui compte pour les candidats (date, critères, pièces), datée ; "
        "les notes s'ajoutent sans effacer les précédentes.", items=AMENDMENT_KEYS),
)
# The Markdown text after the front matter: not a key of the YAML, but a part of every call.
BODY = Key("body", True, "markdown", "Texte de l'appel",
           "Contexte, ce qui est recherché, éligibilité, critères de sélection, calendrier : "
           "une partie par titre ##.")
FORM_KEYS = keys(
    Key("title", False, "text", "Titre du formulaire"),
    Key("fields", True, "fields", "Champs", items=FIELD_KEYS),
)
PARTNER_KEYS = keys(
    Key("name", True, "text", "Nom"), Key("url", False, "URL", "Site web"),
    Key("description", False, "long text", "Description"), Key("logo", False, "file", "Logo"))

# Written by `calls new` and the editor where staff must write their own text; `calls check` refuses
# a call that still holds one, so that a skeleton never goes live.
PLACEHOLDER = "À compléter"
# The parts of a call's text, each with what to write there: the skeleton of a new call.
BODY_SECTIONS = {
    "Contexte": "présentez l'organisation qui lance l'appel et le besoin de départ.",
    "Ce qui est recherché": "décrivez les solutions, projets ou avis attendus, le plus concrètement possible.",
    "Éligibilité": "dites qui peut répondre (type de structure, taille, territoire) et à quelles conditions.",
    "Critères de sélection": "listez les critères et leur poids, dans l'ordre où ils seront appliqués.",
    "Calendrier": "donnez les dates clés : ouverture, questions, date limite, auditions, résultats.",
}


def body_skeleton(**written: str) -> str:
    """The text of a new call: a ## heading per part, and the text to write in each (or `written[part]`)."""
    return "\n\n".join(f"## {section}\n\n{written.get(section) or f'[{PLACEHOLDER} : {hint}]'}"
                       for section, hint in BODY_SECTIONS.items()) + "\n"


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
    id: str = ""  # the question received through the platform this answers (formservice.questions)


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
    questions_to: tuple[str, ...] = ()

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

    def with_history(self, history: CallHistory) -> Call:
        """The same call with its public history and the version it names: its fields copied as they
        were checked when it was read (dataclasses.replace would check all of them again, 10,000
        times in a build)."""
        copy = object.__new__(Call)
        copy.__dict__.update(self.__dict__, history=history, version=history.version)
        return copy

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
    def questions_to(self) -> tuple[str, ...]:
        """Who receives the questions asked on the call's page (by default, who receives answers)."""
        return (self.submission.questions_to or self.submission.exports_to) if self.submission else ()

    def questions_open(self, now: dt.datetime) -> bool:
        """Questions are asked while the call is open, until `questions_until` (else its deadline),
        of a call whose organiser can receive them."""
        until = self.questions_until or self.closes
        return bool(self.questions_to) and self.status(now) == "open" and (until is None or now < until)

    @property
    def external_url(self) -> str:
        return self.submission.external_url if self.submission else ""

    @property
    def digest(self) -> str:
        return self.submission.digest if self.submission else ""

    def status(self, now: dt.datetime) -> str:
        """upcoming, open or closed at `now` (callmodel.status, the one rule)."""
        return status_rule.status(self.opens, self.closes, now)
