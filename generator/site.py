"""The Pelican generator of the catalogue: call pages, listings, open data.

`generate_context` reads and validates every call and refuses an invalid catalogue before
anything is written; `generate_output` renders pages and data files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import shutil
import subprocess
from collections import defaultdict

from pelican.generators import Generator

from callmodel import french, record, urls
from callmodel.dates import parse_instant, utc_now
from callmodel.schema import AUDIENCES, CALL_TYPES, STATUSES, Call
from callmodel.status import status_data

from . import editor, history, opendata
from .reader import Catalogue, InvalidCatalogue, read_catalogue
from .settings import calls_path, options, private_path, site_path

log = logging.getLogger(__name__)


def build_info(path: str) -> dict:
    """The commit the catalogue was built from (the version a receipt names), if in git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=path, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "modified": None}
    return {"commit": commit, "modified": bool(dirty)}


def order_open(calls):
    """Soonest deadline first; notices without a deadline last."""
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    return sorted(calls, key=lambda c: (c.closes or far, c.title))


def order_for_listing(calls, now):
    """Open (soonest deadline first), then upcoming (soonest opening), then closed (latest first)."""
    groups = defaultdict(list)
    for call in calls:
        groups[call.status(now)].append(call)
    return (order_open(groups["open"]) + sorted(groups["upcoming"], key=lambda c: (c.opens, c.title))
            + sorted(groups["closed"], key=lambda c: c.closes or c.opens, reverse=True))


