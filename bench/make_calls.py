#!/usr/bin/env python3
"""Generate N synthetic calls in the contract format (DESIGN.md, "The call file").

    python bench/make_calls.py N DIR [--seed 42] [--today 2026-11-28]

writes DIR/calls/<slug>/call.md, DIR/content/{partners.yaml,themes.yaml,forms/*.yaml,pages/a-propos.md}
and DIR/settings.py (a Pelican settings file pointing at DIR, for `calls check|build --settings`).

Deterministic: call number i depends only on (seed, i), so the first 1,000 calls of a 10,000-call
catalogue are the 1,000 calls of a 1,000-call one. Bodies are French-looking text of 300-800 words
with ## headings, lists and some bold; every type, status (relative to --today), theme and audience
occurs; some calls have questions, amendments, a budget, an inline form or an external tender link.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TYPES = ["ami", "appel-a-solutions", "appel-a-projets", "challenge", "concours", "avis-information", "consultation"]
TYPES_LABELS = {"ami": "Appel à manifestation d'intérêt", "appel-a-solutions": "Appel à solutions",
                "appel-a-projets": "Appel à projets", "challenge": "Challenge", "concours": "Concours",
                "avis-information": "Avis d'information", "consultation": "Consultation citoyenne"}
AUDIENCES = ["citoyen", "association", "startup", "pme", "eti", "grand-groupe", "laboratoire", "collectivite"]

PARTNERS = {
    "metropole": ("Métropole de Rivebelle", "La collectivité qui anime la plateforme."),
    "transports": ("Transports de Rivebelle", "L'opérateur du réseau de bus et de tramway."),
    "hopital": ("Hôpitaux de Rivebelle", "Le groupement hospitalier du territoire."),
    "eau": ("Régie des eaux", "La régie publique de l'eau potable et de l'assainissement."),
    "universite": ("Université de Rivebelle", "Les laboratoires et les services de l'université."),
    "habitat": ("Rivebelle Habitat", "Le bailleur social de la métropole."),
    "port": ("Grand port fluvial", "Le port, ses quais et sa plateforme logistique."),
    "energie": ("Énergies de Rivebelle", "Le réseau de chaleur et les énergies renouvelables."),
    "ville-nord": ("Ville de Rivebelle-Nord", "Une commune de la métropole."),
    "departement": ("Département du Val de Rive", "Le département, ses collèges et ses routes."),
    "aeroport": ("Aéroport de Rivebelle", "L'aéroport régional."),
    "dechets": ("Syndicat de valorisation des déchets", "La collecte et le traitement des déchets."),
}
THEMES = {
    "environnement": "Environnement", "mobilite": "Mobilité", "sante": "Santé", "education": "Éducation",
    "energie": "Énergie", "numerique": "Numérique", "eau": "Eau", "alimentation": "Alimentation",
    "logement": "Logement", "culture": "Culture", "securite": "Sécurité", "economie-circulaire": "Économie circulaire",
    "sport": "Sport", "tourisme": "Tourisme", "inclusion": "Inclusion",
}
FORMS = {
    "entreprise": """title: Réponse d'une entreprise
fields:
  - {name: raison_sociale, label: Raison sociale, type: text, required: true, max_length: 120}
  - {name: siret, label: SIRET, type: siret, required: true, help: 14 chiffres}
  - {name: email, label: Adresse électronique, type: email, required: true}
  - {name: telephone, label: Téléphone, type: tel}
  - {name: site_web, label: Site web, type: url}
  - {name: taille, label: Taille de la structure, type: select, required: true, choices: [Startup, PME, ETI, Grand groupe]}
  - {name: solution, label: Votre solution, type: textarea, required: true, max_length: 2000}
  - {name: dossier, label: Dossier de réponse, type: file, required: true, accept: [pdf, odt, docx], max_size_mb: 5}
  - {name: consentement, label: J'accepte le traitement de mes données pour l'instruction de ma réponse, type: checkbox, required: true}
""",
    "citoyen": """title: Votre avis
fields:
  - {name: email, label: Adresse électronique, type: email, required: true}
  - {name: commune, label: Commune, type: text}
  - {name: avis, label: Votre avis, type: textarea, required: true, max_length: 2000}
""",
}
PAGE = """Title: À propos
Slug: a-propos

## La plateforme

