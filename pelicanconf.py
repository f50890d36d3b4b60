"""Pelican settings for development builds (`make html`, `make serve`). See publishconf.py for production."""

import os

SITENAME = "Appels d'innovation de Rivebelle"
SITESUBTITLE = "Les appels à solutions, à projets et à manifestation d'intérêt de la Métropole et de ses partenaires"
PUBLISHER_NAME = "Métropole de Rivebelle"
DEFAULT_LANG = "fr"
TIMEZONE = "Europe/Paris"

PATH = "content"
CALLS_PATH = "calls"
THEME = "theme"
THEME_STATIC_DIR = "theme"
OUTPUT_PATH = "output"

# Absolute addresses used in feeds, calls.json and the sitemap; pages link root-relative.
SITEURL = ""
SITE_ABSOLUTE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Where the answer forms live (`submit_url` in api/calls.json is absolute).
FORMSERVICE_URL = os.environ.get("FORMSERVICE_URL", "http://127.0.0.1:5000")
# The call editor's local backend (decap-server), set by `make serve`: /admin/ then edits this checkout.
CALLS_EDITOR_LOCAL_BACKEND = os.environ.get("CALLS_EDITOR_LOCAL_BACKEND", "")

PLUGINS = ["generator"]
PLUGIN_PATHS = [os.path.dirname(os.path.abspath(__file__))]

# Calls are not Pelican articles: our generator reads calls/. Editorial pages live in content/pages/.
ARTICLE_PATHS = []
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["partners"]
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
DIRECT_TEMPLATES = []
ARTICLE_SAVE_AS = ARTICLE_LANG_SAVE_AS = PAGE_LANG_SAVE_AS = DRAFT_SAVE_AS = DRAFT_PAGE_SAVE_AS = ""
CATEGORY_SAVE_AS = TAG_SAVE_AS = AUTHOR_SAVE_AS = ""
ARCHIVES_SAVE_AS = AUTHORS_SAVE_AS = CATEGORIES_SAVE_AS = TAGS_SAVE_AS = ""
FEED_ALL_ATOM = FEED_ALL_RSS = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None

DEFAULT_PAGINATION = False
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True}
MARKDOWN = {
    "extension_configs": {"markdown.extensions.extra": {}, "markdown.extensions.toc": {}},
    "output_format": "html5",
}
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
