"""Read and validate the whole catalogue: registries in `content/`, calls in `calls/`.

Every problem is collected (never only the first) with its file, line and field, so that staff
fix a pull request in one go. Nothing here writes output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlparse

import cmarkgfm
from cmarkgfm.cmark import Options as CmarkOptions

import callmodel
from callmodel import schema
from callmodel.addresses import is_address
from callmodel.dates import DEFAULT_TIMEZONE, DateError, parse_date, parse_datetime, zone
from callmodel.schema import Amendment, Call, Document, FormField, Partner, Question, SubmissionSpec

from . import parallel
from .source import Problem, Source, load_file, relative

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?", re.S | re.M)


@dataclass
class Registries:
    partners: dict[str, Partner] = field(default_factory=dict)
    themes: dict[str, str] = field(default_factory=dict)
    forms: dict[str, tuple[str, tuple[FormField, ...]]] = field(default_factory=dict)


@dataclass
class Catalogue:
    """The calls and registries as read from `calls/` and `content/`, with every problem found."""

    calls: list[Call]
    registries: Registries
    problems: list[Problem]
    content_path: str
    calls_path: str
    # What each call was read from (registries, our code, its folder's files), by slug: a page
    # made from the same key is made again only if something else it shows changed.
    keys: dict[str, bytes] = field(default_factory=dict)
    cache: "ReadCache | None" = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems


class InvalidCatalogue(Exception):
    """The catalogue has errors: the build stops before writing anything. Carries every problem found."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__(f"{errors(len(problems))} dans le catalogue :\n" + "\n".join(map(str, problems)))


def errors(count: int) -> str:
    """« aucune erreur », « 1 erreur », « 3 erreurs »: the summary staff read after a check."""
    return "aucune erreur" if not count else f"{count} erreur{'s' if count > 1 else ''}"


def to_html(text: str) -> str:
    """Markdown (GitHub flavour: tables, autolinks) to HTML with cmark-gfm, a C library 40 times
    faster than Python-Markdown here. Raw HTML in a call's text is dropped, never passed through;
    smart punctuation turns ' into a typographic apostrophe."""
    return cmarkgfm.github_flavored_markdown_to_html(text, options=CmarkOptions.CMARK_OPT_SMART)