class CallsGenerator(Generator):
    """Reads `calls/` and writes everything a call appears in."""

    def generate_context(self):
        self.options = options(self.settings)
        calls_folder = calls_path(self.settings)
        self.now = parse_instant(self.options["CALLS_NOW"]) if self.options["CALLS_NOW"] else utc_now()
        cache = self.options["CALLS_CACHE_PATH"]
        if cache and not os.path.isabs(cache):
            cache = os.path.join(os.path.dirname(self.path), cache)
        self.catalogue: Catalogue = read_catalogue(self.path, calls_folder, progress=self.options["CALLS_PROGRESS"],
                                                   cache_path=cache)
        if not self.catalogue.ok:
            raise InvalidCatalogue(self.catalogue.problems)
        self.site = (self.settings.get("SITEURL") or self.options["SITE_ABSOLUTE_URL"]).rstrip("/")
        self.forms = self.options["FORMSERVICE_URL"].rstrip("/")
        self.base = site_path(self.settings)
        self.build = build_info(calls_folder)
        found = history.read_history(calls_folder, self.catalogue.registries) if self.options["CALLS_HISTORY"] else None
        if found and not found.available:
            log.warning("calls: history of changes unavailable (%s)", found.reason)
        if found:
            self.catalogue.calls = [self.with_history(call, found, calls_folder) for call in self.catalogue.calls]
        self.context["calls_catalogue"] = self.catalogue
        log.info("calls: %d calls read from %s", len(self.catalogue.calls), calls_folder)

    # -- helpers for templates --------------------------------------------------------------

    @staticmethod
    def with_history(call: Call, found: history.History, calls_folder: str) -> Call:
        """The call with its public history (None when CALLS_HISTORY is off: no history section)."""
        entries = found.of(os.path.relpath(call.folder, calls_folder))
        return dataclasses.replace(call, history=entries, version=entries.version)

    def link(self, path: str) -> str:
        return f"{self.base}/{path}"

    def template_globals(self) -> dict:
        reg = self.catalogue.registries
        return {
            "FORMS_URL": self.forms,
            "now": self.now,
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
            "days_left": lambda call: french.days_left_text(call.closes, self.now),
            "build": self.build,
        }

    def write(self, path: str, text, *, binary=False) -> None:
        target = os.path.join(self.output_path, path)
        if path.endswith("/") or not os.path.splitext(path)[1]:
            target = os.path.join(target, "index.html")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as handle:
            handle.write(text)
        self.written.append(path)

    def write_private(self, path: str, text: str) -> None:
        """A file for the form service only, outside the published site (replaced atomically)."""
        target = os.path.join(private_path(self.settings), path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = f"{target}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)

    def render(self, template: str, path: str, **values) -> None:
        self.write(path, self.get_template(template).render(**self.globals, **values))

    # -- output ------------------------------------------------------------------------------

    def generate_output(self, writer):
        self.env.filters.update(fdate=french.french_date, fdatetime=french.french_datetime,
                                ftime=french.french_time, filesize=french.french_size)
        self.globals = {**self.context, **self.template_globals()}
        self.written: list[str] = []
        calls = self.catalogue.calls
        reg = self.catalogue.registries
        now = self.now
        by_status = defaultdict(list)
        for call in calls:
            by_status[call.status(now)].append(call)
        open_calls = order_open(by_status["open"])
        upcoming = sorted(by_status["upcoming"], key=lambda c: (c.opens, c.title))
        closed = sorted(by_status["closed"], key=lambda c: c.closes or c.opens, reverse=True)

        facets = {"type": {k: [] for k in CALL_TYPES}, "theme": {k: [] for k in reg.themes},
                  "partner": {k: [] for k in reg.partners}}
        for call in calls:
            facets["type"][call.type].append(call)
            facets["partner"][call.partner].append(call)
            for theme in call.themes:
                facets["theme"][theme].append(call)

        progress = self.options["CALLS_PROGRESS"]
        for done, call in enumerate(calls, 1):
            self.render("call", urls.CALL.format(slug=call.slug), call=call, status=call.status(now),
                        partner=reg.partners[call.partner], jsonld=self.jsonld(call), history=call.history)
            for document in call.documents:
                target = os.path.join(self.output_path, urls.CALL.format(slug=call.slug), document.file)
                shutil.copyfile(os.path.join(call.folder, document.file), target)
            if progress and done % 500 == 0:
                progress(done, len(calls), "pages")

        self.render("index", "", open_calls=open_calls[:self.options["CALLS_ON_HOME"]],
                    open_count=len(open_calls), upcoming=upcoming[:self.options["CALLS_ON_HOME"]],
                    upcoming_count=len(upcoming), closed_count=len(closed),
                    feeds=[("Tous les appels (Atom)", urls.FEED_ALL)], calendars=[("Toutes les échéances", urls.ICS_ALL)])
        events = opendata.deadline_events(calls, site=self.site, now=now, partners=reg.partners)
        macros = self.env.get_template("_macros.html").make_module(self.globals)
        self.cards = {call.slug: macros.card(call) for call in calls}
        self.listing(urls.OPEN, "Appels ouverts", open_calls,
                     "Les appels ouverts aux réponses, la date limite la plus proche d'abord.")
        self.listing(urls.UPCOMING, "Appels à venir", upcoming, "Les appels publiés qui ne sont pas encore ouverts.")
        self.listing(urls.ARCHIVE, "Archives des appels clos", closed, "Les appels clos, les plus récents d'abord.")
        labels = {"type": lambda k: CALL_TYPES[k].plural, "theme": lambda k: f"Thème : {reg.themes[k]}",
                  "partner": lambda k: reg.partners[k].name}
        for kind, groups in facets.items():
            for key, group in sorted(groups.items()):
                path = urls.FACETS[kind].format(key=key)
                title = labels[kind](key)
                self.listing(path, title, order_for_listing(group, now), self.facet_description(kind, key),
                             feeds=[(f"{title} (Atom)", urls.feed(kind, key))],
                             calendars=[(f"Échéances : {title}", urls.ics(kind, key))], facet=(kind, key))
                self.write(urls.feed(kind, key), opendata.atom_feed(
                    group, title=f"{title} – {self.settings['SITENAME']}", site=self.site,
                    feed_path=urls.feed(kind, key), page_path=path, partners=reg.partners))
                self.write(urls.ics(kind, key), opendata.icalendar_file(group, events, name=f"Échéances : {title}"),
                           binary=True)
        self.render("partners", urls.PARTNERS, counts={k: len(v) for k, v in facets["partner"].items()})
        self.render("search", urls.SEARCH, counts={k: {key: len(v) for key, v in g.items()} for k, g in facets.items()})
        self.render("opendata", urls.DATA, facets=facets)
        self.render("plan", urls.SITE_PLAN, facets=facets)
        self.render("404", "404.html")

        self.write(urls.FEED_ALL, opendata.atom_feed(
            calls, title=f"Tous les appels – {self.settings['SITENAME']}", site=self.site,
            feed_path=urls.FEED_ALL, page_path="", partners=reg.partners))
        self.write(urls.ICS_ALL, opendata.icalendar_file(calls, events, name="Échéances des appels"), binary=True)
        self.write(urls.CALLS_JSON, record.catalogue_json(calls, site=self.site, forms=self.forms, now=now,
                                                          themes=reg.themes,
                                                          partners={k: p.name for k, p in reg.partners.items()},
                                                          build=self.build))
        with open(record.SCHEMA_PATH, encoding="utf-8") as schema:
            self.write(urls.CALLS_SCHEMA, schema.read())
        self.write_private(urls.RECIPIENTS, record.recipients_json(calls, build=self.build))
        self.write(urls.OCDS_JSON, opendata.ocds_package(
            calls, site=self.site, now=now, partners=reg.partners, publisher=self.options["PUBLISHER_NAME"],
            prefix=self.options["OCDS_OCID_PREFIX"], build=self.build))
        self.write_editor()
        pages = [p.url for p in self.context.get("pages", [])]
        html = [p for p in self.written if p.endswith("/") or p == ""] + pages
        self.write("sitemap.xml", opendata.sitemap(sorted(set(html)), self.site))
        self.write("robots.txt", f"User-agent: *\nAllow: /\nSitemap: {self.site}/sitemap.xml\n")

    def write_editor(self) -> None:
        """The call editor at /admin/ (generator.editor): its configuration from the call model and
        the registries, its page, and Decap CMS's files."""
        config = editor.editor_config(
            self.catalogue.registries, calls_folder=os.path.relpath(calls_path(self.settings), os.path.dirname(self.path)),
            backend=self.options["CALLS_EDITOR_BACKEND"], local_backend=self.options["CALLS_EDITOR_LOCAL_BACKEND"],
            site_url=self.site, logo=f"{self.base}/{self.settings['THEME_STATIC_DIR']}/favicon.svg")
        self.write(f"{urls.EDITOR}config.yml", editor.config_yaml(config))
        self.render("admin", f"{urls.EDITOR}index.html", labels=editor.preview_labels(self.catalogue.registries))
        editor.copy_assets(self.options["CALLS_EDITOR_ASSETS"] or editor.DEFAULT_ASSETS,
                           os.path.join(self.output_path, urls.EDITOR))

    def listing(self, path, title, calls, description, *, feeds=(), calendars=(), facet=None):
        """A paginated listing: never every call on one page. Cards are rendered once per call
        (`self.cards`) and reused by every listing the call appears in."""
        size = self.options["CALLS_PER_PAGE"]
        pages = max(1, -(-len(calls) // size))
        for number in range(1, pages + 1):
            self.render("listing", urls.page(path, number), title=title, description=description,
                        cards=[self.cards[c.slug] for c in calls[(number - 1) * size:number * size]],
                        total=len(calls),
                        page_number=number, page_count=pages, page_link=lambda n, p=path: self.link(urls.page(p, n)),
                        feeds=feeds, calendars=calendars, facet=facet, listing_path=path)

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


def get_generators(pelican):
    return CallsGenerator


def theme_globals(generator):
    """Every generator's templates (Pelican's pages too) know where the site and its assets live."""
    base = site_path(generator.settings)
    generator.env.globals.update(SITE=base, STATIC=f"{base}/{generator.settings['THEME_STATIC_DIR']}")
