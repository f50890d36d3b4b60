"""`calls new`: start a call whose every written value passes `calls check`.

Staff are not developers: the command asks what it needs, checks each answer against the same
schema and registries as the validator, and writes a commented front matter and a body skeleton.
Each section of the skeleton holds a text to write (schema.PLACEHOLDER), which `calls check`
refuses until it is replaced: a skeleton never goes live as an open call.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
import unicodedata

import click

from callmodel import schema
from callmodel.addresses import is_address
from callmodel.dates import DEFAULT_TIMEZONE, DateError, parse_date, parse_datetime, zone
from callmodel.french import french_datetime
from callmodel.schema import TITLE_MAX
from generator import settings as plugin_settings
from generator.reader import Registries, find_calls, read_call, read_registries, unknown
from generator.source import relative

from . import options

SLUG_MAX = 60
# The form a type of call answers with by default; other answerable types use FORM_DEFAULT.
FORM_BY_TYPE = {"consultation": "citoyen"}
FORM_DEFAULT = "entreprise"
def default_form(kind: str) -> str | None:
    """None for a type that takes no answers (an information notice)."""
    if not schema.CALL_TYPES[kind].answerable:
        return None
    return FORM_BY_TYPE.get(kind, FORM_DEFAULT)


def slugify(title: str) -> str:
    """ASCII, lowercase, hyphens, cut between words: "Capteurs d'air à l'école" -> capteurs-d-air-a-l-ecole."""
    text = title.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = ""
    for word in re.findall(r"[a-z0-9]+", text):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    return slug or re.sub(r"[^a-z0-9]", "", text)[:SLUG_MAX]


def _yaml(value) -> str:
    """A YAML scalar or flow list: JSON is valid YAML and quotes whatever needs quoting."""
    return json.dumps(value, ensure_ascii=False)


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def render_call(*, title: str, kind: str, partner: str, summary: str, published: dt.date,
                opens: dt.datetime, closes: dt.datetime | None, timezone: str, themes=(), audiences=(),
                form: str | None = None, exports_to=()) -> str:
    """The text of `call.md`: every key with a short French comment, then a body skeleton."""
    types = ", ".join(schema.CALL_TYPES)
    lines = [
        "---",
        "# Chaque ligne est commentée ; `calls check` vérifie le fichier avant publication.",
        f"title: {_yaml(title)}  # Titre affiché en tête de la page ({TITLE_MAX} caractères au plus).",
        f"type: {kind}  # Type d'appel : {types}.",
        f"partner: {partner}  # Qui porte l'appel : une clé de content/partners.yaml.",
        f"summary: {_yaml(summary)}  # Une phrase qui dit ce qui est recherché ({schema.SUMMARY_MAX} caractères au plus).",
        f"themes: {_yaml(list(themes))}  # Thèmes : clés de content/themes.yaml, entre crochets.",
        f"audiences: {_yaml(list(audiences))}  # Publics visés, entre crochets : {', '.join(schema.AUDIENCES)}.",
        f"published: {published.isoformat()}  # Date de publication (AAAA-MM-JJ).",
        f"opens: {_local(opens)}  # Ouverture des réponses, heure locale (AAAA-MM-JJTHH:MM).",
    ]
    if closes:
        lines.append(f"closes: {_local(closes)}  # Date limite, heure locale ; l'heure de réception fait foi. "
                     "Pour clore plus tôt, avancez cette date.")
    lines += [
        "# questions_until: AAAA-MM-JJTHH:MM  # Facultatif : date limite pour poser des questions.",
        f"timezone: {timezone}  # Fuseau horaire des dates ci-dessus.",
        "budget: \"\"  # Facultatif, texte libre, par exemple \"Jusqu'à 50 000 € HT par lauréat\".",
    ]
    if form:
        lines += [
            "submission:  # Comment répondre.",
            f"  form: {form}  # Formulaire de réponse : un fichier de content/forms/.",
            f"  exports_to: {_yaml(list(exports_to))}  # Qui reçoit les réponses (adresses électroniques).",
        ]
    else:
        lines.append("# Avis d'information : aucune réponse attendue, donc pas de « submission ».")
    lines += [
        "documents: []  # Documents déposés dans ce dossier, par exemple - {title: Cahier des charges, file: cahier-des-charges.pdf}",
        "questions: []  # Questions et réponses publiques : - {date: AAAA-MM-JJ, question: \"...\", answer: \"...\"}",
        "amendments: []  # Modifications annoncées au public : - {date: AAAA-MM-JJ, summary: \"...\"}",
        "---",
    ]
    calendar = [f"- Ouverture des réponses : {french_datetime(opens)}"]
    if closes:
        calendar.append(f"- Date limite de réponse : {french_datetime(closes)}")
    return "\n".join(lines) + "\n" + schema.body_skeleton(Calendrier="\n".join(calendar))


# --- answers, checked the way `calls check` would ------------------------------------------------

def _text(limit: int, what: str):
    def check(value) -> str:
        text = " ".join(str(value).split())
        if not text:
            raise click.BadParameter(f"{what} ne peut pas être vide.")
        if len(text) > limit:
            raise click.BadParameter(f"{what} : {len(text)} caractères, {limit} au plus.")
        return text
    return check


def _key(known: dict, what: str):
    """A key of `known`, refused with the validator's own message (suggestion, valid keys)."""
    def check(value) -> str:
        if value not in known:
            message = unknown(what, value, known)
            raise click.BadParameter(message[0].upper() + message[1:] + ".")
        return value
    return check


