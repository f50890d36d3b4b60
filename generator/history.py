"""The public history of each call, read from git, and the summary of a pull request's changes.

A call's history is what the public can check against: every commit that touched its folder
after publication, with what changed said in plain French. The whole `calls/` tree is read with
one `git log` and one `git cat-file --batch`, so the cost grows with the number of commits, not
with one git process per call. A shallow clone or a folder outside git has no history: the build
still works and the pages say so. BuildInfo asks git which commit a build is made from.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass, field

from callmodel import urls
from callmodel.dates import DEFAULT_TIMEZONE, DateError, parse_date, parse_datetime, zone
from callmodel.french import french_date, french_datetime
from callmodel.schema import AUDIENCES, CALL_TYPES, CallHistory, Change, HistoryEntry

from .reader import FRONT_MATTER_RE, Registries, find_calls
from .source import Source

CALL_FILE = "call.md"
PUBLISHED = "Publication de l'appel"
NO_VISIBLE_CHANGE = "Modification de forme, sans effet sur le contenu publié"
NO_VALUE = "aucune valeur"
DIGEST_LABELS = {"daily": "quotidien", "weekly": "hebdomadaire"}
GIT_TIMEOUT = 600


class HistoryError(Exception):
    """Git could not answer (no repository, unknown revision): the message is shown as is."""


# --- what a version of a call says ---------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    """One version of `call.md`: its front matter as written (dates stay text) and its body."""

    data: dict
    body: str

    @classmethod
    def parse(cls, text: str) -> "Version":
        match = FRONT_MATTER_RE.match(text)
        if not match:
            return cls({}, text.strip())
        data = Source(CALL_FILE, match.group(1), first_line=2, display=CALL_FILE).load()
        return cls(data if isinstance(data, dict) else {}, text[match.end():].strip())

    @property
    def timezone(self) -> str:
        return str(self.data.get("timezone") or DEFAULT_TIMEZONE)

    def get(self, key):
        value = self.data.get(key)
        return None if value == "" else value


def describe_changes(old: Version, new: Version, *, registries: Registries | None = None,
                     old_folder: str = "", new_folder: str = "", updated_files=()) -> list[str]:
    """What changed between two versions of a call, one plain French sentence per change."""
    registries = registries or Registries()
    changes = []
    if old_folder and new_folder and os.path.basename(old_folder) != os.path.basename(new_folder):
        changes.append(f"Adresse de la page : /{urls.CALL.format(slug=os.path.basename(old_folder))} → "
                       f"/{urls.CALL.format(slug=os.path.basename(new_folder))}")
    if _text(old.get("title")) != _text(new.get("title")):
        changes.append(f"Titre modifié : « {_text(old.get('title'))} » → « {_text(new.get('title'))} »")
    if _text(old.get("summary")) != _text(new.get("summary")):
        changes.append("Résumé modifié")
    types = {k: t.label for k, t in CALL_TYPES.items()}
    partners = {k: p.name for k, p in registries.partners.items()}
    changes += _value("Type", old.get("type"), new.get("type"), lambda v, _: types.get(str(v), str(v)))
    changes += _value("Partenaire", old.get("partner"), new.get("partner"),
                      lambda v, _: partners.get(str(v), str(v)))
    changes += _dates(old, new)
    changes += _value("Budget", old.get("budget"), new.get("budget"), lambda v, _: _text(v))
    changes += _keys("Thème", old.get("themes"), new.get("themes"), registries.themes)
    changes += _keys("Public", old.get("audiences"), new.get("audiences"), AUDIENCES)
    changes += _submission(old.get("submission"), new.get("submission"))
    changes += _documents(old.get("documents"), new.get("documents"), updated_files)
    changes += _questions(old.get("questions"), new.get("questions"))
    changes += _amendments(old.get("amendments"), new.get("amendments"))
    if old.body != new.body:
        changes.append("Texte de l'appel modifié")
    return changes


def changed_fields(old: Version, new: Version, *, old_folder: str = "", new_folder: str = "",
                   updated_files=()) -> tuple[Change, ...]:
    """The same changes as `describe_changes`, for programs: field, old and new value (ISO dates)."""
    changes = []

    def compare(name, before, after):
        if before != after:
            changes.append(Change(name, before, after))

    if old_folder and new_folder and os.path.basename(old_folder) != os.path.basename(new_folder):
        compare("slug", os.path.basename(old_folder), os.path.basename(new_folder))
    for key in ("title", "summary", "type", "partner"):
        compare(key, _text(old.get(key)) or None, _text(new.get(key)) or None)
    compare("published", _iso_day(old.get("published")), _iso_day(new.get("published")))
    for key, options in (("opens", {"date_only_time": dt.time(0, 0)}), ("closes", {}), ("questions_until", {})):
        compare(key, _iso_moment(old.get(key), old.timezone, **options), _iso_moment(new.get(key), new.timezone, **options))
    compare("timezone", old.timezone, new.timezone)
    compare("budget", _text(old.get("budget")) or None, _text(new.get("budget")) or None)
    for key in ("themes", "audiences"):
        compare(key, [str(v) for v in _as_list(old.get(key))], [str(v) for v in _as_list(new.get(key))])
    before, after = old.get("submission"), new.get("submission")
    before, after = (before if isinstance(before, dict) else {}), (after if isinstance(after, dict) else {})
    compare("submission", _mode(before), _mode(after))
    if before and after:
        for key in ("form", "external_url", "digest"):
            compare(f"submission.{key}", before.get(key), after.get(key))
        for key in ("fields", "exports_to"):  # long, or never published: only that they changed
            if before.get(key) != after.get(key):
                changes.append(Change(f"submission.{key}"))
    docs_before, docs_after = _entries(old.get("documents"), "file"), _entries(new.get("documents"), "file")
    compare("documents", [{"file": k, "title": _text(v.get("title"))} for k, v in docs_before.items()],
            [{"file": k, "title": _text(v.get("title"))} for k, v in docs_after.items()])
    changes += [Change(f"documents.{name}") for name in sorted(updated_files) if name in docs_after]
    compare("questions", [{"question": _text(q), "answer": _text(e.get("answer"))}
                          for q, e in _entries(old.get("questions"), "question").items()],
            [{"question": _text(q), "answer": _text(e.get("answer"))}
             for q, e in _entries(new.get("questions"), "question").items()])
    compare("amendments", [_text(e.get("summary")) for e in _as_list(old.get("amendments")) if isinstance(e, dict)],
            [_text(e.get("summary")) for e in _as_list(new.get("amendments")) if isinstance(e, dict)])
    if old.body != new.body:
        changes.append(Change("body"))
    return tuple(changes)


def _mode(submission: dict) -> str | None:
    if not submission:
        return None
    return "external_url" if submission.get("external_url") else "form"


def _iso_day(value):
    if value is None:
        return None
    try:
        return parse_date(value).isoformat()
    except DateError:
        return str(value)


def _iso_moment(value, tz_name, **options):
    if value is None or value == "":
        return None
    try:
        return parse_datetime(value, zone(tz_name), **options).isoformat()
    except DateError:
        return str(value)


def _text(value) -> str:
    return "" if value is None else " ".join(str(value).split())


def _value(label, old, new, show, old_tz=None, new_tz=None) -> list[str]:
    """`label : before → after`, or nothing when both read the same (2027-01-15T12:00 and 12:00:00)."""
    if old == new:
        return []
    before = NO_VALUE if old is None else show(old, old_tz)
    after = NO_VALUE if new is None else show(new, new_tz)
    return [f"{label} : {before} → {after}"] if before != after else []


def _moment(value, tz_name, *, date_only_time=None) -> str:
    """A date-time as the call page shows it, in the call's time zone; the raw text if unreadable."""
    try:
        return french_datetime(parse_datetime(value, zone(tz_name), date_only_time=date_only_time),
                               with_zone=False)
    except DateError:
        return str(value)