Les appels d'innovation des acheteurs de Rivebelle, ouverts à toutes et à tous.
"""
SETTINGS = """import sys
sys.path.insert(0, {repo!r})
from pelicanconf import *  # noqa: F401,F403
PATH = {content!r}
CALLS_PATH = {calls!r}
THEME = {theme!r}
"""

# --- vocabulary ---------------------------------------------------------------------------------

SUBJECTS = ["capteurs", "plateforme numérique", "outil de suivi", "service de proximité", "dispositif",
            "solution logicielle", "réseau de bornes", "jumeau numérique", "application mobile", "démonstrateur",
            "tiers-lieu", "atelier partagé", "système de mesure", "parcours usager", "module de formation",
            "entrepôt de données", "éclairage intelligent", "récupérateur de chaleur", "navette autonome",
            "compostage collectif", "toiture végétalisée", "billettique", "télésurveillance", "cartographie"]
QUALIFIERS = ["sobres", "ouverts", "accessibles", "réemployables", "frugaux", "interopérables", "robustes",
              "connectés", "mutualisés", "locaux", "durables", "inclusifs", "modulaires", "économes"]
PLACES = ["les écoles", "les quartiers prioritaires", "le tramway", "les parcs", "les collèges", "les hôpitaux",
          "les zones d'activité", "le centre-ville", "les berges", "les équipements sportifs", "les marchés",
          "les résidences sociales", "les médiathèques", "le port", "les cantines", "les gares"]
NOUNS = ["la qualité de l'air", "la consommation d'énergie", "le confort d'été", "la sobriété", "l'accueil du public",
         "la sécurité des usagers", "la gestion des déchets", "la ressource en eau", "la biodiversité",
         "la mobilité douce", "l'accès aux droits", "la santé des habitants", "la logistique urbaine",
         "la participation citoyenne", "la maintenance prédictive", "la réduction du bruit", "la fraîcheur urbaine",
         "l'ouverture des données", "le réemploi des matériaux", "l'inclusion numérique"]
VERBS = ["mesurer", "réduire", "améliorer", "suivre", "expérimenter", "mutualiser", "anticiper", "valoriser",
         "simplifier", "partager", "accompagner", "évaluer", "déployer", "concevoir", "renforcer"]
ADVERBS = ["progressivement", "durablement", "concrètement", "rapidement", "simplement", "collectivement"]
CONNECTORS = ["Par ailleurs,", "En outre,", "À ce titre,", "Dans ce cadre,", "De plus,", "Ainsi,", "En particulier,",
              "Pour cela,", "À terme,", "Concrètement,"]
ACTORS = ["la Métropole", "les services techniques", "les usagers", "les partenaires", "les habitants",
          "les agents", "les lauréats", "le comité de sélection", "les entreprises retenues", "les laboratoires"]
SECTIONS = ["Contexte", "Ce qui est cherché", "Éligibilité", "Critères de sélection", "Calendrier",
            "Modalités de réponse", "Accompagnement proposé", "Propriété intellectuelle", "Financement",
            "Expérimentation", "Engagements des lauréats", "Données et confidentialité"]
CRITERIA = ["la pertinence de la solution", "la maturité technique", "l'impact environnemental",
            "la capacité à expérimenter sous six mois", "le coût global", "l'accessibilité pour tous les publics",
            "la qualité de l'équipe", "le caractère reproductible", "la sobriété numérique", "l'ancrage local"]
TITLES = ["{Subject} {qualifier} pour {place}", "Mieux {verb} {noun} dans {place}", "{Subject} au service de {noun}",
          "Innover pour {noun}", "{Subject} et {noun} : {place}", "Expérimenter {subject} dans {place}"]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(rng: random.Random) -> str:
    pattern = rng.randrange(6)
    s, n, p, v, a = rng.choice(SUBJECTS), rng.choice(NOUNS), rng.choice(PLACES), rng.choice(VERBS), rng.choice(ACTORS)
    if pattern == 0:
        text = f"{cap(a)} souhaitent {v} {n} dans {p} grâce à des {s} {rng.choice(QUALIFIERS)}"
    elif pattern == 1:
        text = f"Le {s} proposé devra {v} {rng.choice(ADVERBS)} {n}, sans alourdir le travail des agents"
    elif pattern == 2:
        text = f"{rng.choice(CONNECTORS)} {a} pourront {v} {n} avec {rng.choice(ACTORS)}"
    elif pattern == 3:
        text = f"Les réponses précisent comment elles comptent {v} {n} et sur quelle durée"
    elif pattern == 4:
        text = f"Une expérimentation de {rng.randint(3, 18)} mois dans {p} permettra d'{rng.choice(['évaluer', 'observer', 'ajuster'])} {n}"
    else:
        text = f"{rng.choice(CONNECTORS)} {n} reste une priorité pour {a} et pour {rng.choice(ACTORS)}"
    if rng.random() < 0.12:
        text = text.replace(n, f"**{n}**", 1)
    return text + "."


def body(rng: random.Random, target: int) -> str:
    """Markdown of about `target` words: ## sections, paragraphs, lists, some bold."""
    parts, words = [], 0
    sections = rng.sample(SECTIONS, len(SECTIONS))
    index = 0
    while words < target:
        title = sections[index % len(sections)] + ("" if index < len(sections) else f" ({index // len(sections) + 1})")
        index += 1
        parts.append(f"## {title}")
        for _ in range(rng.randint(1, 3)):
            sentences = []
            for _ in range(rng.randint(2, 5)):
                sentences.append(sentence(rng))
                words += len(sentences[-1].split())
                if words >= target:
                    break
            parts.append(" ".join(sentences))
            if words >= target:
                break
        if rng.random() < 0.6 and words + 40 < target:
            kind = rng.random()
            if kind < 0.5:
                items = [f"- {cap(c)}" for c in rng.sample(CRITERIA, rng.randint(3, 5))]
            elif kind < 0.8:
                items = [f"{i}. {cap(rng.choice(VERBS))} {rng.choice(NOUNS)} ;" for i in range(1, rng.randint(3, 6))]
            else:
                items = [f"- **{cap(rng.choice(SUBJECTS))}** : {rng.choice(VERBS)} {rng.choice(NOUNS)}"
                         for _ in range(rng.randint(2, 4))]
            parts.append("\n".join(items))
            words += sum(len(i.split()) for i in items)
    return "\n\n".join(parts) + "\n"


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def make_call(i: int, seed: int, today: dt.date) -> tuple[str, str]:
    """(slug, text of call.md) for call number i."""
    rng = random.Random(f"{seed}-{i}")
    kind = TYPES[i % len(TYPES)]
    subject, place, noun = rng.choice(SUBJECTS), rng.choice(PLACES), rng.choice(NOUNS)
    title = rng.choice(TITLES).format(Subject=cap(subject), subject=subject, qualifier=rng.choice(QUALIFIERS),
                                      place=place, verb=rng.choice(VERBS), noun=noun)
    slug_words = "".join(c if c.isalnum() and c.isascii() else " " for c in
                         subject.lower().replace("é", "e").replace("è", "e").replace("ê", "e")).split()
    slug = "-".join(slug_words[:3] + [f"{i:06d}"])
    partner = rng.choice(list(PARTNERS))
    themes = rng.sample(list(THEMES), rng.choice([0, 1, 1, 1, 2, 2, 3]))
    noon = dt.time(12, 0)
    # Status relative to `today`: ~45 % open, ~15 % upcoming, ~40 % closed.
    roll = rng.random()
    if roll < 0.45:
        published = today - dt.timedelta(days=rng.randint(1, 90))
        opens = None
        closes = dt.datetime.combine(today + dt.timedelta(days=rng.randint(1, 150)), rng.choice([noon, dt.time(23, 59), dt.time(18, 0)]))
    elif roll < 0.60:
        published = today - dt.timedelta(days=rng.randint(0, 20))
        opens = dt.datetime.combine(today + dt.timedelta(days=rng.randint(2, 60)), dt.time(9, 0))
        closes = opens + dt.timedelta(days=rng.randint(20, 120), hours=3)
    else:
        published = today - dt.timedelta(days=rng.randint(60, 2000))
        opens = dt.datetime.combine(published, dt.time(9, 0)) if rng.random() < 0.5 else None
        closes = dt.datetime.combine(published + dt.timedelta(days=rng.randint(20, 55)), noon)
    start = opens or dt.datetime.combine(published, dt.time(0, 0))

    summary = f"{cap(rng.choice(VERBS))} {noun} dans {place} : {sentence(rng)[:-1].lower()}.".replace("**", "")[:300]
    lines = ["---", f"title: {q(title)}", f"type: {kind}", f"partner: {partner}", f"summary: {q(summary)}"]
    if themes:
        lines.append(f"themes: [{', '.join(themes)}]")
    lines.append(f"published: {published.isoformat()}")
    if opens:
        lines.append(f"opens: {when(opens)}")
    if kind != "avis-information" or rng.random() < 0.5:
        lines.append(f"closes: {when(closes)}")
        has_closes = True
    else:
        has_closes = False
    if has_closes and kind != "avis-information" and rng.random() < 0.3:
        qu = closes - dt.timedelta(days=rng.randint(3, 10))
        if qu > start:
            lines.append(f"questions_until: {when(qu)}")
    if rng.random() < 0.1:
        lines.append("timezone: Europe/Paris")
    if kind == "consultation":
        audiences = ["citoyen"] + (["association"] if rng.random() < 0.3 else [])
    else:
        audiences = rng.sample(AUDIENCES[1:], rng.randint(0, 3))
    if audiences:
        lines.append(f"audiences: [{', '.join(audiences)}]")
    if kind != "consultation" and kind != "avis-information" and rng.random() < 0.4:
        lines.append(f"budget: {q(f'Jusqu’à {rng.randint(1, 30) * 10} 000 € HT par lauréat')}")
    address = f"{rng.choice(['innovation', 'achats', 'projets', 'contact'])}@{partner}.example.org"
    if kind == "avis-information":
        pass
    elif kind == "concours" and rng.random() < 0.5:
        lines += ["submission:", f"  external_url: https://marches.example.org/consultation/{1000 + i}"]
    elif kind == "appel-a-projets" and rng.random() < 0.4:
        lines += ["submission:", f"  exports_to: [{address}]", "  fields:",
                  "    - {name: structure, label: Structure, type: text, required: true}",
                  "    - {name: courriel, label: Courriel, type: email, required: true}",
                  "    - {name: resume, label: Résumé du projet, type: textarea, max_length: 1500}",
                  "    - {name: projet, label: Votre projet, type: file, accept: [pdf]}"]
    else:
        form = "citoyen" if kind == "consultation" else "entreprise"
        lines += ["submission:", f"  form: {form}", f"  exports_to: [{address}]"]
        if kind == "ami" and rng.random() < 0.2:
            lines.append("  digest: weekly")
    last = min(today, (closes.date() if has_closes else today))
    span = max(1, (last - published).days)
    if kind != "avis-information" and rng.random() < 0.3:
        lines.append("questions:")
        for _ in range(rng.randint(1, 3)):
            day = published + dt.timedelta(days=rng.randint(0, span))
            question = f"Faut-il {rng.choice(VERBS)} {rng.choice(NOUNS)} dès la première phase ?"
            answer = sentence(rng)
            lines.append(f"  - {{date: {day.isoformat()}, question: {q(question)}, answer: {q(answer)}}}")
    if rng.random() < 0.15:
        lines.append("amendments:")
        for _ in range(rng.randint(1, 2)):
            day = published + dt.timedelta(days=rng.randint(0, span))
            lines.append(f"  - {{date: {day.isoformat()}, summary: {q(rng.choice(['Date limite repoussée.', 'Précision sur les critères.', 'Ajout d’une réunion d’information.', 'Correction du budget.']))}}}")
    lines.append("---")
    return slug, "\n".join(lines) + "\n" + body(rng, rng.randint(300, 770))


