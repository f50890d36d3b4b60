"""The web editor of calls at /admin/: Decap CMS, configured from the one call model.

Every field of the editor comes from the key tables of `callmodel.schema` (label, help, required,
upper bound, entries) and every choice from the same tables and registries the validator reads
(types, partners, themes, audiences, shared forms, field types), so a key added to the model
reaches the editor at the next build. The editor writes `calls/<slug>/call.md` and puts uploaded
documents beside it; its own code is copied from node_modules into the site, never loaded from
another host. Its rules (required fields, lengths, formats, dates) repeat the validator's in the
browser; `calls check` stays the judge of what is published.
"""

from __future__ import annotations

import glob
import os

import yaml

from callmodel import schema
from callmodel.addresses import BROWSER_PATTERN
from callmodel.dates import DEFAULT_TIMEZONE, NO_SUCH_DATE, NOT_A_DATETIME, SKIPPED_TIME, TIMEZONES
from callmodel.french import city

from .reader import CLOSES_BEFORE_OPENS, QUESTIONS_AFTER_CLOSES

# Decap CMS's built files: its script, the chunks it loads on demand and their WebAssembly.
ASSETS = ("decap-cms.js", "*.decap-cms.js", "*.wasm")
DEFAULT_ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "node_modules", "decap-cms", "dist")
COLLECTION = "calls"
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, when PyYAML has it: 4 times faster
# The commit status the preview workflow sets with the preview's address (.github/workflows/preview.yml):
# the editor shows it as « Voir l'aperçu » beside a draft.
PREVIEW_CONTEXT = "Aperçu"
# The order of a call's dates as the validator checks it: a date-time must come after (or not
# after) the first of its bounds that is written; `published` stands for its midnight.
DATE_ORDER = {
    "closes": {"after": ["opens", "published"], "message": CLOSES_BEFORE_OPENS},
    "questions_until": {"not_after": ["closes"], "message": QUESTIONS_AFTER_CLOSES},
}


class EditorAssetsMissing(RuntimeError):
    """Decap CMS is not installed (npm ci): the site would ship an editor that cannot load."""


def _pattern(regex: str, message: str) -> list[str]:
    return [regex, message]


def _options(choices: dict) -> list[dict]:
    return [{"label": label, "value": key} for key, label in choices.items()]


def _widget(key: schema.Key, registries) -> dict:
    """The Decap field of one key: its widget and options follow what the key holds (KINDS)."""
    kind = key.kind
    if kind in ("text", "long text"):
        text = {"widget": "string" if kind == "text" else "text"}
        if key.limit:
            text["pattern"] = _pattern(rf"^[\s\S]{{0,{key.limit}}}$", f"{key.limit} caractères au plus.")
        return text
    if kind == "markdown":
        # The validator's rules on the text, as one pattern (Decap takes one): no text left to write,
        # no level-1 heading, and some text besides the headings.
        return {"widget": "markdown", "modes": ["rich_text", "raw"], "editor_components": [],
                "buttons": ["bold", "italic", "link", "heading-two", "heading-three", "bulleted-list",
                            "numbered-list", "quote"],
                "default": schema.body_skeleton(),
                "pattern": _pattern(rf"^(?![\s\S]*{_placeholder_regex()})(?![\s\S]*(^|\n)# )"
                                    r"(?=[\s\S]*(^|\n)[ \t]*[^#\s])",
                                    f"remplacez chaque « [{schema.PLACEHOLDER} : …] » par votre texte ; les "
                                    "parties commencent par un titre de niveau 2 (##), jamais de niveau 1.")}
    if kind == "call type":
        return {"widget": "select", "options": _options({k: t.label for k, t in schema.CALL_TYPES.items()})}
    if kind == "partner":
        return {"widget": "select", "options": _options({k: p.name for k, p in registries.partners.items()})}
    if kind == "themes":
        return {"widget": "select", "multiple": True, "options": _options(registries.themes)}
    if kind == "audiences":
        return {"widget": "select", "multiple": True, "options": _options(schema.AUDIENCES)}
    if kind == "form":
        return {"widget": "select", "options": _options(
            {name: f"{title or name} ({name})" for name, (title, _) in registries.forms.items()})}
    if kind == "field type":
        return {"widget": "select", "options": _options(schema.FIELD_TYPES)}
    if kind == "file formats":
        return {"widget": "select", "multiple": True,
                "options": _options({ext: f"{label} (.{ext})" for ext, (label, _) in schema.FILE_FORMATS.items()})}
    if kind == "digest":
        return {"widget": "select", "options": _options(schema.DIGESTS)}
    if kind == "time zone":
        return {"widget": "select", "default": DEFAULT_TIMEZONE,
                "options": _options({tz: f"Heure de {city(tz)} ({tz})" for tz in TIMEZONES})}
    if kind == "date":
        return {"widget": "datetime", "format": "YYYY-MM-DD", "date_format": "YYYY-MM-DD", "time_format": False,
                "picker_utc": False}
    if kind == "date-time":
        # Our widget (theme/static/js/editor.js): Decap's picker, a local time without offset (the
        # call's zone), checked against the other dates of the call and daylight-saving changes.
        return {"widget": "call-datetime", "format": "YYYY-MM-DDTHH:mm", "picker_utc": False,
                "messages": {"format": NOT_A_DATETIME, "date": NO_SUCH_DATE, "skipped": SKIPPED_TIME},
                **({"order": DATE_ORDER[key.name]} if key.name in DATE_ORDER else {})}
    if kind == "e-mail addresses":
        return {"widget": "list", "default": [], "field": {
            "name": "adresse", "label": "Adresse électronique", "widget": "string",
            "pattern": _pattern(BROWSER_PATTERN, "une adresse électronique, par exemple innovation@exemple.fr.")}}
    if kind == "https URL":
        return {"widget": "string", "pattern": _pattern(r"^https://[^\s/]+\S*$", "une adresse qui commence par https://.")}
    if kind == "URL":
        return {"widget": "string", "pattern": _pattern(r"^https?://[^\s/]+\S*$", "une adresse qui commence par https://.")}
    if kind == "question id":
        return {"widget": "string", "required": False,
                "pattern": _pattern(r"^(Q-[0-9A-Z]{6})?$", "un identifiant comme dans le courriel de la question, "
                                                           "par exemple Q-7K3QXM.")}
    if kind == "identifier":
        return {"widget": "string", "pattern": _pattern(
            schema.FIELD_NAME_RE.pattern, "une lettre minuscule, puis minuscules, chiffres et _, sans accent.")}
    if kind == "boolean":
        return {"widget": "boolean", "default": False}
    if kind == "whole number":
        return {"widget": "number", "value_type": "int", "min": 1}
    if kind == "number":
        return {"widget": "number", "value_type": "float", "min": 0, **({"max": key.limit} if key.limit else {})}
    if kind == "texts":
        return {"widget": "list", "default": [], "field": {"name": "choix", "label": "Choix", "widget": "string"}}
    if kind == "file":
        return {"widget": "file", "choose_url": False, "media_library": {"allow_multiple": False}}
    if kind in ("submission", "entries", "fields"):
        fields = [field(item, registries) for item in key.items.values()]
        if kind == "submission":
            return {"widget": "object", "collapsed": False, "fields": fields}
        first_text = next(k for k in key.items.values() if k.kind in ("text", "long text"))
        return {"widget": "list", "default": [], "collapsed": True, "fields": fields,
                "summary": f"{{{{fields.{first_text.name}}}}}"}
    raise ValueError(f"no editor widget for the kind {kind!r} of {key.name!r}: add one in generator/editor.py")