def _keys(known: dict, what: str):
    """A comma-separated list of keys, at least one, each known."""
    def check(value) -> tuple[str, ...]:
        items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
        chosen = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
        if not chosen:
            raise click.BadParameter(f"au moins un, parmi : {', '.join(known)}.")
        return tuple(_key(known, what)(item) for item in chosen)
    return check


def _date(value) -> dt.date:
    try:
        return parse_date(value)
    except DateError as exc:
        raise click.BadParameter(str(exc)) from None


def _moment(tz, *, after: dt.datetime | None = None, after_what: str = "", date_only_time=None):
    def check(value) -> dt.datetime:
        try:
            moment = parse_datetime(value, tz, date_only_time=date_only_time)
        except DateError as exc:
            raise click.BadParameter(str(exc)) from None
        if after and moment <= after:
            raise click.BadParameter(f"doit être après {after_what} ({_local(after)}).")
        return moment
    return check


def _addresses(value) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    addresses = tuple(a.strip() for a in items if a.strip())
    if not addresses:
        raise click.BadParameter("au moins une adresse électronique.")
    for address in addresses:
        if not is_address(address):
            raise click.BadParameter(f"« {address} » n'est pas une adresse électronique valide.")
    return addresses


def _ask(value, check, prompt: str, param: str, **prompt_options):
    """An option's value checked, or a prompt that asks again until the answer is valid."""
    while value is None or value == ():
        answer = click.prompt(prompt, **prompt_options)
        try:
            return check(answer)
        except click.BadParameter as exc:
            click.echo(f"Erreur : {exc.message}", err=True)
    try:
        return check(value)
    except click.BadParameter as exc:
        exc.param_hint = param
        raise