def _day(value, _tz=None) -> str:
    try:
        return french_date(parse_date(value))
    except DateError:
        return str(value)


def _dates(old: Version, new: Version) -> list[str]:
    changes = _value("Date de publication", old.get("published"), new.get("published"), _day)
    for key, label, options in (("opens", "Ouverture des réponses", {"date_only_time": dt.time(0, 0)}),
                                ("closes", "Date limite", {}),
                                ("questions_until", "Date limite des questions", {})):
        changes += _value(label, old.get(key), new.get(key),
                          lambda v, tz, o=options: _moment(v, tz, **o), old.timezone, new.timezone)
    if old.timezone != new.timezone:
        changes.append(f"Fuseau horaire : {old.timezone} → {new.timezone}")
    return changes


def _as_list(value) -> list:
    return value if isinstance(value, list) else []


def _keys(label, old, new, labels) -> list[str]:
    before, after = [str(v) for v in _as_list(old)], [str(v) for v in _as_list(new)]
    return ([f"{label} ajouté : {labels.get(k, k)}" for k in after if k not in before]
            + [f"{label} retiré : {labels.get(k, k)}" for k in before if k not in after])


def _submission(old, new) -> list[str]:
    old, new = (old if isinstance(old, dict) else {}), (new if isinstance(new, dict) else {})
    if old == new:
        return []
    if not old:
        return ["Réponses désormais possibles"]
    if not new:
        return ["Réponses en ligne retirées"]
    changes = _value("Formulaire de réponse", old.get("form"), new.get("form"), lambda v, _: str(v))
    if old.get("fields") != new.get("fields"):
        changes.append("Formulaire de réponse modifié")
    changes += _value("Réponse sur la plateforme des marchés publics", old.get("external_url"),
                      new.get("external_url"), lambda v, _: str(v))
    if old.get("exports_to") != new.get("exports_to"):
        changes.append("Destinataires des réponses modifiés")
    changes += _value("Envoi des réponses avant la clôture", old.get("digest"), new.get("digest"),
                      lambda v, _: DIGEST_LABELS.get(str(v), str(v)))
    return changes


