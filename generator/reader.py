"""Read and validate the whole catalogue: registries in `content/`, calls in `calls/`.

Every problem is collected (never only the first) with its file, line and field, so that staff
fix a pull request in one go. Nothing here writes output.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import pickle
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

import cmarkgfm
from cmarkgfm.cmark import Options as CmarkOptions

import callmodel
from callmodel import schema
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
    """The catalogue has errors: nothing is published. Carries every problem found."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__(f"{len(problems)} error(s) in the catalogue:\n" + "\n".join(map(str, problems)))


def to_html(text: str) -> str:
    """Markdown (GitHub flavour: tables, autolinks) to HTML with cmark-gfm, a C library 40 times
    faster than Python-Markdown here. Raw HTML in a call's text is dropped, never passed through;
    smart punctuation turns ' into a typographic apostrophe."""
    return cmarkgfm.github_flavored_markdown_to_html(text, options=CmarkOptions.CMARK_OPT_SMART)


def suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _unknown(source: Source, path: tuple, what: str, value, choices) -> None:
    source.error(path, f'unknown {what} "{value}"{suggest(value, choices)}')


def _check_keys(source: Source, data: dict, keys: dict, path: tuple = ()) -> bool:
    """Report unknown and missing keys; True when every required key is present."""
    ok = True
    for key in data:
        if key not in keys:
            source.error(path + (key,), f'unknown key "{key}"{suggest(key, keys)}')
    for spec in keys.values():
        if spec.required and (data.get(spec.name) is None or data.get(spec.name) == ""):
            if spec.name in data:
                source.error(path + (spec.name,), f"{spec.name} is empty ({spec.kind} required)")
            else:
                source.error(path, f"{spec.name} is required ({spec.kind})", missing=spec.name)
            ok = False
    return ok


def _text(source: Source, data: dict, key: str, path: tuple = (), *, limit: int | None = None) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        source.error(path + (key,), f"{key} must be a text, not {type(value).__name__}")
        return ""
    text = str(value).strip()
    if limit and len(text) > limit:
        source.error(path + (key,), f"{key} is too long: {len(text)} characters, at most {limit}")
    return text


def _list(source: Source, data: dict, key: str, path: tuple = ()) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        source.error(path + (key,), f"{key} must be a list (e.g. [a, b])")
        return []
    return value


def _email_ok(address) -> bool:
    return isinstance(address, str) and bool(schema.EMAIL_RE.match(address))


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
                    source.error((key,), f'"{key}" is not a valid key (lowercase letters, digits, hyphens)')
                if not isinstance(entry, dict):
                    source.error((key,), "a partner is a mapping {name, url, description, logo}")
                    continue
                _check_keys(source, entry, schema.PARTNER_KEYS, (key,))
                url = entry.get("url")
                if url and not _url_ok(url):
                    source.error((key, "url"), f'"{url}" is not an http(s) address')
                logo = entry.get("logo") or ""
                if logo and not os.path.isfile(os.path.join(content_path, "partners", logo)):
                    source.error((key, "logo"), f'file "content/partners/{logo}" not found')
                registries.partners[str(key)] = Partner(
                    str(key), _text(source, entry, "name", (key,)), url or "",
                    _text(source, entry, "description", (key,)), logo)
        elif data is not None or not source.problems:
            source.error((), "partners.yaml must be a mapping key: {name, url, description}")
        problems += source.problems
    else:
        problems.append(Problem(relative(path), 1, "", "file not found (the partner registry)"))

    path = os.path.join(content_path, "themes.yaml")
    if os.path.exists(path):
        source, data = load_file(path)
        if isinstance(data, dict):
            for key, label in data.items():
                if not schema.SLUG_RE.match(str(key)):
                    source.error((key,), f'"{key}" is not a valid key (lowercase letters, digits, hyphens)')
                if not isinstance(label, str) or not label.strip():
                    source.error((key,), "a theme is written key: label")
                    continue
                registries.themes[str(key)] = label.strip()
        elif not source.problems:
            source.error((), "themes.yaml must be a mapping key: label")
        problems += source.problems
    else:
        problems.append(Problem(relative(path), 1, "", "file not found (the theme registry)"))

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
                source.error((), "a form is a mapping {title, fields: [...]}")
            problems += source.problems
    return registries, problems


