"""The Pelican generator of the catalogue: call pages, listings, open data.

`generate_context` reads and validates every call and refuses an invalid catalogue before
anything is written; `generate_output` renders pages and data files.

Every page is made from a key: what it shows (its calls' keys, their statuses and days left, its
counts) and what the whole site shares (templates, our code, registries, settings). A page whose key
is the one the output folder's manifest holds is not rendered again (generator.output), so a change
renders the pages that show it and nothing else; docs/incremental-build.md says how a change finds them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import os
from collections import defaultdict

import jinja2
import pelican
from jinja2 import FileSystemBytecodeCache
from pelican.generators import Generator
from pelican.writers import Writer

from callmodel import french, record, urls
from callmodel.dates import DEFAULT_TIMEZONE, parse_instant, utc_now, zone
from callmodel.schema import AUDIENCES, CALL_TYPES, STATUSES, Call
from callmodel.status import count_changes, next_change, status_data

from . import editor, history, opendata, search
from .output import Output, digest, key_of
from .parallel import Background, in_two, worth_it
from .reader import InvalidCatalogue
from .session import Session, history_of, read_calls
from .settings import cache_path, calls_path, options, private_path, site_path, template_cache_path

log = logging.getLogger(__name__)

# Settings that change from one build to the next without changing what a page shows.
VOLATILE_SETTINGS = {"CALLS_NOW", "CALLS_PROGRESS", "CALLS_SESSION", "CALLS_TEMPLATE_CACHE_PATH", "OUTPUT_PATH",
                     "PLUGINS", "PLUGIN_PATHS"}
# How many future status changes a page with counts carries for its script.
COUNT_CHANGES = 200


def order_open(calls):
    """Soonest deadline first; notices without a deadline last."""
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    return sorted(calls, key=lambda c: (c.closes or far, c.title))


def deadline_text(call: Call, status: str) -> str:
    """What a card, a call page and a search result say of the deadline (as of the build)."""
    if status == "upcoming":
        return f"Ouverture le {french.french_datetime(call.opens)}"
    if call.closes is None:
        return "Sans date limite"
    if status == "closed":
        return f"Clos le {french.french_datetime(call.closes)}"
    return f"Date limite : {french.french_datetime(call.closes)}"


def page_file(path: str) -> str:
    """The file of a page address (`appels/x/` is `appels/x/index.html`)."""
    return path + "index.html" if path.endswith("/") or not path else path


def folder_digest(folder: str) -> bytes:
    parts = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            with open(os.path.join(root, name), "rb") as handle:
                parts.append((os.path.relpath(os.path.join(root, name), folder), digest(handle.read())))
    return key_of(parts)


def plain(value):
    """The settings that say what a page shows, as plain data (objects and functions left out)."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return None