@click.command()
@options.settings
@click.option("--type", "kind", help=f"Type of call: {', '.join(schema.CALL_TYPES)}.")
@click.option("--partner", help="Partner key (content/partners.yaml).")
@click.option("--title", help="Title of the call.")
@click.option("--summary", help=f"One sentence, at most {schema.SUMMARY_MAX} characters.")
@click.option("--published", help="Publication date, YYYY-MM-DD (default today).")
@click.option("--opens", help="Opening of answers, YYYY-MM-DDTHH:MM local time (default: published, 09:00).")
@click.option("--closes", help="Deadline, YYYY-MM-DDTHH:MM local time (none for an avis-information).")
@click.option("--exports-to", "exports_to", multiple=True, help="Address receiving the answers (repeatable).")
@click.option("--theme", "themes", multiple=True, help="Theme key (content/themes.yaml), repeatable.")
@click.option("--audience", "audiences", multiple=True, help="Audience key (citoyen, pme...), repeatable.")
@click.option("--form", help="Answer form (content/forms/<name>.yaml); default by type: consultation -> citoyen, others -> entreprise.")
@click.option("--slug", help="Folder name under calls/ (default: derived from the title).")
def new(settings_path, kind, partner, title, summary, published, opens, closes, exports_to, themes, audiences,
        form, slug):
    """Write calls/<slug>/call.md, asking for what is missing; its texts to write fail `calls check`
    until they are written."""
    settings = plugin_settings.load(settings_path)
    registries, _ = read_registries(settings["PATH"])
    folder_root = plugin_settings.calls_path(settings)
    tz_name = DEFAULT_TIMEZONE
    tz = zone(tz_name)

    kind = _ask(kind, _key(schema.CALL_TYPES, "type"), f"Type d'appel ({', '.join(schema.CALL_TYPES)})", "--type")
    partner = _ask(partner, _key(registries.partners, "partner"),
                   f"Partenaire ({', '.join(registries.partners)})", "--partner")
    title = _ask(title, _text(TITLE_MAX, "Le titre"), "Titre", "--title")
    target = _free_folder(folder_root, slug or slugify(title))
    summary = _ask(summary, _text(schema.SUMMARY_MAX, "Le résumé"), "Résumé (une phrase)", "--summary")
    themes = _ask(themes, _keys(registries.themes, "theme"),
                  f"Thèmes, séparés par des virgules ({', '.join(registries.themes)})", "--theme")
    audiences = _ask(audiences, _keys(schema.AUDIENCES, "audience"),
                     f"Publics visés, séparés par des virgules ({', '.join(schema.AUDIENCES)})", "--audience")
    published = _date(published) if published else dt.datetime.now(tz).date()
    opens = _ask(opens, _moment(tz, date_only_time=dt.time(0, 0)), "Ouverture des réponses (AAAA-MM-JJTHH:MM)",
                 "--opens", default=f"{published.isoformat()}T09:00")
    if kind == "avis-information":
        closes = _moment(tz, after=opens, after_what="l'ouverture")(closes) if closes else None
    else:
        closes = _ask(closes, _moment(tz, after=opens, after_what="l'ouverture"),
                      "Date limite (AAAA-MM-JJTHH:MM)", "--closes")
    form = _check_form(kind, form, exports_to, registries)
    if form:
        exports_to = _ask(exports_to, _addresses, "Adresse(s) qui reçoivent les réponses (séparées par des virgules)",
                          "--exports-to")
    os.makedirs(target)
    path = os.path.join(target, "call.md")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_call(title=title, kind=kind, partner=partner, summary=summary, published=published,
                                 opens=opens, closes=closes, timezone=tz_name, themes=themes,
                                 audiences=audiences, form=form, exports_to=exports_to))
    _, problems = read_call(path, registries)
    unexpected = [p for p in problems if schema.PLACEHOLDER not in p.message]
    if unexpected:
        shutil.rmtree(target)
        raise click.ClickException("l'appel écrit ne passe pas la vérification (erreur de l'outil) :\n"
                                   + "\n".join(map(str, unexpected)))
    click.echo(f"Appel créé : {relative(path)}\n"
               f"Écrivez le texte de l'appel à la place des {len(problems)} « [{schema.PLACEHOLDER} : …] » "
               f"(`calls check` refuse l'appel tant qu'il en reste), déposez les documents dans "
               f"{relative(target)}/, puis vérifiez avec `calls check`.")


def _free_folder(folder_root: str, slug: str) -> str:
    """The new call's folder; exits when the slug is already used (the page address must stay one call's)."""
    if not schema.SLUG_RE.match(slug):
        raise click.BadParameter(f"« {slug} » : lettres minuscules, chiffres et tirets, par exemple capteurs-air-ecoles.",
                                 param_hint="--slug")
    target = os.path.join(folder_root, slug)
    taken = [p for p in find_calls(folder_root) if os.path.basename(os.path.dirname(p)) == slug]
    if taken or os.path.exists(target):
        existing = relative(taken[0]) if taken else relative(target)
        click.echo(f"Un appel existe déjà avec l'adresse « {slug} » ({existing}). "
                   "Choisissez un autre titre ou précisez --slug.", err=True)
        sys.exit(1)
    return target


def _check_form(kind: str, form: str | None, exports_to, registries: Registries) -> str | None:
    """The form of the call, which must exist in content/forms/; none for an information notice."""
    if not schema.CALL_TYPES[kind].answerable:
        if form or exports_to:
            raise click.UsageError("un avis d'information n'attend pas de réponse : retirez --form et --exports-to.")
        return None
    form = form or default_form(kind)
    if form not in registries.forms:
        raise click.BadParameter(f"formulaire « {form} » introuvable dans content/forms/. "
                                 f"Connus : {', '.join(registries.forms) or 'aucun'}.", param_hint="--form")
    return form