def read_fields(source: Source, raw, path: tuple) -> tuple[FormField, ...]:
    """Validate a list of form fields; resolve defaults so that `api/calls.json` is explicit."""
    if not isinstance(raw, list) or not raw:
        source.error(path, "fields must be a non-empty list of fields")
        return ()
    fields, names = [], set()
    for index, entry in enumerate(raw):
        where = path + (index,)
        if not isinstance(entry, dict):
            source.error(where, "a field is a mapping {name, label, type, ...}")
            continue
        if not _check_keys(source, entry, schema.FIELD_KEYS, where):
            continue
        name, kind = str(entry["name"]), str(entry["type"])
        if not schema.FIELD_NAME_RE.match(name):
            source.error(where + ("name",), f'"{name}" is not a valid field name (lowercase letters, digits, _)')
        if name in names:
            source.error(where + ("name",), f'field "{name}" is defined twice')
        names.add(name)
        if kind not in schema.FIELD_TYPES:
            _unknown(source, where + ("type",), "field type", kind, schema.FIELD_TYPES)
            continue
        required = entry.get("required", False)
        if not isinstance(required, bool):
            source.error(where + ("required",), "required must be true or false")
        choices = entry.get("choices")
        if kind in ("select", "multiselect"):
            if not isinstance(choices, list) or not choices or not all(isinstance(c, (str, int)) for c in choices):
                source.error(where + ("choices",), f"a {kind} field needs choices: a list of texts")
                choices = []
        elif choices is not None:
            source.error(where + ("choices",), f"choices only apply to select and multiselect fields, not {kind}")
        accept, max_size = entry.get("accept"), entry.get("max_size_mb")
        if kind == "file":
            accept = accept if accept is not None else list(schema.DEFAULT_ACCEPT)
            if not isinstance(accept, list) or not accept:
                source.error(where + ("accept",), "accept must be a list of file extensions, e.g. [pdf, odt]")
                accept = []
            for ext in accept:
                if str(ext).lower().lstrip(".") not in schema.FILE_FORMATS:
                    _unknown(source, where + ("accept",), "file format", ext, schema.FILE_FORMATS)
            accept = [str(ext).lower().lstrip(".") for ext in accept]
            max_size = max_size if max_size is not None else schema.DEFAULT_MAX_SIZE_MB
            if isinstance(max_size, bool) or not isinstance(max_size, (int, float)) or not 0 < max_size <= schema.MAX_SIZE_MB_LIMIT:
                source.error(where + ("max_size_mb",), f"max_size_mb must be a number between 0 and {schema.MAX_SIZE_MB_LIMIT}")
                max_size = schema.DEFAULT_MAX_SIZE_MB
        else:
            for key, value in (("accept", accept), ("max_size_mb", max_size)):
                if value is not None:
                    source.error(where + (key,), f"{key} only applies to file fields, not {kind}")
            accept, max_size = [], None
        max_length = entry.get("max_length")
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length <= 0):
            source.error(where + ("max_length",), "max_length must be a positive whole number")
            max_length = None
        fields.append(FormField(
            name=name, label=_text(source, entry, "label", where), type=kind, required=bool(required),
            help=_text(source, entry, "help", where), max_length=max_length,
            choices=tuple(str(c) for c in choices or ()), accept=tuple(accept), max_size_mb=max_size))
    emails = [f for f in fields if f.type == "email"]
    if len(emails) != 1:
        source.error(path, f"a form needs exactly one field of type email (the applicant's address, "
                           f"where the receipt goes); found {len(emails)}")
    return tuple(fields)


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
        return None, [Problem(relative(path), 1, "", "a call starts with YAML front matter between two --- lines")]
    source = Source(path, match.group(1), first_line=2)
    data = source.load()
    if data is None and not source.problems:
        source.error((), "the front matter is empty")
    if data is not None and not isinstance(data, dict):
        source.error((), "the front matter must be a mapping (key: value lines)")
    if source.problems:
        return None, source.problems

    if not schema.SLUG_RE.match(slug):
        source.problems.append(Problem(source.display, 1, "slug", f'folder name "{slug}" is not a valid slug '
                                       f'(lowercase letters, digits and hyphens, e.g. capteurs-air-ecoles)'))
    _check_keys(source, data, schema.CALL_KEYS)

    kind = str(data.get("type", ""))
    if kind and kind not in schema.CALL_TYPES:
        _unknown(source, ("type",), "type", kind, schema.CALL_TYPES)
    partner = str(data.get("partner", ""))
    if partner and partner not in registries.partners:
        _unknown(source, ("partner",), "partner", partner, registries.partners)

    summary = _text(source, data, "summary", limit=schema.SUMMARY_MAX)
    title = _text(source, data, "title", limit=schema.TITLE_MAX)
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
        source.error((), "closes is required (date-time, e.g. 2027-01-15T12:00)", missing="closes")
    if data.get("questions_until") is not None:
        questions_until = _datetime(source, data, "questions_until", tz)
    if opens and closes and closes <= opens:
        source.error(("closes",), f"closes ({data['closes']}) is before opens ({data.get('opens') or published})")
    if questions_until and closes and questions_until > closes:
        source.error(("questions_until",), "questions_until is after closes")

    submission = _submission(source, data, kind, registries)
    documents = _documents(source, data, folder)
    questions = tuple(
        Question(d, _text(source, q, "question", ("questions", i)), _text(source, q, "answer", ("questions", i)))
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
                                       "a level-1 heading (# ...) in the text: the title is the page's only h1, "
                                       "start sections with ##"))
    if source.problems:
        return None, source.problems
    return Call(
        slug=slug, source=source.display, title=title, type=kind, partner=partner,
        partner_name=registries.partners[partner].name, summary=summary,
        published=published, opens=opens, closes=closes, timezone=tz_name, themes=themes,
        audiences=audiences, questions_until=questions_until, budget=_text(source, data, "budget"),
        submission=submission, documents=documents, questions=questions, amendments=amendments,
        body=body, folder=folder), []


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
            source.error((key, index), f"each entry of {key} is a mapping {{{', '.join(keys)}}}")
            continue
        if _check_keys(source, entry, keys, (key, index)):
            day = _date(source, entry, "date", (key, index))
            if day:
                yield index, entry, day