def _entries(value, key) -> dict:
    """Entries of a list of mappings, by the key that identifies them."""
    return {str(e.get(key)): e for e in _as_list(value) if isinstance(e, dict) and e.get(key) is not None}


def _documents(old, new, updated_files) -> list[str]:
    before, after = _entries(old, "file"), _entries(new, "file")
    changes = []
    for name, entry in after.items():
        title = _text(entry.get("title")) or name
        if name not in before:
            changes.append(f"Document ajouté : {title}")
        elif _text(before[name].get("title")) != _text(entry.get("title")):
            changes.append(f"Document renommé : {_text(before[name].get('title'))} → {title}")
        elif name in updated_files:
            changes.append(f"Document mis à jour : {title}")
    changes += [f"Document retiré : {_text(e.get('title')) or name}" for name, e in before.items() if name not in after]
    return changes


def _questions(old, new) -> list[str]:
    before, after = _entries(old, "question"), _entries(new, "question")
    changes = []
    for question, entry in after.items():
        if question not in before:
            changes.append(f"Question publiée : {_text(question)}")
        elif _text(before[question].get("answer")) != _text(entry.get("answer")):
            changes.append(f"Réponse modifiée : {_text(question)}")
    changes += [f"Question retirée : {_text(q)}" for q in before if q not in after]
    return changes


def _amendments(old, new) -> list[str]:
    def notes(value):
        return [(str(e.get("date")), _text(e.get("summary"))) for e in _as_list(value) if isinstance(e, dict)]
    before, after = notes(old), notes(new)
    return ([f"Note de modification : {summary}" for date, summary in after if (date, summary) not in before]
            + [f"Note de modification retirée : {summary}" for date, summary in before
               if (date, summary) not in after])


# --- history from git -------------------------------------------------------------------------

UNAVAILABLE = CallHistory(available=False)


@dataclass
class History:
    """Histories of every call, by folder relative to `calls/` (e.g. `capteurs-air`)."""

    available: bool
    reason: str = ""
    calls: dict[str, CallHistory] = field(default_factory=dict)

    def of(self, folder: str) -> CallHistory:
        if not self.available:
            return UNAVAILABLE
        return self.calls.get(folder, CallHistory(available=True))


@dataclass
class _Change:
    status: str
    path: str
    old_path: str
    blob: str


@dataclass
class _Event:
    commit: str
    date: dt.datetime
    folder: str
    blob: str | None
    updated_files: set = field(default_factory=set)
    old_folder: str = ""


