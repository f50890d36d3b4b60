"""Where each published thing lives: one table, used by pages, feeds, data and the form service.

Paths are relative to a base address from configuration (the site's SITE_URL, the form service's
FORMSERVICE_URL), never to the address a request came in on.
"""

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
CALLS_SCHEMA = "api/calls.schema.json"
RECIPIENTS = "recipients.json"  # in the build's private folder, never in the published site
OCDS_JSON = "api/ocds.json"
FEED_ALL = "flux/appels.atom"
FEED = "flux/{kind}/{key}.atom"
ICS_ALL = "agenda/echeances.ics"
ICS = "agenda/{kind}/{key}.ics"
EDITOR = "admin/"

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


# On the form service.
ANSWER = "appels/{slug}/repondre"
EXPORT = "appels/{slug}/export"  # where a partner asks for a call's answers again
QUESTION = "appels/{slug}/question"  # ask the organiser a question
ALERTS = "alertes"  # subscribe to alerts (?suivre=<slug> to follow one call)
CONFIRM = "alertes/confirmer/{id}/{token}"
UNSUBSCRIBE = "alertes/desinscription/{id}/{token}"


def join(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}"


def call_url(site: str, slug: str) -> str:
    """The absolute address of a call's page on the site at `site`."""
    return join(site, CALL.format(slug=slug))


def answer_url(forms: str, slug: str) -> str:
    """The absolute address of a call's answer form on the form service at `forms`."""
    return join(forms, ANSWER.format(slug=slug))
