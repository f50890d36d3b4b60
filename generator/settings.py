"""The plugin's settings: one table of defaults, read from the Pelican settings file once."""

from __future__ import annotations

import os
import runpy
from urllib.parse import urlsplit

DEFAULTS = {
    "CALLS_PATH": "calls",
    "CALLS_NOW": None,
    "CALLS_PER_PAGE": 20,
    "CALLS_ON_HOME": 12,
    "CALLS_PROGRESS": None,
    "CALLS_CACHE_PATH": ".cache/calls.pickle",
    "CALLS_TEMPLATE_CACHE_PATH": None,  # the user's cache folder; "" keeps no compiled template
    "CALLS_HISTORY": True,
    "CALLS_PRIVATE_PATH": None,
    "CALLS_EDITOR_BACKEND": {"name": "github", "repo": "rivebelle/appels-innovation", "branch": "main"},
    "CALLS_EDITOR_LOCAL_BACKEND": "",
    "CALLS_EDITOR_ASSETS": "",
    "FORMSERVICE_URL": "http://127.0.0.1:5000",
    "SITE_ABSOLUTE_URL": "http://127.0.0.1:8000",
    "OCDS_OCID_PREFIX": "ocds-rvbl00",
    "PUBLISHER_NAME": "Métropole de Rivebelle",
}


def options(settings: dict) -> dict:
    return {key: settings.get(key, default) for key, default in DEFAULTS.items()}


def calls_path(settings: dict) -> str:
    """CALLS_PATH, relative to the folder holding content/ (the project root) unless absolute."""
    path = settings.get("CALLS_PATH", DEFAULTS["CALLS_PATH"])
    return path if os.path.isabs(path) else os.path.join(os.path.dirname(settings["PATH"]), path)


def cache_path(settings: dict, *, turned_off: str | None = None) -> str | None:
    """The read cache (CALLS_CACHE_PATH, relative to the project root unless absolute), or
    `turned_off` when there is none; the output folders' manifests are kept beside it."""
    cache = options(settings)["CALLS_CACHE_PATH"] or turned_off
    if cache and not os.path.isabs(cache):
        cache = os.path.join(os.path.dirname(settings["PATH"]), cache)
    return cache


def template_cache_path(settings: dict) -> str | None:
    """Where compiled templates are kept from one process to the next, as Python keeps bytecode
    (generator.site keys them on each template's source and on the options that compile it): the
    user's cache folder (XDG_CACHE_HOME, else ~/.cache), unless CALLS_TEMPLATE_CACHE_PATH says."""
    path = options(settings)["CALLS_TEMPLATE_CACHE_PATH"]
    if path is None:
        home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(home, "appels-innovation", "templates")
    return path or None


def private_path(settings: dict) -> str:
    """The folder of what the build writes but never publishes (the recipients of each call's
    answers): CALLS_PRIVATE_PATH, by default the output folder's name followed by `-private`."""
    return settings.get("CALLS_PRIVATE_PATH") or settings["OUTPUT_PATH"].rstrip("/") + "-private"


def site_path(settings: dict) -> str:
    """The path the site lives under, from its address (https://host/apercus/12 -> /apercus/12):
    pages link root-relative, so a site built for a sub-path (a pull request's preview) works there."""
    if settings.get("SITE_PATH") is not None:
        return settings["SITE_PATH"].rstrip("/")
    return urlsplit(settings.get("SITE_ABSOLUTE_URL") or DEFAULTS["SITE_ABSOLUTE_URL"]).path.rstrip("/")


def peek(path: str) -> dict | None:
    """The settings file's own values with PATH made absolute, as Pelican reads them, but without
    loading Pelican (generator.build reads the calls meanwhile); None when it names no PATH."""
    values = {k: v for k, v in runpy.run_path(path).items() if k.isupper()}
    if not isinstance(values.get("PATH"), str):
        return None
    values["PATH"] = os.path.abspath(os.path.join(os.path.dirname(path), values["PATH"]))
    return values


def load(path: str, **override) -> dict:
    """A Pelican settings file, with `override` (None values ignored)."""
    from pelican.settings import read_settings

    return read_settings(path, override={k: v for k, v in override.items() if v is not None})