def git(args: list[str], cwd: str, *, input: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(["git", "-c", "core.quotePath=false", *args], cwd=cwd, input=input,
                                capture_output=True, timeout=GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        raise HistoryError(f"git indisponible : {exc}") from exc
    if result.returncode != 0:
        raise HistoryError(result.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} a échoué")
    return result.stdout


def repository_state(path: str) -> str:
    """"" when `path` has a full git history, otherwise why the history is unavailable."""
    try:
        shallow = git(["rev-parse", "--is-shallow-repository"], path).decode().strip()
    except HistoryError:
        return "no git repository"
    if shallow == "true":
        return "shallow clone"
    try:
        git(["rev-parse", "--verify", "--quiet", "HEAD"], path)
    except HistoryError:
        return "no commit yet"
    return ""


def read_history(calls_path: str, registries: Registries | None = None) -> History:
    """Every call's history from one `git log` over `calls/` (first-parent: a merged pull request
    is one public change, dated when it landed)."""
    reason = repository_state(calls_path)
    if reason:
        return History(available=False, reason=reason)
    log = git(["log", "--reverse", "--first-parent", "--diff-merges=first-parent", "--raw", "--no-abbrev",
               "-M", "--relative", "--format=%x1e%H %cI", "--", "."], calls_path)
    tracks = _tracks(_commits(log.decode("utf-8", "replace")))
    # A call never changed since publication (most of them) needs no old version read or parsed.
    blobs = read_blobs({e.blob for events in tracks.values() if len(events) > 1 for e in events if e.blob},
                       calls_path)
    versions: dict[str, Version] = {}
    calls = {}
    for folder, events in tracks.items():
        entries = [HistoryEntry(events[0].date, events[0].commit, (PUBLISHED,), publication=True)]
        previous = None
        for event in events[1:]:
            previous = previous or _version(versions, blobs, events[0].blob)
            current = _version(versions, blobs, event.blob) if event.blob else previous
            where = {"old_folder": event.old_folder, "new_folder": event.folder, "updated_files": event.updated_files}
            changes = describe_changes(previous, current, registries=registries, **where)
            entries.append(HistoryEntry(event.date, event.commit, tuple(changes or [NO_VISIBLE_CHANGE]),
                                        changed_fields(previous, current, **where)))
            previous = current
        calls[folder] = CallHistory(available=True, entries=tuple(entries))
    return History(available=True, calls=calls)


def _version(versions: dict, blobs: dict, blob: str) -> Version:
    """Each distinct text is parsed once (a reverted change brings back a known text)."""
    if blob not in versions:
        versions[blob] = Version.parse(blobs[blob])
    return versions[blob]


def _commits(log: str):
    """(commit, date, changes) from `git log --raw --format=%x1e%H %cI` output."""
    for record in log.split("\x1e")[1:]:
        header, _, raw = record.partition("\n")
        commit, date = header.split(" ", 1)
        yield commit, dt.datetime.fromisoformat(date.strip()), _raw_changes(raw)


def _raw_changes(raw: str) -> list[_Change]:
    """The file changes of `git log --raw` / `git diff --raw` output."""
    changes = []
    for line in raw.splitlines():
        if not line.startswith(":"):
            continue
        meta, *paths = line.split("\t")
        _, _, _, blob, status = meta[1:].split(" ")
        changes.append(_Change(status, paths[-1], paths[0], blob))
    return changes


def _tracks(commits) -> dict[str, list[_Event]]:
    """The events of each call folder still present at HEAD, following renamed folders."""
    live: dict[str, list[_Event]] = {}
    for commit, date, changes in commits:
        touched: dict[str, _Event] = {}
        for change in sorted(changes, key=lambda c: os.path.basename(c.path) != CALL_FILE):
            folder, name = os.path.split(change.path)
            kind = change.status[0]
            if name == CALL_FILE:
                old_folder = os.path.dirname(change.old_path)
                if kind == "D":
                    live.pop(folder, None)
                    continue
                if kind == "R":
                    events = live.pop(old_folder, [])
                    live[folder] = events
                else:
                    events = live.setdefault(folder, [])
                event = _Event(commit, date, folder, change.blob, old_folder=old_folder if kind == "R" else "")
                events.append(event)
                touched[folder] = event
            elif folder in live and not (kind == "R" and change.status == "R100"):
                event = touched.get(folder)
                if event is None:
                    event = touched[folder] = _Event(commit, date, folder, None)
                    live[folder].append(event)
                event.updated_files.add(name)
    return live


def read_blobs(blobs, cwd: str = ".") -> dict[str, str]:
    """The text of many git objects in one `git cat-file --batch` process."""
    names = sorted(blobs)
    if not names:
        return {}
    out = git(["cat-file", "--batch"], cwd, input="".join(f"{n}\n" for n in names).encode())
    texts, position = {}, 0
    for name in names:
        end = out.index(b"\n", position)
        header = out[position:end].decode().split(" ")
        position = end + 1
        if header[-1] == "missing":
            texts[name] = ""
            continue
        size = int(header[2])
        texts[name] = out[position:position + size].decode("utf-8", "replace")
        position += size + 1
    return texts


# --- what a pull request changes --------------------------------------------------------------

@dataclass(frozen=True)
class CallChange:
    """One call touched by a pull request: its folder, title and what changed."""

    folder: str
    title: str
    changes: tuple[str, ...] = ()


@dataclass
class CallsDiff:
    added: list[CallChange] = field(default_factory=list)
    amended: list[CallChange] = field(default_factory=list)
    closed: list[CallChange] = field(default_factory=list)
    removed: list[CallChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.amended or self.closed or self.removed)


def diff_calls(calls_path: str, base: str, *, registries: Registries | None = None,
               now: dt.datetime | None = None) -> CallsDiff:
    """Compare the calls where the branch left `base` with the working tree (what a pull request
    publishes; later changes on `base` are not the pull request's).

    A call whose deadline moves from the future to the past is listed as closed, not amended."""
    now = now or dt.datetime.now(dt.timezone.utc)
    try:
        base = git(["merge-base", base, "HEAD"], calls_path).decode().strip()
    except HistoryError:
        pass
    listing = git(["ls-tree", "-r", "--no-abbrev", base, "--", "."], calls_path).decode("utf-8", "replace")
    before = {}
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        folder, name = os.path.split(path)
        if name == CALL_FILE:
            before[folder] = meta.split(" ")[2]
    renamed, updated = {}, {}
    raw = git(["diff", "--raw", "--no-abbrev", "-M", "--relative", base, "--", "."], calls_path)
    for change in _raw_changes(raw.decode("utf-8", "replace")):
        folder, name = os.path.split(change.path)
        if name == CALL_FILE and change.status.startswith("R"):
            renamed[folder] = os.path.dirname(change.old_path)
        elif name != CALL_FILE and change.status != "R100":
            updated.setdefault(folder, set()).add(name)
    texts = read_blobs(set(before.values()), calls_path)
    old = {folder: Version.parse(texts[blob]) for folder, blob in before.items()}
    new = {}
    for path in find_calls(calls_path):
        with open(path, encoding="utf-8") as handle:
            new[os.path.relpath(os.path.dirname(path), calls_path)] = Version.parse(handle.read())

    diff = CallsDiff()
    matched = set()
    for folder, version in sorted(new.items()):
        previous_folder = folder if folder in old else renamed.get(folder)
        title = _text(version.get("title")) or folder
        if previous_folder not in old:
            diff.added.append(CallChange(folder, title, _outline(version, registries)))
            continue
        matched.add(previous_folder)
        previous = old[previous_folder]
        changes = describe_changes(previous, version, registries=registries, old_folder=previous_folder,
                                   new_folder=folder, updated_files=updated.get(folder, ()))
        if not changes:
            continue
        if _closes(previous) > now >= _closes(version):
            diff.closed.append(CallChange(folder, title, tuple(changes)))
        else:
            diff.amended.append(CallChange(folder, title, tuple(changes)))
    diff.removed = [CallChange(folder, _text(version.get("title")) or folder)
                    for folder, version in sorted(old.items()) if folder not in matched and folder not in new]
    return diff


def _closes(version: Version) -> dt.datetime:
    """The deadline of a version; a call without a readable one never closes."""
    try:
        return parse_datetime(version.get("closes"), zone(version.timezone))
    except (DateError, TypeError):
        return dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def _outline(version: Version, registries: Registries | None) -> tuple[str, ...]:
    registries = registries or Registries()
    kind, partner = str(version.get("type")), str(version.get("partner"))
    lines = [f"{CALL_TYPES[kind].label if kind in CALL_TYPES else kind} – "
             f"{registries.partners[partner].name if partner in registries.partners else partner}"]
    if version.get("closes") is not None:
        lines.append(f"Date limite : {_moment(version.get('closes'), version.timezone)}")
    return tuple(lines)


DIFF_MARKER = "<!-- calls-diff -->"


def diff_markdown(diff: CallsDiff, base: str, *, preview: str = "", problems=()) -> str:
    """The pull request comment: what this change publishes, in words staff and reviewers read,
    with a link to its preview (`preview`, the address of the site built from the branch), or
    every error `calls check` found (`problems`), in which case there is no preview."""
    lines = [DIFF_MARKER, f"### Appels concernés par cette demande (par rapport à `{base}`)", ""]
    if problems:
        count = len(problems)
        lines += [f"**{count} erreur{'s' if count > 1 else ''} à corriger** : rien ne peut être publié, et l'aperçu "
                  "n'est pas construit, tant qu'il en reste. Chaque ligne dit le fichier, la ligne, l'information "
                  "et quoi faire :", "", "```", *map(str, problems), "```", ""]
    elif preview:
        lines += [f"**Aperçu du site avec cette demande : {preview}/**", ""]
    if not diff:
        lines.append("Aucun appel ajouté, modifié, clos ou retiré.")
    for label, calls in (("Nouveaux appels", diff.added), ("Appels modifiés", diff.amended),
                         ("Appels clos avant la date prévue", diff.closed), ("Appels retirés", diff.removed)):
        if not calls:
            continue
        lines += [f"#### {label} ({len(calls)})", ""]
        for call in calls:
            link = (f" – [aperçu]({urls.call_url(preview, os.path.basename(call.folder))})"
                    if preview and not problems and calls is not diff.removed else "")
            lines.append(f"- **{call.title}** (`calls/{call.folder}/`){link}")
            lines += [f"  - {change}" for change in call.changes]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


class BuildInfo:
    """The commit the catalogue was built from (the version a receipt names), and whether the calls
    differ from it, asked of git while the calls are read.

    `git status` looks at every file (0.1-0.3 s at 10,000 calls). A long-running process passes
    what the previous build learnt (`known`: its commit and the files git said differ) and the
    files a watcher saw change since (`changed`): git is then asked about those files only, unless
    the commit changed."""

    STATUS = ("status", "--porcelain", "-z", "--untracked-files=normal", "--")

    def __init__(self, path: str, *, known: dict | None = None, changed=None):
        self.path, self.known = os.path.abspath(path), known
        self.commit, self.paths = None, None  # the files that differ, for the next build
        self.partial = bool(known and known["path"] == self.path and known["commit"] and changed is not None)
        self.changed = [p for p in map(os.path.abspath, changed or ())
                        if os.path.commonpath([p, self.path]) == self.path]
        self.processes = [self._git("rev-parse", "HEAD", "--show-toplevel")]
        if not self.partial or self.changed:
            self.processes.append(self._git(*self.STATUS, *(self.changed if self.partial else ["."])))

    def result(self) -> dict:
        answers = [self._answer(process) for process in self.processes]
        if answers[0] is None:
            return {"commit": None, "modified": None}
        commit, _, top = answers[0].decode().strip().partition("\n")
        status = answers[1] if len(answers) > 1 else b""
        if self.partial and commit != self.known["commit"]:  # a new commit: ask about every file
            self.partial = False
            status = self._answer(self._git(*self.STATUS, "."))
        if status is None:
            return {"commit": commit, "modified": None}
        found = set(_status_paths(status))
        if self.partial:  # what git said before of the files not changed since
            asked = [os.path.relpath(p, top).replace(os.sep, "/") for p in self.changed]
            found |= {p for p in self.known["paths"] if not any(p == a or p.startswith(a + "/") for a in asked)}
        self.commit, self.paths = commit, found
        return {"commit": commit, "modified": bool(found)}

    def known_now(self) -> dict | None:
        """What the next build of this process passes as `known`."""
        return None if self.paths is None else {"path": self.path, "commit": self.commit, "paths": self.paths}

    def _git(self, *args):
        try:
            return subprocess.Popen(["git", *args], cwd=self.path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            return None

    @staticmethod
    def _answer(process) -> bytes | None:
        if process is None:
            return None
        try:
            out, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None
        return out if process.returncode == 0 else None


def _status_paths(output: bytes):
    """The paths of `git status --porcelain -z` (relative to the repository's top), a renamed
    file's both names."""
    entries = output.decode("utf-8", "surrogateescape").split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        yield entry[3:]
        if entry[0] in "RC":  # the name it had follows
            yield entries[index]
            index += 1