def _fold(word) -> str:
    """A key as one compares it: lowercase, without accents, - for _ and spaces."""
    text = unicodedata.normalize("NFKD", str(word).strip().lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[_\s]+", "-", text)


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from a to b: Damerau-Levenshtein (OSA)."""
    previous2, previous = None, list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if previous2 is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def close_match(word, choices) -> str | None:
    """The one choice `word` is a slip of: a typo or two (fewer for a short word), a case or accent
    difference, or the choice cut short at a hyphen. None when that is not clear: a wrong
    suggestion ("mairie-de-rivebelle" -> "eau-rivebelle") misleads more than none."""
    folded = _fold(word)
    if not folded:
        return None
    allowed = 1 if len(folded) <= 4 else 2 if len(folded) <= 10 else 3
    scored = sorted((_distance(folded, _fold(c)), str(c)) for c in choices)
    close = [c for d, c in scored if d <= allowed and d == scored[0][0]]
    if len(close) == 1:
        return close[0]
    prefixed = [str(c) for c in choices if _fold(c).startswith(folded + "-") or folded.startswith(_fold(c) + "-")]
    return prefixed[0] if len(prefixed) == 1 else None


def suggest(word, choices) -> str:
    close = close_match(word, choices)
    return f" (vouliez-vous dire « {close} » ?)" if close else ""


# What an unknown value is, said in French: singular and plural (every one is masculine).
NAMES = {
    "type": ("type d'appel", "types possibles"),
    "partner": ("partenaire", "partenaires possibles"),
    "theme": ("thème", "thèmes possibles"),
    "audience": ("public", "publics possibles"),
    "form": ("formulaire", "formulaires possibles (content/forms/)"),
    "field type": ("type de champ", "types possibles"),
    "file format": ("format de fichier", "formats possibles"),
    "digest": ("rythme d'envoi", "rythmes possibles"),
}


def listing(choices) -> str:
    """The valid keys, each with its name when it has one (a partner's key says little)."""
    items = [f"{k} ({v.name})" if isinstance(v, Partner) else str(k)
             for k, v in (choices.items() if isinstance(choices, dict) else ((c, None) for c in choices))]
    return ", ".join(items) or "aucun"


def unknown(what: str, value, choices) -> str:
    """An unknown value: a suggestion when it is close to one, and always the valid keys."""
    name, plural = NAMES[what]
    return f"{name} inconnu « {value} »{suggest(value, choices)} ; {plural} : {listing(choices)}"


def _unknown(source: Source, path: tuple, what: str, value, choices) -> None:
    source.error(path, unknown(what, value, choices))


def _empty(value) -> bool:
    """Nothing written: no value, an empty text or list, or a mapping of such (an editor's blank part)."""
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    return value is None or (isinstance(value, (str, list)) and not value)


def _check_keys(source: Source, data: dict, keys: dict, path: tuple = ()) -> bool:
    """Report unknown and missing keys; True when every required key is present. An optional key
    left empty (as the editor writes a field it leaves blank) counts as absent."""
    ok = True
    for key in [k for k, v in data.items() if k in keys and not keys[k].required and _empty(v)]:
        del data[key]
    for key in data:
        if key not in keys:
            hint = suggest(key, keys) or f" ; noms possibles : {', '.join(keys)}"
            source.error(path + (key,), f"information inconnue « {key} »{hint}")
    for spec in keys.values():
        if spec.required and data.get(spec.name) in (None, ""):
            what = f"{spec.label} : {schema.KINDS[spec.kind]}"
            if spec.name in data:
                source.error(path + (spec.name,), f"information obligatoire laissée vide ({what})")
            else:
                source.error(path, f"information obligatoire absente ({what})", missing=spec.name)
            ok = False
    return ok


SHAPES = {dict: "des lignes indentées", list: "une liste", bool: "true ou false"}


def _text(source: Source, data: dict, key: str, path: tuple = (), *, limit: int | None = None) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        source.error(path + (key,), f"un texte est attendu, pas {SHAPES[type(value)]} ; un texte qui "
                                    "commence par [ ou { ou qui vaut true, false, yes ou no s'écrit entre guillemets")
        return ""
    text = str(value).strip()
    if limit and len(text) > limit:
        source.error(path + (key,), f"trop long : {len(text)} caractères, {limit} au plus")
    return text


def _list(source: Source, data: dict, key: str, path: tuple = ()) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        source.error(path + (key,), "une liste est attendue, entre crochets : [a, b]")
        return []
    return value


KEY_FORMAT = "« {key} » n'est pas une clé valide : minuscules sans accent, chiffres et tirets"
QUESTION_ID_RE = re.compile(r"^Q-[0-9A-Z]{6}$")


def _url_ok(url, *, https_only=False) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlparse(url)
    return parts.scheme in (("https",) if https_only else ("http", "https")) and bool(parts.netloc)


# --- registries -------------------------------------------------------------------------------

def read_registries(content_path: str) -> tuple[Registries, list[Problem]]:
    registries, problems = Registries(), []

    path = os.path.join(content_path, "partners.yaml")
    if os.path.exists(path):
        source, data = load_file(path)
        if isinstance(data, dict):
            for key, entry in data.items():
                if not schema.SLUG_RE.match(str(key)):
                    source.error((key,), KEY_FORMAT.format(key=key))
                if not isinstance(entry, dict):
                    source.error((key,), "un partenaire s'écrit « cle: » puis ses lignes name:, url:, description: "
                                        "et logo: indentées")
                    continue
                _check_keys(source, entry, schema.PARTNER_KEYS, (key,))
                url = entry.get("url")
                if url and not _url_ok(url):
                    source.error((key, "url"), f"« {url} » n'est pas une adresse web (http:// ou https://)")
                logo = entry.get("logo") or ""
                if logo and not os.path.isfile(os.path.join(content_path, "partners", logo)):
                    source.error((key, "logo"), f"fichier « content/partners/{logo} » introuvable")
                registries.partners[str(key)] = Partner(
                    str(key), _text(source, entry, "name", (key,)), url or "",
                    _text(source, entry, "description", (key,)), logo)
        elif data is not None or not source.problems:
            source.error((), "partners.yaml s'écrit un partenaire après l'autre : « cle: » puis ses lignes "
                             "name:, url:, description: indentées")
        problems += source.problems
    else:
        problems.append(Problem(relative(path), 1, "", "fichier introuvable (le registre des partenaires)"))

    path = os.path.join(content_path, "themes.yaml")
    if os.path.exists(path):
        source, data = load_file(path)
        if isinstance(data, dict):
            for key, label in data.items():
                if not schema.SLUG_RE.match(str(key)):
                    source.error((key,), KEY_FORMAT.format(key=key))
                if not isinstance(label, str) or not label.strip():
                    source.error((key,), "un thème s'écrit « cle: Libellé »")
                    continue
                registries.themes[str(key)] = label.strip()
        elif not source.problems:
            source.error((), "themes.yaml s'écrit une ligne « cle: Libellé » par thème")
        problems += source.problems
    else:
        problems.append(Problem(relative(path), 1, "", "fichier introuvable (le registre des thèmes)"))

    forms_path = os.path.join(content_path, "forms")
    if os.path.isdir(forms_path):
        for name in sorted(os.listdir(forms_path)):
            if not name.endswith((".yaml", ".yml")):
                continue
            source, data = load_file(os.path.join(forms_path, name))
            if isinstance(data, dict):
                _check_keys(source, data, schema.FORM_KEYS)
                fields = read_fields(source, data.get("fields"), ("fields",))
                title = _text(source, data, "title")
                registries.forms[name.rsplit(".", 1)[0]] = (title, fields)
            elif not source.problems:
                source.error((), "un formulaire s'écrit title: puis la liste fields: de ses champs")
            problems += source.problems
    return registries, problems


def read_fields(source: Source, raw, path: tuple) -> tuple[FormField, ...]:
    """Validate a list of form fields; resolve defaults so that `api/calls.json` is explicit."""
    if not isinstance(raw, list) or not raw:
        source.error(path, "la liste des champs est vide ou mal écrite : un champ par ligne, "
                           "- {name: …, label: …, type: …}")
        return ()
    fields, names = [], set()
    for index, entry in enumerate(raw):
        where = path + (index,)
        if not isinstance(entry, dict):
            source.error(where, "un champ s'écrit - {name: …, label: …, type: …}")
            continue
        if not _check_keys(source, entry, schema.FIELD_KEYS, where):
            continue
        name, kind = str(entry["name"]), str(entry["type"])
        if not schema.FIELD_NAME_RE.match(name):
            source.error(where + ("name",), f"« {name} » n'est pas un nom technique valide : une lettre "
                                            "minuscule puis minuscules, chiffres et _, sans accent")
        if name in names:
            source.error(where + ("name",), f"le champ « {name} » est défini deux fois")
        names.add(name)
        if kind not in schema.FIELD_TYPES:
            _unknown(source, where + ("type",), "field type", kind, schema.FIELD_TYPES)
            continue
        required = entry.get("required", False)
        if not isinstance(required, bool):
            source.error(where + ("required",), "required vaut true (obligatoire) ou false (facultatif)")
        choices = entry.get("choices")
        if kind in ("select", "multiselect"):
            if not isinstance(choices, list) or not choices or not all(isinstance(c, (str, int)) for c in choices):
                source.error(where + ("choices",), f"un champ {kind} a besoin de choices: une liste de textes")
                choices = []
        elif choices is not None:
            source.error(where + ("choices",), f"choices ne vaut que pour les champs select et multiselect, "
                                              f"pas pour {kind}")
        accept, max_size = entry.get("accept"), entry.get("max_size_mb")
        if kind == "file":
            accept = accept if accept is not None else list(schema.DEFAULT_ACCEPT)
            if not isinstance(accept, list) or not accept:
                source.error(where + ("accept",), "accept est une liste d'extensions de fichier, par exemple [pdf, odt]")
                accept = []
            for ext in accept:
                if str(ext).lower().lstrip(".") not in schema.FILE_FORMATS:
                    _unknown(source, where + ("accept",), "file format", ext, schema.FILE_FORMATS)
            accept = [str(ext).lower().lstrip(".") for ext in accept]
            max_size = max_size if max_size is not None else schema.DEFAULT_MAX_SIZE_MB
            if isinstance(max_size, bool) or not isinstance(max_size, (int, float)) \
                    or not 0 < max_size <= schema.FIELD_KEYS["max_size_mb"].limit:
                source.error(where + ("max_size_mb",), f"max_size_mb est une taille en Mo, plus de 0 et "
                                                      f"{schema.MAX_SIZE_MB_LIMIT} au plus")
                max_size = schema.DEFAULT_MAX_SIZE_MB
        else:
            for key, value in (("accept", accept), ("max_size_mb", max_size)):
                if value is not None:
                    source.error(where + (key,), f"{key} ne vaut que pour les champs file, pas pour {kind}")
            accept, max_size = [], None
        max_length = entry.get("max_length")
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length <= 0):
            source.error(where + ("max_length",), "max_length est un nombre entier de caractères, plus grand que 0")
            max_length = None
        bounds = _number_bounds(source, entry, kind, where)
        fields.append(FormField(
            name=name, label=_text(source, entry, "label", where), type=kind, required=bool(required),
            help=_text(source, entry, "help", where), max_length=max_length,
            choices=tuple(str(c) for c in choices or ()), accept=tuple(accept), max_size_mb=max_size, **bounds))
    emails = [f for f in fields if f.type == "email"]
    if len(emails) != 1:
        source.error(path, f"un formulaire a exactement un champ de type email (l'adresse du candidat, "
                           f"où part l'accusé de réception) ; celui-ci en a {len(emails)}")
    return tuple(fields)


def _number_bounds(source: Source, entry: dict, kind: str, where: tuple) -> dict:
    """min, max and step of a number field, resolved (a sane range when none is written)."""
    given = {key: entry.get(key) for key in ("min", "max", "step") if entry.get(key) is not None}
    if kind != "number":
        for key in given:
            source.error(where + (key,), f"{key} ne vaut que pour les champs number, pas pour {kind}")
        return {}
    for key, value in list(given.items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            source.error(where + (key,), f"{key} est un nombre, par exemple 0 ou 2.5")
            del given[key]
    bounds = {"min": given.get("min", schema.NUMBER_MIN), "max": given.get("max", schema.NUMBER_MAX),
              "step": given.get("step")}
    if bounds["min"] >= bounds["max"]:
        source.error(where + ("max",), f"max ({bounds['max']}) doit être plus grand que min ({bounds['min']})")
    if bounds["step"] is not None and bounds["step"] <= 0:
        source.error(where + ("step",), "step est un nombre plus grand que 0, par exemple 1 pour des nombres entiers")
    return bounds


# --- calls ------------------------------------------------------------------------------------

def find_calls(calls_path: str) -> list[str]:
    """Every `call.md` under `calls/` (folders may be grouped, e.g. calls/2026/<slug>/)."""
    return [path for path, _ in scan_calls(calls_path)]


def scan_calls(calls_path: str) -> list[tuple[str, tuple]]:
    """Every `call.md` with the stamp of its folder (each file's name, size and time), in one walk."""
    found = []

    def visit(folder):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        if any(e.name == "call.md" and e.is_file() for e in entries):
            stats = [(e.name, e.stat()) for e in entries]
            found.append((os.path.join(folder, "call.md"),
                          tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats)))
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                visit(entry.path)

    visit(calls_path)
    return found


def read_call(path: str, registries: Registries) -> tuple[Call | None, list[Problem]]:
    folder = os.path.dirname(path)
    slug = os.path.basename(folder)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return None, [Problem(relative(path), 1, "", "un appel commence par ses informations entre deux "
                                                     "lignes --- (voir docs/publier-un-appel.md)")]
    source = Source(path, match.group(1), first_line=2)
    data = source.load()
    if data is None and not source.problems:
        source.error((), "aucune information entre les deux lignes ---")
    if data is not None and not isinstance(data, dict):
        source.error((), "les informations s'écrivent une par ligne, « clé: valeur »")
    if source.problems:
        return None, source.problems

    if not schema.SLUG_RE.match(slug):
        source.problems.append(Problem(source.display, 1, "slug", f"nom de dossier « {slug} » invalide : "
                                       "minuscules sans accent, chiffres et tirets, par exemple capteurs-air-ecoles"))
    _check_keys(source, data, schema.CALL_KEYS)

    kind = str(data.get("type", ""))
    if kind and kind not in schema.CALL_TYPES:
        _unknown(source, ("type",), "type", kind, schema.CALL_TYPES)
    partner = str(data.get("partner", ""))
    if partner and partner not in registries.partners:
        _unknown(source, ("partner",), "partner", partner, registries.partners)

    summary = _text(source, data, "summary", limit=schema.CALL_KEYS["summary"].limit)
    title = _text(source, data, "title", limit=schema.CALL_KEYS["title"].limit)
    themes = _keys(source, data, "themes", registries.themes, "theme")
    audiences = _keys(source, data, "audiences", schema.AUDIENCES, "audience")

    tz_name = str(data.get("timezone") or DEFAULT_TIMEZONE)
    try:
        tz = zone(tz_name)
    except DateError as exc:
        source.error(("timezone",), str(exc))
        tz = zone(DEFAULT_TIMEZONE)

    published = _date(source, data, "published")
    opens = closes = questions_until = None
    if data.get("opens") is not None:
        opens = _datetime(source, data, "opens", tz, date_only_time=dt.time(0, 0))
    elif published:
        opens = dt.datetime.combine(published, dt.time(0, 0), tzinfo=tz)
    if data.get("closes") is not None:
        closes = _datetime(source, data, "closes", tz)
    elif kind in schema.CALL_TYPES and kind != "avis-information":
        source.error((), "date limite de réponse absente : un appel qui attend des réponses en a une "
                         "(date et heure, par exemple 2027-01-15T12:00)", missing="closes")
    if data.get("questions_until") is not None:
        questions_until = _datetime(source, data, "questions_until", tz)
    if opens and closes and closes <= opens:
        source.error(("closes",), CLOSES_BEFORE_OPENS.format(closes=data["closes"], opens=data.get("opens") or published))
    if questions_until and closes and questions_until > closes:
        source.error(("questions_until",), QUESTIONS_AFTER_CLOSES.format(questions_until=data["questions_until"],
                                                                         closes=data["closes"]))

    submission = _submission(source, data, kind, registries)
    documents = _documents(source, data, folder)
    questions = tuple(
        Question(d, _text(source, q, "question", ("questions", i)), _text(source, q, "answer", ("questions", i)),
                 _question_id(source, q, i))
        for i, q, d in _dated_entries(source, data, "questions", schema.QUESTION_KEYS))
    amendments = tuple(
        Amendment(d, _text(source, a, "summary", ("amendments", i)))
        for i, a, d in _dated_entries(source, data, "amendments", schema.AMENDMENT_KEYS))

    body_text = text[match.end():]
    body = to_html(body_text)
    if "<h1" in body:
        line = 1 + text[:match.end()].count("\n") + next(
            (n for n, raw in enumerate(body_text.splitlines()) if re.match(r"#\s", raw)), 0)
        source.problems.append(Problem(source.display, line, "body",
                                       "titre de niveau 1 (# …) dans le texte : le titre de l'appel est le seul "
                                       "de la page ; commencez les parties par ##"))
    if not re.sub(r"(?m)^#{1,6}\s.*$", "", body_text).strip():
        source.problems.append(Problem(source.display, 1 + text[:match.end()].count("\n"), "body", EMPTY_BODY))
    source.problems += placeholders(source.display, text, match.end())
    if source.problems:
        return None, source.problems
    return Call(
        slug=slug, source=source.display, title=title, type=kind, partner=partner,
        partner_name=registries.partners[partner].name, summary=summary,
        published=published, opens=opens, closes=closes, timezone=tz_name, themes=themes,
        audiences=audiences, questions_until=questions_until, budget=_text(source, data, "budget"),
        submission=submission, documents=documents, questions=questions, amendments=amendments,
        body=body, folder=folder), []


# The order of a call's dates; the call editor (generator.editor) checks it with the same words.
CLOSES_BEFORE_OPENS = "la date limite ({closes}) doit suivre l'ouverture des réponses ({opens})"
QUESTIONS_AFTER_CLOSES = ("la date limite des questions ({questions_until}) doit précéder la date limite de "
                          "réponse ({closes})")
EMPTY_BODY = ("le texte de l'appel est vide : présentez le contexte, ce qui est recherché, l'éligibilité, "
              "les critères de sélection et le calendrier, après la seconde ligne ---")
PLACEHOLDER_RE = re.compile(r"\[?\s*" + re.escape(schema.PLACEHOLDER) + r"[^\]\n]{0,80}\]?", re.I)
PLACEHOLDER_SEEN = re.compile(re.escape(schema.PLACEHOLDER), re.I)


def placeholders(display: str, text: str, body_offset: int) -> list[Problem]:
    """Every text `calls new` left for staff to write (schema.PLACEHOLDER), with its line: a call
    that still holds one is not finished, so it cannot be published."""
    if not PLACEHOLDER_SEEN.search(text):  # most calls: one scan, no lowered copy of the file
        return []
    found, key, body_line = [], "", text[:body_offset].count("\n") + 1
    for number, line in enumerate(text.splitlines(), 1):
        in_body = number >= body_line
        top = re.match(r"([A-Za-z_]+):", line)
        if top and not in_body:
            key = top.group(1)
        for match in PLACEHOLDER_RE.finditer(line):
            found.append(Problem(display, number, "body" if in_body else key,
                                 f"texte à compléter : « {match.group().strip()} » ; remplacez-le par votre texte"))
    return found


def _keys(source, data, key, known, what) -> tuple[str, ...]:
    values = []
    for index, value in enumerate(_list(source, data, key)):
        if str(value) not in known:
            _unknown(source, (key, index), what, value, known)
        else:
            values.append(str(value))
    return tuple(values)


def _date(source, data, key, path=()):
    if data.get(key) is None:
        return None
    try:
        return parse_date(data[key])
    except DateError as exc:
        source.error(path + (key,), str(exc))
        return None


def _datetime(source, data, key, tz, **options):
    try:
        return parse_datetime(data[key], tz, **options)
    except DateError as exc:
        source.error((key,), str(exc))
        return None


def _dated_entries(source, data, key, keys):
    for index, entry in enumerate(_list(source, data, key)):
        if not isinstance(entry, dict):
            source.error((key, index), f"chaque entrée de {key} s'écrit - {{{', '.join(f'{k}: …' for k, spec in keys.items() if spec.required)}}}")
            continue
        if _check_keys(source, entry, keys, (key, index)):
            day = _date(source, entry, "date", (key, index))
            if day:
                yield index, entry, day


def _question_id(source, entry, index) -> str:
    """The id of the question received through the platform an answer replies to, if written."""
    value = entry.get("id")
    if value is None or value == "":
        return ""
    text = str(value).strip().upper()
    if not QUESTION_ID_RE.match(text):
        source.error(("questions", index, "id"), f"« {value} » n'est pas un identifiant de question : il s'écrit "
                                                 "comme dans le courriel de la question, par exemple Q-7K3QXM")
        return ""
    return text


def _documents(source, data, folder) -> tuple[Document, ...]:
    documents = []
    for index, entry in enumerate(_list(source, data, "documents")):
        where = ("documents", index)
        if not isinstance(entry, dict):
            source.error(where, "un document s'écrit - {title: …, file: …}")
            continue
        if not _check_keys(source, entry, schema.DOCUMENT_KEYS, where):
            continue
        name = str(entry["file"])
        if "/" in name or "\\" in name or name.startswith(".") or name == "call.md":
            source.error(where + ("file",), f"« {name} » doit être le nom d'un fichier du dossier de l'appel, sans /")
            continue
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            source.error(where + ("file",), f"fichier « {name} » introuvable dans {relative(folder)}/ : déposez-le "
                                            "dans le dossier de l'appel, sous ce nom exact")
            continue
        documents.append(Document(_text(source, entry, "title", where), name, os.path.getsize(path),
                                  name.rsplit(".", 1)[-1].lower() if "." in name else ""))
    return tuple(documents)


def _submission(source, data, kind, registries) -> SubmissionSpec | None:
    raw = data.get("submission")
    if raw is None:
        if kind in schema.CALL_TYPES and schema.CALL_TYPES[kind].answerable:
            source.error((), "comment répondre ? Un appel qui attend des réponses a une partie submission : "
                             "un formulaire (form: ou fields:) et ses destinataires (exports_to:), ou le lien "
                             "de la plateforme des marchés publics (external_url:)", missing="submission")
        return None
    if kind == "avis-information":
        source.error(("submission",), "un avis d'information n'attend pas de réponse : retirez submission")
        return None
    if not isinstance(raw, dict):
        source.error(("submission",), "submission s'écrit avec des lignes indentées : form: et exports_to:, "
                                      "ou external_url:")
        return None
    where = ("submission",)
    _check_keys(source, raw, schema.SUBMISSION_KEYS, where)
    external = raw.get("external_url")
    if external is not None:
        if not _url_ok(external, https_only=True):
            source.error(where + ("external_url",), f"« {external} » n'est pas une adresse https://")
        for key in ("form", "fields", "exports_to", "questions_to", "digest"):
            if key in raw:
                source.error(where + (key,), f"{key} ne s'applique pas avec external_url (les réponses vont sur la "
                                            "plateforme des marchés)")
        return SubmissionSpec(external_url=str(external))
    form_name, fields = "", ()
    if "form" in raw and "fields" in raw:
        source.error(where + ("fields",), "écrivez form: (un formulaire commun) ou fields: (des champs propres "
                                          "à l'appel), pas les deux")
    elif "form" in raw:
        form_name = str(raw["form"])
        if form_name not in registries.forms:
            _unknown(source, where + ("form",), "form", form_name, registries.forms)
        else:
            fields = registries.forms[form_name][1]
    elif "fields" in raw:
        fields = read_fields(source, raw["fields"], where + ("fields",))
    else:
        source.error(where, "un appel ouvert aux réponses dit comment répondre : form: (un formulaire de "
                           "content/forms/), fields: ou external_url:")
    exports_to = _list(source, raw, "exports_to", where)
    if not exports_to:
        source.error(where, "destinataires des réponses absents : exports_to, une liste d'adresses "
                            "électroniques", missing="exports_to")
    for key in ("exports_to", "questions_to"):
        for index, address in enumerate(_list(source, raw, key, where)):
            if not is_address(address):
                source.error(where + (key, index), f"« {address} » n'est pas une adresse électronique valide")
    digest = raw.get("digest") or ""
    if digest and digest not in schema.DIGESTS:
        _unknown(source, where + ("digest",), "digest", digest, schema.DIGESTS)
    return SubmissionSpec(form=form_name, fields=fields, exports_to=tuple(str(a) for a in exports_to),
                          questions_to=tuple(str(a) for a in _list(source, raw, "questions_to", where)),
                          digest=str(digest))


class ReadCache:
    """Calls already read and validated, keyed by what their result depends on: the call file,
    the files of its folder, the registries and our own code (this package and the call model).
    A rebuild after one change reads one call again, not all of them."""

    VERSION = 2

    def __init__(self, path: str | None, content_path: str):
        self.path = path
        self.entries: dict = {}
        self.fresh: dict = {}
        self.saving: parallel.Background | None = None  # the cache being written by a forked child
        self.scanned: tuple[str, list, dict] | None = None  # the last scan of the calls' folders (in memory)
        self.keys: dict[str, tuple] = {}  # each call's key by path, with the stamp it was made from
        self.key = self._fingerprint(content_path)
        if path and os.path.exists(path):
            try:
                with open(path, "rb") as handle:
                    key, entries = pickle.load(handle)
                if key == self.key:
                    self.entries = entries
            except (OSError, EOFError, ImportError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
                self.entries = {}

    @classmethod
    def _fingerprint(cls, content_path: str) -> str:
        digest = hashlib.sha256(str(cls.VERSION).encode())
        code = (os.path.dirname(os.path.abspath(callmodel.__file__)), os.path.dirname(os.path.abspath(__file__)))
        for folder, names in (*((c, sorted(n for n in os.listdir(c) if n.endswith(".py"))) for c in code),
                              (content_path, ["partners.yaml", "themes.yaml"]),
                              (os.path.join(content_path, "forms"), sorted(os.listdir(os.path.join(content_path, "forms")))
                               if os.path.isdir(os.path.join(content_path, "forms")) else [])):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    with open(path, "rb") as handle:
                        digest.update(name.encode() + b"\0" + handle.read())
        return digest.hexdigest()

    def get(self, path: str, stamp: tuple):
        entry = self.entries.get(path)
        return entry[1] if entry and entry[0] == stamp else None

    def put(self, path: str, stamp: tuple, result) -> None:
        self.fresh[path] = (stamp, result)

    def renewed(self, content_path: str) -> "ReadCache":
        """The same cache for the next build in this process (`make serve`): what this build read is
        kept while the registries and our code are unchanged."""
        key = self._fingerprint(content_path)
        self.entries = self.fresh if key == self.key else {}
        if key != self.key:
            self.keys = {}
        self.key, self.fresh = key, {}
        return self

    def call_key(self, path: str, stamp: tuple) -> bytes:
        """What a call was read from: our code and the registries, its path, its folder's files."""
        kept = self.keys.get(path)
        if kept is None or kept[0] != stamp:
            kept = self.keys[path] = (stamp, hashlib.blake2b(repr((self.key, path, stamp)).encode(),
                                                             digest_size=16).digest())
        return kept[1]

    def save(self, *, meanwhile: bool = False) -> None:
        """Write the cache; `meanwhile`, in a forked child while this process goes on (`saved()`
        waits for it): a cold build has a core to spare then."""
        if self.path:
            self.saving = parallel.Background(lambda: save_pickle(self.path, (self.key, self.fresh)),
                                              fork=meanwhile)

    def saved(self) -> None:
        """Wait until the cache is written (a forked child's error is raised here)."""
        saving, self.saving = self.saving, None
        if saving is not None:
            saving.result()


def save_pickle(path: str, data) -> None:
    """Replace the file at `path` with `data` pickled, in one step (a reader never sees half of it)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def scan_index(calls_path: str, scanned: list[tuple[str, tuple]]) -> dict[str, int]:
    """The position in `scanned` of each call folder, by absolute path."""
    root = os.path.abspath(calls_path)
    prefix = len(os.path.join(calls_path, ""))
    return {os.path.join(root, os.path.dirname(path)[prefix:]): n for n, (path, _) in enumerate(scanned)}


def rescan(calls_path: str, scanned: list[tuple[str, tuple]], index: dict[str, int],
           changed) -> list[tuple[str, tuple]] | None:
    """The previous scan with the folders of the `changed` files stamped again, or None when a change
    is not inside a known call folder (a call added, moved or removed needs a whole scan)."""
    root = os.path.abspath(calls_path)
    result = list(scanned)
    for changed_path in changed:
        folder = os.path.dirname(os.path.abspath(changed_path))
        if not folder.startswith(root + os.sep) and folder != root:
            continue  # a registry, a page or the theme: not a call's folder
        while folder not in index and folder.startswith(root + os.sep):
            folder = os.path.dirname(folder)
        if folder not in index:
            return None
        found = scan_calls(folder)[:1]
        if not found or os.path.abspath(os.path.dirname(found[0][0])) != folder:
            return None
        result[index[folder]] = (scanned[index[folder]][0], found[0][1])
    return result


def read_catalogue(content_path: str, calls_path: str, progress=None, cache_path: str | None = None,
                   *, cache: ReadCache | None = None, save: bool = True, changed=None, meanwhile=None,
                   save_meanwhile: bool = False) -> Catalogue:
    """Read and validate everything; `progress(done, total)` is called while calls are read.

    With `cache_path`, results of unchanged calls are taken from the previous run; with `cache`
    (the ReadCache of a previous build in this process), from memory, and then `changed` (the files
    changed since, as a file watcher saw them) spares a walk through every call folder. Calls not in
    the cache are read on both cores, this process joining in after `meanwhile()`.
    """
    registries, problems = read_registries(content_path)
    cache = cache.renewed(content_path) if cache else ReadCache(cache_path, content_path)
    scanned = None
    if changed is not None and cache.scanned is not None and cache.scanned[0] == calls_path:
        scanned = rescan(calls_path, cache.scanned[1], cache.scanned[2], changed)
        if scanned is not None:
            cache.scanned = (calls_path, scanned, cache.scanned[2])
    if scanned is None:
        scanned = scan_calls(calls_path)
        if not save:  # kept in memory for the next build of this process
            cache.scanned = (calls_path, scanned, scan_index(calls_path, scanned))
    paths, stamps = [], []
    for path, stamp in scanned:
        paths.append(path)
        stamps.append(stamp)
    missing = [path for path, stamp in zip(paths, stamps) if cache.get(path, stamp) is None]
    found = dict(zip(missing, parallel.in_two(lambda batch: [read_call(path, registries) for path in batch],
                                              missing, meanwhile=meanwhile, progress=progress)))
    calls, by_slug, keys = [], {}, {}
    for path, stamp in zip(paths, stamps):
        result = found[path] if path in found else cache.get(path, stamp)
        cache.put(path, stamp, result)
        call, call_problems = result
        problems += call_problems
        slug = os.path.basename(os.path.dirname(path))
        if slug in by_slug:
            problems.append(Problem(relative(path), 1, "slug",
                                    f"l'adresse « {slug} » sert déjà à {relative(by_slug[slug])} : renommez "
                                    "l'un des deux dossiers"))
        else:
            by_slug[slug] = path
            if call:
                calls.append(call)
                keys[slug] = cache.call_key(path, stamp)
    if save:  # the caller waits with cache.saved() when saved meanwhile
        cache.save(meanwhile=save_meanwhile and parallel.worth_it(len(missing)))
    return Catalogue(calls, registries, problems, content_path, calls_path, keys, cache)