class CallsGenerator(Generator):
    """Reads `calls/` and writes everything a call appears in."""

    def generate_context(self):
        self.options = options(self.settings)
        self.session: Session = self.settings.get("CALLS_SESSION") or Session(Output(self.output_path, None))
        self.out = self.session.output
        self.memory = self.session.memory if self.session.memory is not None else {}
        calls_folder = calls_path(self.settings)
        self.now = parse_instant(self.options["CALLS_NOW"]) if self.options["CALLS_NOW"] else utc_now()
        read = self.session.read
        if read is None or read.where != (self.path, calls_folder, cache_path(self.settings)):
            read = read_calls(self.settings, self.session, progress=self.options["CALLS_PROGRESS"])
        self.read, self.catalogue = read, read.catalogue
        self.memory["read"] = self.catalogue.cache
        self.build = read.commit
        if not self.catalogue.ok:
            raise InvalidCatalogue(self.catalogue.problems)
        self.site = (self.settings.get("SITEURL") or self.options["SITE_ABSOLUTE_URL"]).rstrip("/")
        self.forms = self.options["FORMSERVICE_URL"].rstrip("/")
        self.base = site_path(self.settings)
        if self.options["CALLS_HISTORY"]:
            found = self.history(calls_folder)
            if not found.available:
                log.warning("calls: history of changes unavailable (%s)", found.reason)
            before, after = self.memory.get("with_history", {}), {}
            prefix = os.path.join(calls_folder, "")
            calls = []
            for call in self.catalogue.calls:
                entries = found.of(call.folder[len(prefix):])
                kept = before.get(call.slug)
                if kept is None or kept[0] is not call or kept[1] != entries:
                    kept = (call, entries, call.with_history(entries))
                after[call.slug] = kept
                calls.append(kept[2])
            self.memory["with_history"] = after
            self.catalogue.calls = calls
        self.keys = self.memo("call_keys", (
            (self.catalogue.keys[call.slug], call.version, None if call.history is None else call.history.available)
            for call in self.catalogue.calls), lambda parts: key_of(*parts))
        self.keys = dict(zip((call.slug for call in self.catalogue.calls), self.keys))
        self.context["calls_catalogue"] = self.catalogue
        self.session.catalogue, self.session.now = self.catalogue, self.now
        self.session.next_change = next_change(self.catalogue.calls, self.now)
        log.info("calls: %d calls read from %s", len(self.catalogue.calls), calls_folder)

    def history(self, calls_folder: str) -> history.History:
        """Every call's history; the same commit of the same calls gives the same history."""
        key = (calls_folder, self.build["commit"], self.build["commit"] and self.catalogue.cache.key)
        kept = self.memory.get("history")
        if kept and kept[0] == key and key[1]:
            return kept[1]
        found = history_of(self.read) or history.read_history(calls_folder, self.catalogue.registries)
        self.memory["history"] = (key, found)
        return found

    # -- helpers for templates --------------------------------------------------------------

    def link(self, path: str) -> str:
        return f"{self.base}/{path}"

    def days_left(self, call: Call) -> str:
        return french.days_left_text(call.closes, self.now)

    def template_globals(self) -> dict:
        reg = self.catalogue.registries
        return {
            "FORMS_URL": self.forms,
            "now": self.now,
            "now_local": self.now.astimezone(zone(self.settings.get("TIMEZONE") or DEFAULT_TIMEZONE)),
            "link": self.link,
            "urls": urls,
            "CALL_TYPES": CALL_TYPES,
            "AUDIENCES": AUDIENCES,
            "STATUSES": STATUSES,
            "PARTNERS": reg.partners,
            "THEMES": reg.themes,
            "call_link": lambda call: self.link(urls.CALL.format(slug=call.slug)),
            "status_of": lambda call: call.status(self.now),
            "status_data": status_data,
            "deadline_text": deadline_text,
            "days_left": self.days_left,
            "build": self.build,
        }

    def site_key(self) -> bytes:
        """What every page shares: templates, our code and the registries (the read cache's key),
        the versions of Pelican and Jinja, the settings, and where the site and the form service live."""
        templates = [folder_digest(os.path.join(self.theme, "templates"))]
        templates += [folder_digest(p) for p in self.settings.get("THEME_TEMPLATES_OVERRIDES", [])]
        settings = {k: plain(v) for k, v in self.settings.items() if k not in VOLATILE_SETTINGS}
        return key_of(templates, self.catalogue.cache.key, pelican.__version__, jinja2.__version__, settings,
                      self.site, self.forms, self.base)

    def memo(self, name: str, values, make) -> list:
        """`make(value)` for each value, kept in memory from one build of this process to the next
        while the value is the same (keys of keys: a rebuild computes only the changed calls')."""
        before, after = self.memory.get(name, {}), {}
        result = []
        for value in values:
            made = before[value] if value in before else make(value)
            after[value] = made
            result.append(made)
        self.memory[name] = after
        return result

    def status_keys_of(self, calls) -> None:
        """What a page shows of each call: its text (its key), its status and days left."""
        parts = []
        for call in calls:
            status = self.statuses[call.slug]
            parts.append((self.keys[call.slug], status,
                          self.days_left(call) if status == "open" and call.closes else None,
                          call.questions_open(self.now)))
        self.status_keys = dict(zip((c.slug for c in calls), self.memo("status_keys", parts, lambda p: key_of(*p))))
        self.call_page_keys = dict(zip((c.slug for c in calls), self.memo(
            "call_pages", ((self.common, key) for key in self.status_keys.values()),
            lambda parts: key_of(self.site, parts[0], "call", parts[1]))))

    def status_key(self, call: Call) -> bytes:
        return self.status_keys[call.slug]

    def page(self, template: str, path: str, key: tuple, values=dict) -> None:
        """Render `template` at `path` with `values()` unless the page there was made from the same
        `key` (the values are made only for a page that is rendered)."""
        target = page_file(path)
        self.pages.append(path)
        key = key_of(self.site, self.common, template, path, key)
        if not self.out.unchanged(target, key):
            self.out.write(target, self.get_template(template).render(**self.globals, **values()), key)

    def write(self, path: str, data) -> None:
        self.out.write(page_file(path), data)

    def write_private(self, path: str, text: str) -> None:
        """A file for the form service only, outside the published site (replaced atomically)."""
        target = os.path.join(private_path(self.settings), path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = f"{target}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)

    # -- output ------------------------------------------------------------------------------

    def generate_output(self, writer):
        self.env.filters.update(fdate=french.french_date, fdatetime=french.french_datetime,
                                ftime=french.french_time, filesize=french.french_size)
        self.globals = {**self.context, **self.template_globals()}
        self.common = self.site_key()
        self.pages: list[str] = []
        calls = self.catalogue.calls
        reg = self.catalogue.registries
        now = self.now
        self.statuses = {call.slug: call.status(now) for call in calls}
        by_status = defaultdict(list)
        for call in calls:
            by_status[self.statuses[call.slug]].append(call)
        open_calls = order_open(by_status["open"])
        upcoming = sorted(by_status["upcoming"], key=lambda c: (c.opens, c.title))
        closed = sorted(by_status["closed"], key=lambda c: c.closes or c.opens, reverse=True)
        # Every listing's order: open (soonest deadline first), upcoming (soonest opening), closed
        # (latest first); a facet's calls are taken in this order, so they need no sort of their own.
        ordered = open_calls + upcoming + closed

        facets = {"type": {k: [] for k in CALL_TYPES}, "theme": {k: [] for k in reg.themes},
                  "partner": {k: [] for k in reg.partners}}
        for call in ordered:
            facets["type"][call.type].append(call)
            facets["partner"][call.partner].append(call)
            for theme in call.themes:
                facets["theme"][theme].append(call)

        self.status_keys_of(calls)
        self.theme_static()
        todo = self.call_pages_to_make(calls)
        forks = worth_it(len(todo))
        self.finish_search = None
        if not forks:
            self.start_search(calls)
        # A forked child makes call pages while this process starts the search index and makes the
        # listings and data files, then both share what is left.
        self.finish_data = None
        try:
            self.call_pages(todo, meanwhile=lambda: self.listings_and_data(
                calls, open_calls, upcoming, closed, facets, index_now=forks))
        except BaseException:
            for finish in (self.finish_search, self.finish_data):  # their children are waited for all the same
                if finish:
                    with contextlib.suppress(Exception):
                        finish()
            raise
        self.finish_data()
        if self.finish_search:
            self.session.search = self.finish_search()

    def listings_and_data(self, calls, open_calls, upcoming, closed, facets, *, index_now: bool) -> None:
        """Everything but the call pages: home page, listings, feeds, calendars, data files."""
        if index_now:
            self.start_search(calls)
        reg = self.catalogue.registries
        now = self.now
        macros = self.env.get_template("_macros.html").make_module(self.globals)
        self.kept_cards, self.cards = self.memory.get("cards", {}), {}
        self.atom_entries: dict[str, tuple] = {}
        self.listing_keys: dict[str, bytes] = {}
        self.newest_first = {call.slug: n for n, call in enumerate(
            sorted(calls, key=lambda c: (c.published, c.slug), reverse=True))}
        self.macros = macros
        saved = self.out.extra.get("cards", {})
        known = saved.get("digests", {}) if saved.get("common") == self.common else {}
        self.card_digests = {call.slug: self.card_digest(call, known) for call in calls}
        self.session.cards = {"common": self.common,
                              "digests": {self.status_key(c): self.card_digests[c.slug] for c in calls}}
        self.count_changes = {status: " ".join(f"{int(m.timestamp())}:{d:+d}" for m, d in moves)
                              for status, moves in count_changes(calls, now, COUNT_CHANGES).items()}
        on_home = self.options["CALLS_ON_HOME"]
        self.page("index", "", (self.card_keys(open_calls[:on_home]), self.card_keys(upcoming[:on_home]),
                                len(open_calls), len(upcoming), len(closed), self.count_changes),
                  lambda: dict(open_calls=self.card_list(open_calls[:on_home], 3), open_count=len(open_calls),
                               upcoming=self.card_list(upcoming[:on_home], 3), upcoming_count=len(upcoming),
                               closed_count=len(closed), count_changes=self.count_changes,
                               feeds=[("Tous les appels (Atom)", urls.FEED_ALL)],
                               calendars=[("Toutes les échéances", urls.ICS_ALL)]))
        self.listing(urls.OPEN, "Appels ouverts", open_calls,
                     "Les appels ouverts aux réponses, la date limite la plus proche d'abord.", status="open")
        self.listing(urls.UPCOMING, "Appels à venir", upcoming, "Les appels publiés qui ne sont pas encore ouverts.",
                     status="upcoming")
        self.listing(urls.ARCHIVE, "Archives des appels clos", closed, "Les appels clos, les plus récents d'abord.",
                     status="closed")
        labels = {"type": lambda k: CALL_TYPES[k].plural, "theme": lambda k: f"Thème : {reg.themes[k]}",
                  "partner": lambda k: reg.partners[k].name}
        events = self.deadline_events(calls)
        for kind, groups in facets.items():
            for key, group in sorted(groups.items()):
                path = urls.FACETS[kind].format(key=key)
                title = labels[kind](key)
                self.listing(path, title, group, self.facet_description(kind, key),
                             feeds=[(f"{title} (Atom)", urls.feed(kind, key))],
                             calendars=[(f"Échéances : {title}", urls.ics(kind, key))], facet=(kind, key))
                self.feed(urls.feed(kind, key), group, f"{title} – {self.settings['SITENAME']}", path)
                self.write(urls.ics(kind, key), opendata.icalendar_file(group, events, name=f"Échéances : {title}"))
        self.memory["cards"] = self.cards
        self.session.listings = self.listing_keys
        counts = {k: {key: len(v) for key, v in g.items()} for k, g in facets.items()}
        self.page("partners", urls.PARTNERS, counts["partner"], lambda: dict(counts=counts["partner"]))
        self.page("search", urls.SEARCH, counts, lambda: dict(counts=counts, index=f"{self.base}/{search.ROOT}/"))
        self.page("opendata", urls.DATA, ())
        pages = self.context.get("pages", [])
        self.page("plan", urls.SITE_PLAN, [(p.url, p.title) for p in pages])
        self.page("404", "404.html", ())

        self.feed(urls.FEED_ALL, calls, f"Tous les appels – {self.settings['SITENAME']}", "")
        self.write(urls.ICS_ALL, opendata.icalendar_file(calls, events, name="Échéances des appels"))
        records, releases = self.records(calls), self.releases(calls)
        partners = {k: p.name for k, p in reg.partners.items()}
        self.data_files([
            (urls.CALLS_JSON, lambda: record.catalogue_json(calls, site=self.site, forms=self.forms, now=now,
                                                            themes=reg.themes, partners=partners, build=self.build,
                                                            records=records)),
            (urls.OCDS_JSON, lambda: opendata.ocds_package(releases, site=self.site, now=now,
                                                          publisher=self.options["PUBLISHER_NAME"]))])
        html = [p for p in self.pages if p.endswith("/") or p == ""] + [p.url for p in pages]
        self.write("sitemap.xml", opendata.sitemap(sorted(set(html)), self.site))
        self.write_private(urls.RECIPIENTS, record.recipients_json(calls, build=self.build))
        with open(record.SCHEMA_PATH, encoding="utf-8") as schema:
            self.write(urls.CALLS_SCHEMA, schema.read())
        self.write("robots.txt", f"User-agent: *\nAllow: /\nSitemap: {self.site}/sitemap.xml\n")
        self.write_editor()

    def data_files(self, files) -> None:
        """calls.json and OCDS (paths and makers), joined from what each call shows of itself, made
        here and kept (`records`, `releases`): in a rebuild of many calls, by a forked child while
        this process goes on (30 MB to join, digest and write at 10,000 calls)."""
        job = Background(lambda: [self.made(path, make(), None) for path, make in files],
                         fork=self.out.warm and worth_it(len(self.catalogue.calls)))
        self.finish_data = lambda: self.recorded(job.result())

    def write_editor(self) -> None:
        """The call editor at /admin/ (generator.editor): its configuration from the call model and
        the registries, its page, and Decap CMS's files (read again only when they change)."""
        config = editor.editor_config(
            self.catalogue.registries, calls_folder=os.path.relpath(calls_path(self.settings), os.path.dirname(self.path)),
            backend=self.options["CALLS_EDITOR_BACKEND"], local_backend=self.options["CALLS_EDITOR_LOCAL_BACKEND"],
            site_url=self.site, logo=f"{self.base}/{self.settings['THEME_STATIC_DIR']}/favicon.svg")
        self.write(f"{urls.EDITOR}config.yml", editor.config_yaml(config))
        self.page("admin", f"{urls.EDITOR}index.html", (),
                  lambda: dict(labels=editor.preview_labels(self.catalogue.registries)))
        for path in editor.assets(self.options["CALLS_EDITOR_ASSETS"] or editor.DEFAULT_ASSETS):
            target, stat = urls.EDITOR + os.path.basename(path), os.stat(path)
            key = key_of(path, stat.st_size, stat.st_mtime_ns)
            if not self.out.unchanged(target, key):
                self.out.copy(target, path, key)

    def theme_static(self) -> None:
        """The theme's CSS, script and icons, written when their bytes change (Pelican's own copy,
        THEME_STATIC_PATHS, is turned off by generator.build)."""
        source = os.path.join(self.theme, "static")
        target = self.settings["THEME_STATIC_DIR"]
        for root, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(files):
                with open(os.path.join(root, name), "rb") as handle:
                    relative = os.path.relpath(os.path.join(root, name), source).replace(os.sep, "/")
                    self.out.write(f"{target}/{relative}", handle.read())

    def start_search(self, calls) -> None:
        """The search index, made meanwhile by a forked child when there are many calls to index."""
        if self.session.index:
            records = self.search_records(calls)
            job = search.update(self.out, records, self.out.extra.get("search", {}),
                                keep=self.session.memory is not None)
            self.finish_search = lambda: search.finish(self.out, records, job)

    def call_pages_to_make(self, calls) -> list[tuple]:
        """The calls whose page (key) or documents (None) must be made again; the others are kept."""
        todo = []
        for call in calls:
            path = urls.CALL.format(slug=call.slug)
            self.pages.append(path)
            key = self.call_page_keys[call.slug]
            if not self.out.unchanged(page_file(path), key):
                todo.append((call, key))
            documents = [self.out.unchanged(path + d.file, self.keys[call.slug]) for d in call.documents]
            if not all(documents):
                todo.append((call, None))
        return todo

    def call_pages(self, todo, meanwhile) -> None:
        """Each call's page and documents, on both cores when there are many to render, and
        `meanwhile()` in this process."""
        progress = self.options["CALLS_PROGRESS"]
        reg = self.catalogue.registries
        self.get_template("call")  # compiled once, before a fork shares it

        def render(batch):  # one result per item (in_two's rule): the files it made
            done = []
            for call, key in batch:
                path = urls.CALL.format(slug=call.slug)
                if key is None:
                    made = []
                    for document in call.documents:
                        with open(os.path.join(call.folder, document.file), "rb") as handle:
                            made.append(self.made(path + document.file, handle.read(), self.keys[call.slug]))
                    done.append(made)
                    continue
                html = self.get_template("call").render(
                    **self.globals, call=call, status=call.status(self.now), partner=reg.partners[call.partner],
                    jsonld=self.jsonld(call), history=call.history)
                done.append([self.made(page_file(path), html, key)])
            return done

        pages = (lambda done, total: progress(done, total, "pages")) if progress else None
        for made in in_two(render, todo, meanwhile=meanwhile, progress=pages):
            self.recorded(made)

    def made(self, path: str, data, key) -> tuple:
        """Write one file and say what the manifest records of it (a forked half sends it back)."""
        written = self.out.write(path, data, key)
        return path, self.out.files[path], written

    def recorded(self, made) -> None:
        """What another process `made` of this build's files, in the manifest."""
        for path, entry, written in made:
            self.out.record({path: entry}, [path] if written else [])

    def card(self, call: Call, level: int = 2) -> tuple[str, bytes]:
        """A call's card (markup) and its digest, rendered once and kept while the call's key holds."""
        key = (self.common, self.status_key(call), level)
        made = self.cards.get(key) or self.kept_cards.get(key)
        if made is None:
            html = self.macros.card(call, level)
            made = (html, digest(str(html).encode()))
        self.cards[key] = made
        return made

    def card_digest(self, call: Call, known: dict) -> bytes:
        """The digest of a call's card: from memory, from the previous build's manifest (a new
        process renders only the cards whose call changed), or rendered."""
        made = self.cards.get((self.common, self.status_key(call), 2)) or self.kept_cards.get(
            (self.common, self.status_key(call), 2))
        if made is None and self.status_key(call) in known:
            return known[self.status_key(call)]
        return (made or self.card(call))[1]

    def card_keys(self, calls) -> bytes:
        """What listings show of `calls`: their cards' bytes (a call whose card reads the same, its
        text edited, changes no listing)."""
        digests = self.card_digests
        return b"".join([digests[c.slug] for c in calls])

    def card_list(self, calls, level: int = 2) -> list:
        return [self.card(call, level)[0] for call in calls]

    def listing(self, path, title, calls, description, *, feeds=(), calendars=(), facet=None, status=None):
        """A paginated listing: never every call on one page. A page is rendered only when the cards
        it shows (or its counts) changed."""
        size = self.options["CALLS_PER_PAGE"]
        pages = max(1, -(-len(calls) // size))
        changes = self.count_changes.get(status, "") if status else ""
        paths = [urls.page(path, number) for number in range(1, pages + 1)]
        whole = key_of(self.common, title, description, self.card_keys(calls), size, feeds, calendars, facet,
                       status, changes)
        self.listing_keys[path] = whole
        if self.out.extra.get("listings", {}).get(path) == whole and self.out.keep(map(page_file, paths)):
            self.pages += paths  # no card of this listing changed: none of its pages is made again
            return
        for number in range(1, pages + 1):
            shown = calls[(number - 1) * size:number * size]
            self.page("listing", urls.page(path, number),
                      (title, description, self.card_keys(shown), len(calls), pages, feeds, calendars, facet, status,
                       changes),
                      lambda shown=shown, number=number: dict(
                          title=title, description=description, cards=self.card_list(shown), total=len(calls),
                          page_number=number, page_count=pages, page_link=lambda n: self.link(urls.page(path, n)),
                          feeds=feeds, calendars=calendars, facet=facet, listing_path=path, list_status=status,
                          count_changes=changes))

    def feed(self, path, calls, title, page_path) -> None:
        """An Atom feed of the most recent calls of a listing, made again only when they change."""
        position = self.newest_first
        recent = sorted(calls, key=lambda c: position[c.slug])[:opendata.FEED_SIZE]
        key = key_of(self.site, self.common, title, page_path, [self.keys[c.slug] for c in recent],
                     None if recent else self.now)
        if not self.out.unchanged(path, key):
            self.out.write(path, opendata.atom_feed([self.atom_entry(call) for call in recent], title=title,
                                                    site=self.site, feed_path=path, page_path=page_path, now=self.now),
                           key)

    def atom_entry(self, call: Call) -> tuple:
        """A call's Atom entry, made once for all the feeds it is in."""
        entry = self.atom_entries.get(call.slug)
        if entry is None:
            entry = self.atom_entries[call.slug] = opendata.atom_entry(call, site=self.site,
                                                                       partners=self.catalogue.registries.partners)
        return entry

    def kept(self, name: str, calls, make) -> list:
        """`make(call, status)` for each call, kept in memory by the call's status key from one build
        of this process to the next (`make serve`)."""
        before, after = self.memory.get(name, {}), {}
        result = []
        statuses, keys = self.statuses, self.status_keys  # a status key says the call and its status
        for call in calls:
            key = keys[call.slug]
            value = before[key] if key in before else make(call, statuses[call.slug])
            after[key] = value
            result.append(value)
        self.memory[name] = after
        return result

    def records(self, calls) -> list[str]:
        return self.kept(("records", self.site, self.forms), calls, lambda call, status: record.record_json(
            call, site=self.site, forms=self.forms, now=self.now))

    def releases(self, calls) -> list[tuple[str, str]]:
        reg = self.catalogue.registries
        return self.kept(("releases", self.site, self.build["commit"], self.options["OCDS_OCID_PREFIX"]), calls,
                         lambda call, status: opendata.ocds_release(
                             call, site=self.site, status=status, partners=reg.partners,
                             prefix=self.options["OCDS_OCID_PREFIX"], build=self.build))

    def deadline_events(self, calls) -> dict[str, bytes]:
        reg = self.catalogue.registries
        events = self.kept(("events", self.site), calls,
                           lambda call, status: opendata.deadline_event(call, site=self.site, partners=reg.partners))
        return opendata.stamped({call.slug: event for call, event in zip(calls, events) if event is not None},
                                self.now)

    def search_records(self, calls) -> dict[str, search.Record]:
        """Each call's search record (generator.search), made only if its shard is indexed."""
        reg = self.catalogue.registries

        def make(call, status):
            partner, themes = reg.partners[call.partner].name, {t: reg.themes[t] for t in call.themes}
            return search.Record(key_of(self.keys[call.slug], partner, themes),
                                 lambda: search.record(call, partner, themes))

        return dict(zip((c.slug for c in calls), self.kept("search", calls, make)))

    def facet_description(self, kind, key):
        reg = self.catalogue.registries
        if kind == "type":
            return CALL_TYPES[key].description
        if kind == "partner":
            return reg.partners[key].description
        return f"Les appels du thème « {reg.themes[key]} »."

    def jsonld(self, call: Call) -> dict:
        """schema.org: a call is a Demand (a public announcement of what an organisation seeks)."""
        partner = self.catalogue.registries.partners[call.partner]
        data = {
            "@context": "https://schema.org",
            "@type": "Demand",
            "name": call.title,
            "description": call.summary,
            "url": urls.call_url(self.site, call.slug),
            "validFrom": call.opens.isoformat(),
            "category": CALL_TYPES[call.type].label,
            "seller": {"@type": "Organization", "name": partner.name, **({"url": partner.url} if partner.url else {})},
        }
        if call.closes:
            data["validThrough"] = call.closes.isoformat()
        return data


class _Pending(io.StringIO):
    """A file Pelican writes into; its text goes to the Output when it is closed."""

    def __init__(self, output: Output, path: str):
        super().__init__()
        self.output, self.path = output, path

    def close(self):
        if not self.closed:
            self.output.write(self.path, self.getvalue())
        super().close()


class OutputWriter(Writer):
    """Pelican's writer (editorial pages), writing through the build's Output when there is one."""

    def _open_w(self, filename, encoding, override=False):
        session = self.settings.get("CALLS_SESSION")
        if session is None:
            return super()._open_w(filename, encoding, override)
        output = session.output
        if filename in self._written_files and not override:
            return super()._open_w(filename, encoding, override)
        self._written_files.add(filename)
        return _Pending(output, output.relative(filename))


def get_writer(pelican):
    return OutputWriter


def get_generators(pelican):
    return CallsGenerator


def theme_globals(generator):
    """Every generator's templates (Pelican's pages too) know where the site and its assets live,
    and are compiled once for all processes (settings.template_cache_path). Each build makes its
    own generators, so a template changed between two builds of `make serve` is read again."""
    base = site_path(generator.settings)
    generator.env.globals.update(SITE=base, STATIC=f"{base}/{generator.settings['THEME_STATIC_DIR']}")
    generator.env.auto_reload = False  # a build's templates do not change while it runs: no stat per page
    cache = template_cache_path(generator.settings)
    if cache:
        folder = os.path.join(cache, compiled_key(generator.env))
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:  # no cache folder to write in: templates are compiled by each process
            return
        generator.env.bytecode_cache = FileSystemBytecodeCache(folder)


def compiled_key(env: jinja2.Environment) -> str:
    """What a template's compiled code depends on besides its source (which Jinja's cache checks):
    Jinja's version and the environment's syntax and options."""
    def name(value):
        return getattr(value, "__qualname__", None) or repr(value)

    options = (jinja2.__version__, sorted(env.extensions), env.block_start_string, env.block_end_string,
               env.variable_start_string, env.variable_end_string, env.comment_start_string, env.comment_end_string,
               env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
               env.newline_sequence, env.keep_trailing_newline, env.optimized, name(env.autoescape), name(env.finalize))
    return key_of(*options).hex()
