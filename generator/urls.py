"""Where each published thing lives on the site: one table, used by pages, feeds and data."""

CALL = "appels/{slug}/"
OPEN = "appels/"
UPCOMING = "appels/a-venir/"
ARCHIVE = "archives/"
TYPE = "types/{key}/"
THEME = "themes/{key}/"
PARTNER = "partenaires/{key}/"
PARTNERS = "partenaires/"
SEARCH = "recherche/"
SITE_PLAN = "plan-du-site/"
DATA = "donnees-ouvertes/"
CALLS_JSON = "api/calls.json"
OCDS_JSON = "api/ocds.json"
FEED_ALL = "flux/appels.atom"
FEED = "flux/{kind}/{key}.atom"
ICS_ALL = "agenda/echeances.ics"
ICS = "agenda/{kind}/{key}.ics"

# The three classifications that get a listing, a feed and a calendar each.
FACETS = {"type": TYPE, "theme": THEME, "partner": PARTNER}
FACET_FOLDERS = {"type": "types", "theme": "themes", "partner": "partenaires"}


def page(path: str, number: int) -> str:
    """Page `number` of a paginated listing at `path`."""
    return path if number == 1 else f"{path}page/{number}/"


def feed(kind: str, key: str) -> str:
    return FEED.format(kind=FACET_FOLDERS[kind], key=key)


def ics(kind: str, key: str) -> str:
    return ICS.format(kind=FACET_FOLDERS[kind], key=key)