def write_site(n: int, out: str, *, seed: int = 42, today: dt.date = dt.date(2026, 11, 28)) -> str:
    """Write the catalogue into `out` (its calls/ replaced); returns the settings file path."""
    out = os.path.abspath(out)
    calls, content = os.path.join(out, "calls"), os.path.join(out, "content")
    shutil.rmtree(calls, ignore_errors=True)
    os.makedirs(os.path.join(content, "forms"), exist_ok=True)
    os.makedirs(os.path.join(content, "pages"), exist_ok=True)
    with open(os.path.join(content, "partners.yaml"), "w", encoding="utf-8") as f:
        for key, (name, description) in PARTNERS.items():
            f.write(f"{key}:\n  name: {q(name)}\n  url: https://{key}.example.org\n  description: {q(description)}\n")
    with open(os.path.join(content, "themes.yaml"), "w", encoding="utf-8") as f:
        f.writelines(f"{key}: {q(label)}\n" for key, label in THEMES.items())
    for name, text in FORMS.items():
        with open(os.path.join(content, "forms", f"{name}.yaml"), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(content, "pages", "a-propos.md"), "w", encoding="utf-8") as f:
        f.write(PAGE)
    for i in range(n):
        slug, text = make_call(i, seed, today)
        os.makedirs(os.path.join(calls, slug))
        with open(os.path.join(calls, slug, "call.md"), "w", encoding="utf-8") as f:
            f.write(text)
    settings = os.path.join(out, "settings.py")
    with open(settings, "w", encoding="utf-8") as f:
        f.write(SETTINGS.format(repo=REPO, content=content, calls=calls, theme=os.path.join(REPO, "theme")))
    return settings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of calls")
    parser.add_argument("dir", help="output folder (its calls/ is replaced)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", default="2026-11-28", help="reference date for open/upcoming/closed")
    args = parser.parse_args(argv)
    settings = write_site(args.n, args.dir, seed=args.seed, today=dt.date.fromisoformat(args.today))
    print(f"{args.n} calls in {os.path.abspath(args.dir)}; settings: {settings}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