def _documents(source, data, folder) -> tuple[Document, ...]:
    documents = []
    for index, entry in enumerate(_list(source, data, "documents")):
        where = ("documents", index)
        if not isinstance(entry, dict):
            source.error(where, "a document is written {title: ..., file: ...}")
            continue
        if not _check_keys(source, entry, schema.DOCUMENT_KEYS, where):
            continue
        name = str(entry["file"])
        if "/" in name or "\\" in name or name.startswith(".") or name == "call.md":
            source.error(where + ("file",), f'"{name}" must be the name of a file in the call\'s folder')
            continue
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            source.error(where + ("file",), f'document file "{name}" not found in {relative(folder)}/')
            continue
        documents.append(Document(_text(source, entry, "title", where), name, os.path.getsize(path),
                                  name.rsplit(".", 1)[-1].lower() if "." in name else ""))
    return tuple(documents)


def _submission(source, data, kind, registries) -> SubmissionSpec | None:
    raw = data.get("submission")
    if raw is None:
        if kind in schema.CALL_TYPES and schema.CALL_TYPES[kind].answerable:
            source.error((), "submission is required: a form (form: or fields:) with exports_to, "
                             "or external_url for a procurement", missing="submission")
        return None
    if kind == "avis-information":
        source.error(("submission",), "an information notice (avis-information) takes no answers: remove submission")
        return None
    if not isinstance(raw, dict):
        source.error(("submission",), "submission is a mapping {form, exports_to} or {external_url}")
        return None
    where = ("submission",)
    _check_keys(source, raw, schema.SUBMISSION_KEYS, where)
    external = raw.get("external_url")
    if external is not None:
        if not _url_ok(external, https_only=True):
            source.error(where + ("external_url",), f'"{external}" is not an https address')
        for key in ("form", "fields", "exports_to", "digest"):
            if key in raw:
                source.error(where + (key,), f"{key} does not apply with external_url (answers go to the tender platform)")
        return SubmissionSpec(external_url=str(external))
    form_name, fields = "", ()
    if "form" in raw and "fields" in raw:
        source.error(where + ("fields",), "write either form: (a shared form) or fields: (inline), not both")
    elif "form" in raw:
        form_name = str(raw["form"])
        if form_name not in registries.forms:
            _unknown(source, where + ("form",), "form", form_name, registries.forms)
        else:
            fields = registries.forms[form_name][1]
    elif "fields" in raw:
        fields = read_fields(source, raw["fields"], where + ("fields",))
    else:
        source.error(where, "submission needs form: (content/forms/<name>.yaml), fields: or external_url:")
    exports_to = _list(source, raw, "exports_to", where)
    if not exports_to:
        source.error(where, "exports_to is required: who receives the answers (list of e-mail addresses)",
                     missing="exports_to")
    for index, address in enumerate(exports_to):
        if not _email_ok(address):
            source.error(where + ("exports_to", index), f'"{address}" is not a valid e-mail address')
    digest = raw.get("digest") or ""
    if digest and digest not in schema.DIGESTS:
        _unknown(source, where + ("digest",), "digest", digest, schema.DIGESTS)
    return SubmissionSpec(form=form_name, fields=fields, exports_to=tuple(str(a) for a in exports_to),
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

    def save(self) -> None:
        if self.path:
            save_pickle(self.path, (self.key, self.fresh))


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
                   *, cache: ReadCache | None = None, save: bool = True, changed=None) -> Catalogue:
    """Read and validate everything; `progress(done, total)` is called while calls are read.

    With `cache_path`, results of unchanged calls are taken from the previous run; with `cache`
    (the ReadCache of a previous build in this process), from memory, and then `changed` (the files
    changed since, as a file watcher saw them) spares a walk through every call folder. Calls not in
    the cache are read on both cores.
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
                                              missing, progress=progress)))
    calls, by_slug, keys = [], {}, {}
    for path, stamp in zip(paths, stamps):
        result = found[path] if path in found else cache.get(path, stamp)
        cache.put(path, stamp, result)
        call, call_problems = result
        problems += call_problems
        slug = os.path.basename(os.path.dirname(path))
        if slug in by_slug:
            problems.append(Problem(relative(path), 1, "slug",
                                    f'duplicate slug "{slug}": also used by {relative(by_slug[slug])}'))
        else:
            by_slug[slug] = path
            if call:
                calls.append(call)
                keys[slug] = cache.call_key(path, stamp)
    if save:
        cache.save()
    return Catalogue(calls, registries, problems, content_path, calls_path, keys, cache)