def _placeholder_regex() -> str:
    """schema.PLACEHOLDER, whatever the case of its letters (patterns in Decap take no flags)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in schema.PLACEHOLDER)


def field(key: schema.Key, registries) -> dict:
    """One editor field: the key's name, French label and help, whether it is required."""
    config = {"name": key.name, "label": key.label, "required": key.required, **_widget(key, registries)}
    if key.hint:
        config["hint"] = key.hint
    return config


def editor_config(registries, *, calls_folder: str, backend: dict, local_backend: str = "",
                  site_url: str = "", logo: str = "") -> dict:
    """The whole Decap configuration: the forge (pull requests through the editorial workflow), and
    the collection of calls, one folder each (`calls/<slug>/call.md`, documents beside it)."""
    fields = [field(key, registries) for key in schema.CALL_KEYS.values()] + [field(schema.BODY, registries)]
    for item in fields:
        if item["name"] == "published":
            item["default"] = "{{now}}"
    config = {
        "locale": "fr",
        "backend": {
            "preview_context": PREVIEW_CONTEXT,
            **backend,
            "commit_messages": {
                "create": "Nouvel appel : {{slug}}",
                "update": "Appel {{slug}} modifié",
                "delete": "Appel {{slug}} retiré",
                "uploadMedia": "Document déposé : {{path}}",
                "deleteMedia": "Document retiré : {{path}}",
            },
        },
        "publish_mode": "editorial_workflow",
        "media_folder": calls_folder,
        "public_folder": "",
        "slug": {"encoding": "ascii", "clean_accents": True, "sanitize_replacement": "-"},
        "show_preview_links": False,
        "collections": [{
            "name": COLLECTION,
            "label": "Appels",
            "label_singular": "appel",
            "description": ("Chaque appel est un dossier du dépôt, calls/<adresse>/. Enregistrer un appel "
                            "ouvre une demande de publication, relue avant la mise en ligne."),
            "folder": calls_folder,
            "path": "{{slug}}/call",
            "extension": "md",
            "format": "yaml-frontmatter",
            "identifier_field": "title",
            "slug": "{{slug}}",
            "summary": "{{title}}",
            "sortable_fields": ["title", "closes", "published"],
            "view_groups": [{"label": "Type", "field": "type"}],
            "create": True,
            "delete": False,
            "media_folder": "",
            "public_folder": "",
            "fields": fields,
        }],
    }
    if site_url:
        config["site_url"] = config["display_url"] = site_url
    if logo:
        config["logo"] = {"src": logo, "show_in_header": False}
    if local_backend:
        config["local_backend"] = {"url": local_backend, "allowed_hosts": ["127.0.0.1", "localhost"]}
    return config


def preview_labels(registries) -> dict:
    """What the preview shows in words instead of keys, from the same tables as the pages."""
    return {"statuses": schema.STATUSES, "types": {k: t.label for k, t in schema.CALL_TYPES.items()},
            "partners": {k: p.name for k, p in registries.partners.items()}, "themes": registries.themes,
            "audiences": schema.AUDIENCES, "default_timezone": DEFAULT_TIMEZONE}


def config_yaml(config: dict) -> str:
    return ("# Written by the build (generator/editor.py) from callmodel/schema.py and content/: "
            "edit those, not this file.\n" + yaml.dump(config, Dumper=Dumper, allow_unicode=True, sort_keys=False,
                                                        width=100))


def assets(source: str) -> list[str]:
    """Decap CMS's built files (7 MB), to copy into the site at /admin/."""
    found = sorted(path for pattern in ASSETS for path in glob.glob(os.path.join(source, pattern)))
    if not any(os.path.basename(p) == "decap-cms.js" for p in found):
        raise EditorAssetsMissing(f"l'éditeur des appels (Decap CMS) n'est pas installé dans {source} : "
                                  "lancez `npm ci` (make le fait)")
    return found
