"""The validator speaks like a compiler: one test per kind of error, asserting the message."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from calls_cli import main
from generator.reader import read_catalogue

VALID = """\
---
title: Capteurs pour le port
type: appel-a-solutions
partner: metropole
summary: Des capteurs pour le port.
themes: [environnement]
published: 2026-11-02
opens: 2026-11-02T09:00
closes: 2027-01-15T12:00
submission:
  form: entreprise
  exports_to: [innovation@metropole.example.org]
---
## Contexte

Le port cherche des capteurs.
"""


def write_call(root, slug, text, folder="calls"):
    path = root / folder / slug / "call.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(root):
    catalogue = read_catalogue(str(root / "content"), str(root / "calls"))
    return [str(p) for p in catalogue.problems]


def call_problems(root, text, slug="port-capteurs"):
    write_call(root, slug, text)
    return [p for p in problems(root) if f"/{slug}/" in p]


@pytest.fixture
def root(catalogue_copy, monkeypatch):
    monkeypatch.chdir(catalogue_copy)
    return catalogue_copy


def test_fixture_catalogue_is_valid(root):
    assert problems(root) == []


def test_valid_call_has_no_problem(root):
    assert call_problems(root, VALID) == []


FILE = "calls/port-capteurs/call.md"
THEMES = "thèmes possibles : environnement, mobilite, sante"
PARTNERS = ("partenaires possibles : metropole (Métropole de Testville), transports (Transports de Testville), "
            "hopital (Hôpitaux de Testville)")
TYPES = ("types possibles : ami, appel-a-solutions, appel-a-projets, challenge, concours, avis-information, "
         "consultation")
AUDIENCES = "publics possibles : citoyen, association, startup, pme, eti, grand-groupe, laboratoire, collectivite"
FIELD_TYPES = ("types possibles : text, textarea, email, tel, url, number, date, select, multiselect, checkbox, "
               "siret, file")


def replaced(*pairs):
    text = VALID
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


INLINE_FORM = "  fields:\n    - {name: courriel, label: Courriel, type: email}\n"
# Every message a call can get, in French: (the change to VALID, every problem it must give).
MESSAGES = {
    "invalid date": (
        [("closes: 2027-01-15T12:00", 'closes: "2027-02-30"')],
        [f"{FILE}:9: closes : la date « 2027-02-30 » n'existe pas"]),
    "date-time without time": (
        [("closes: 2027-01-15T12:00", "closes: 2027-01-15")],
        [f"{FILE}:9: closes : « 2027-01-15 » : il manque l'heure, par exemple 2027-01-15T12:00"]),
    "not a date-time": (
        [("closes: 2027-01-15T12:00", "closes: 15 janvier midi")],
        [f"{FILE}:9: closes : « 15 janvier midi » n'est pas une date et une heure : écrivez AAAA-MM-JJTHH:MM, "
         "par exemple 2027-01-15T12:00"]),
    "impossible time": (
        [("closes: 2027-01-15T12:00", "closes: 2027-01-15T25:00")],
        [f"{FILE}:9: closes : l'heure de « 2027-01-15T25:00 » n'existe pas (de 00:00 à 23:59)"]),
    "not a date": (
        [("published: 2026-11-02", "published: 2 novembre 2026")],
        [f"{FILE}:7: published : « 2 novembre 2026 » n'est pas une date : écrivez AAAA-MM-JJ, par exemple 2027-01-15"]),
    "local time skipped by daylight saving": (
        [("closes: 2027-01-15T12:00", "closes: 2027-03-28T02:30")],
        [f"{FILE}:9: closes : « 2027-03-28T02:30 » n'existe pas dans le fuseau Europe/Paris : cette heure est "
         "sautée au passage à l'heure d'été ; choisissez-en une autre"]),
    "unknown time zone": (
        [("published:", "timezone: Europe/Pariss\npublished:")],
        [f"{FILE}:7: timezone : « Europe/Pariss » n'est pas un fuseau horaire connu (par exemple Europe/Paris)"]),
    "closes before opens": (
        [("closes: 2027-01-15T12:00", "closes: 2026-10-15T12:00")],
        [f"{FILE}:9: closes : la date limite (2026-10-15T12:00) doit suivre l'ouverture des réponses "
         "(2026-11-02T09:00)"]),
    "questions after closes": (
        [("closes: 2027-01-15T12:00", "closes: 2027-01-15T12:00\nquestions_until: 2027-01-20T12:00")],
        [f"{FILE}:10: questions_until : la date limite des questions (2027-01-20T12:00) doit précéder la date "
         "limite de réponse (2027-01-15T12:00)"]),
    "no deadline": (
        [("closes: 2027-01-15T12:00\n", "")],
        [f"{FILE}:2: closes : date limite de réponse absente : un appel qui attend des réponses en a une (date "
         "et heure, par exemple 2027-01-15T12:00)"]),
    "missing required key": (
        [("title: Capteurs pour le port\n", "")],
        [f"{FILE}:2: title : information obligatoire absente (Titre : un texte)"]),
    "required key left empty": (
        [("title: Capteurs pour le port", 'title: ""')],
        [f"{FILE}:2: title : information obligatoire laissée vide (Titre : un texte)"]),
    "unknown key close to a known one": (
        [("summary:", "sumary:")],
        [f"{FILE}:2: summary : information obligatoire absente (Résumé : un texte)",
         f"{FILE}:5: sumary : information inconnue « sumary » (vouliez-vous dire « summary » ?)"]),
    "unknown key far from any": (
        [("published:", "contact: moi@example.org\npublished:")],
        [f"{FILE}:7: contact : information inconnue « contact » ; noms possibles : title, type, partner, summary, "
         "themes, published, opens, closes, questions_until, timezone, audiences, budget, submission, documents, "
         "questions, amendments"]),
    "unknown type close to one": (
        [("type: appel-a-solutions", "type: appel-a-solution")],
        [f"{FILE}:3: type : type d'appel inconnu « appel-a-solution » (vouliez-vous dire « appel-a-solutions » ?) ; "
         + TYPES]),
    "unknown partner close to one": (
        [("partner: metropole", "partner: metropol")],
        [f"{FILE}:4: partner : partenaire inconnu « metropol » (vouliez-vous dire « metropole » ?) ; {PARTNERS}"]),
    "unknown partner far from any: no suggestion": (
        [("partner: metropole", "partner: mairie-de-testville")],
        [f"{FILE}:4: partner : partenaire inconnu « mairie-de-testville » ; {PARTNERS}"]),
    "unknown theme": (
        [("themes: [environnement]", "themes: [environnement, mobilites]")],
        [f"{FILE}:6: themes : thème inconnu « mobilites » (vouliez-vous dire « mobilite » ?) ; {THEMES}"]),
    "unknown theme far from any": (
        [("themes: [environnement]", "themes: [culture]")],
        [f"{FILE}:6: themes : thème inconnu « culture » ; {THEMES}"]),
    "unknown audience": (
        [("themes: [environnement]", "themes: [environnement]\naudiences: [entreprises]")],
        [f"{FILE}:7: audiences : public inconnu « entreprises » ; {AUDIENCES}"]),
    "unknown form": (
        [("form: entreprise", "form: entreprises")],
        [f"{FILE}:11: submission.form : formulaire inconnu « entreprises » (vouliez-vous dire « entreprise » ?) ; "
         "formulaires possibles (content/forms/) : citoyen, entreprise"]),
    "summary too long": (
        [("summary: Des capteurs pour le port.", "summary: " + "x" * 301)],
        [f"{FILE}:5: summary : trop long : 301 caractères, 300 au plus"]),
    "text expected": (
        [("title: Capteurs pour le port", "title: [Capteurs, port]")],
        [f"{FILE}:2: title : un texte est attendu, pas une liste ; un texte qui commence par [ ou {{ ou qui vaut "
         "true, false, yes ou no s'écrit entre guillemets"]),
    "list expected": (
        [("themes: [environnement]", "themes: environnement")],
        [f"{FILE}:6: themes : une liste est attendue, entre crochets : [a, b]"]),
    "key written twice": (
        [("themes: [environnement]", "themes: [environnement]\nthemes: [mobilite]")],
        [f"{FILE}:7: themes : cette information est écrite deux fois : gardez-en une"]),
    "missing document file": (
        [("---\n## Contexte", "documents:\n  - {title: Annexe, file: annexe.pdf}\n---\n## Contexte")],
        [f"{FILE}:14: documents.file : fichier « annexe.pdf » introuvable dans calls/port-capteurs/ : déposez-le "
         "dans le dossier de l'appel, sous ce nom exact"]),
    "document outside the folder": (
        [("---\n## Contexte", "documents:\n  - {title: Annexe, file: ../annexe.pdf}\n---\n## Contexte")],
        [f"{FILE}:14: documents.file : « ../annexe.pdf » doit être le nom d'un fichier du dossier de l'appel, sans /"]),
    "document not a mapping": (
        [("---\n## Contexte", "documents:\n  - annexe.pdf\n---\n## Contexte")],
        [f"{FILE}:14: documents : un document s'écrit - {{title: …, file: …}}"]),
    "question not a mapping": (
        [("---\n## Contexte", "questions:\n  - Faut-il du LoRaWAN ?\n---\n## Contexte")],
        [f"{FILE}:14: questions : chaque entrée de questions s'écrit - {{date: …, question: …, answer: …}}"]),
    "invalid export address": (
        [("[innovation@metropole.example.org]", "[innovation@metropole.example.org, innovation.metropole]")],
        [f"{FILE}:12: submission.exports_to : « innovation.metropole » n'est pas une adresse électronique valide"]),
    "no export address": (
        [("  exports_to: [innovation@metropole.example.org]\n", "")],
        [f"{FILE}:10: submission.exports_to : destinataires des réponses absents : exports_to, une liste "
         "d'adresses électroniques"]),
    "no way to answer an open call": (
        [("submission:\n  form: entreprise\n  exports_to: [innovation@metropole.example.org]\n", "")],
        [f"{FILE}:2: submission : comment répondre ? Un appel qui attend des réponses a une partie submission : "
         "un formulaire (form: ou fields:) et ses destinataires (exports_to:), ou le lien de la plateforme des "
         "marchés publics (external_url:)"]),
    "submission without a form": (
        [("  form: entreprise\n", "")],
        [f"{FILE}:10: submission : un appel ouvert aux réponses dit comment répondre : form: (un formulaire de "
         "content/forms/), fields: ou external_url:"]),
    "submission left empty by the editor": (
        [("  form: entreprise\n", '  form: ""\n  external_url: ""\n  digest: ""\n')],
        [f"{FILE}:10: submission : un appel ouvert aux réponses dit comment répondre : form: (un formulaire de "
         "content/forms/), fields: ou external_url:"]),
    "submission not a mapping": (
        [("submission:\n  form: entreprise\n  exports_to: [innovation@metropole.example.org]\n",
          "submission: entreprise\n")],
        [f"{FILE}:10: submission : submission s'écrit avec des lignes indentées : form: et exports_to:, ou "
         "external_url:"]),
    "form and fields": (
        [("  form: entreprise\n", "  form: entreprise\n" + INLINE_FORM)],
        [f"{FILE}:12: submission.fields : écrivez form: (un formulaire commun) ou fields: (des champs propres à "
         "l'appel), pas les deux"]),
    "external url not https": (
        [("  form: entreprise\n  exports_to: [innovation@metropole.example.org]\n",
          "  external_url: http://marches.example.org\n")],
        [f"{FILE}:11: submission.external_url : « http://marches.example.org » n'est pas une adresse https://"]),
    "form with external url": (
        [("  exports_to: [innovation@metropole.example.org]\n", "  external_url: https://marches.example.org\n")],
        [f"{FILE}:11: submission.form : form ne s'applique pas avec external_url (les réponses vont sur la "
         "plateforme des marchés)"]),
    "unknown digest": (
        [("  form: entreprise\n", "  form: entreprise\n  digest: monthly\n")],
        [f"{FILE}:12: submission.digest : rythme d'envoi inconnu « monthly » ; rythmes possibles : daily, weekly"]),
    "information notice takes no answers": (
        [("type: appel-a-solutions", "type: avis-information")],
        [f"{FILE}:10: submission : un avis d'information n'attend pas de réponse : retirez submission"]),
    "inline form without email field": (
        [("  form: entreprise\n", "  fields:\n    - {name: nom, label: Nom, type: text}\n")],
        [f"{FILE}:11: submission.fields : un formulaire a exactement un champ de type email (l'adresse du "
         "candidat, où part l'accusé de réception) ; celui-ci en a 0"]),
    "unknown field type": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: nom, label: Nom, type: texte}\n")],
        [f"{FILE}:13: submission.fields.type : type de champ inconnu « texte » (vouliez-vous dire « text » ?) ; "
         + FIELD_TYPES]),
    "invalid field name": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: Nom-Prénom, label: Nom, type: text}\n")],
        [f"{FILE}:13: submission.fields.name : « Nom-Prénom » n'est pas un nom technique valide : une lettre "
         "minuscule puis minuscules, chiffres et _, sans accent"]),
    "field defined twice": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: courriel, label: Autre, type: text}\n")],
        [f"{FILE}:13: submission.fields.name : le champ « courriel » est défini deux fois"]),
    "select without choices": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: taille, label: Taille, type: select}\n")],
        [f"{FILE}:13: submission.fields.choices : un champ select a besoin de choices: une liste de textes"]),
    "choices on a text field": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: nom, label: Nom, type: text, choices: [a]}\n")],
        [f"{FILE}:13: submission.fields.choices : choices ne vaut que pour les champs select et multiselect, "
         "pas pour text"]),
    "required not a boolean": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: nom, label: Nom, type: text, required: oui}\n")],
        [f"{FILE}:13: submission.fields.required : required vaut true (obligatoire) ou false (facultatif)"]),
    "unknown file format": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: dossier, label: Dossier, type: file, accept: [pdff]}\n")],
        [f"{FILE}:13: submission.fields.accept : format de fichier inconnu « pdff » (vouliez-vous dire « pdf » ?) ; "
         "formats possibles : pdf, odt, ods, odp, docx, xlsx, pptx, png, jpg"]),
    "file size out of range": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: dossier, label: Dossier, type: file, max_size_mb: 80}\n")],
        [f"{FILE}:13: submission.fields.max_size_mb : max_size_mb est une taille en Mo, plus de 0 et 50 au plus"]),
    "file option on a text field": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: nom, label: Nom, type: text, accept: [pdf]}\n")],
        [f"{FILE}:13: submission.fields.accept : accept ne vaut que pour les champs file, pas pour text"]),
    "max length not a whole number": (
        [("  form: entreprise\n", INLINE_FORM + "    - {name: nom, label: Nom, type: text, max_length: -3}\n")],
        [f"{FILE}:13: submission.fields.max_length : max_length est un nombre entier de caractères, plus grand que 0"]),
    "level-1 heading in the text": (
        [("## Contexte", "# Contexte")],
        [f"{FILE}:14: body : titre de niveau 1 (# …) dans le texte : le titre de l'appel est le seul de la page ; "
         "commencez les parties par ##"]),
    "no text": (
        [("## Contexte\n\nLe port cherche des capteurs.\n", "## Contexte\n\n## Calendrier\n")],
        [f"{FILE}:14: body : le texte de l'appel est vide : présentez le contexte, ce qui est recherché, "
         "l'éligibilité, les critères de sélection et le calendrier, après la seconde ligne ---"]),
    "text left to write": (
        [("Le port cherche des capteurs.", "[À compléter : présentez l'organisation.]")],
        [f"{FILE}:16: body : texte à compléter : « [À compléter : présentez l'organisation.] » ; remplacez-le "
         "par votre texte"]),
    "summary left to write": (
        [("summary: Des capteurs pour le port.", 'summary: "[À compléter : une phrase]"')],
        [f"{FILE}:5: summary : texte à compléter : « [À compléter : une phrase] » ; remplacez-le par votre texte"]),
}


@pytest.mark.parametrize("case", MESSAGES)
def test_every_message_names_file_line_and_field_in_french(root, case):
    changes, expected = MESSAGES[case]
    assert sorted(call_problems(root, replaced(*changes))) == sorted(expected)


@pytest.mark.parametrize("mistake, line, message", [
    ("title: Capteurs : un œil sur le port", 2,
     "un « : » suivi d'un espace dans un texte sans guillemets ; mettez tout le texte entre guillemets droits : "
     "« title: \"Capteurs : un œil sur le port\" »"),
    ("title: @port Capteurs", 2,
     "un texte qui commence par « @ » s'écrit entre guillemets droits : « title: \"@port Capteurs\" »"),
    ("title: *Capteurs* pour le port", 2,
     "un texte qui commence par « * » s'écrit entre guillemets droits : « title: \"*Capteurs* pour le port\" »"),
    ('title: "Capteurs pour le port', 2,
     "guillemet ouvert et jamais refermé : refermez le texte par le même guillemet, sur la même information"),
    ("title: 'Capteurs pour l'air'", 2,
     "apostrophe dans un texte entre apostrophes : doublez-la ('l''air'), ou écrivez le texte entre guillemets "
     "droits doubles (\"l'air\")"),
    ("title: Capteurs\npour le port", 3,
     "ligne sans « : » : chaque information s'écrit « clé: valeur » ; un texte sur plusieurs lignes s'écrit entre "
     "guillemets"),
    ("title: Capteurs pour le port\n  type: ami", 3,
     "indentation décalée : les informations de même niveau commencent à la même colonne, avec des espaces "
     "(jamais de tabulation)"),
    ("title: Capteurs pour le port\n\tbudget: 10", 3, "une tabulation sert d'indentation : remplacez-la par des espaces"),
])
def test_a_yaml_mistake_says_in_plain_words_what_to_fix_and_where(root, mistake, line, message):
    text = VALID.replace("title: Capteurs pour le port", mistake)
    assert call_problems(root, text) == [f"{FILE}:{line}: {message}"]


def test_an_unclosed_bracket_is_shown_where_it_opens(root):
    text = VALID.replace("themes: [environnement]", "themes: [environnement")
    assert call_problems(root, text) == [
        f"{FILE}:6: crochet « [ » mal refermé : une liste s'écrit sur une ligne, [a, b] ; un élément qui contient une "
        "virgule, un « : » ou un crochet s'écrit entre guillemets"]


def test_a_colon_inside_braces_asks_for_quotes(root):
    text = VALID.replace("---\n## Contexte", "documents:\n  - {title: Annexe : plan, file: annexe.pdf}\n---\n## Contexte")
    assert call_problems(root, text) == [
        f"{FILE}:14: accolades « {{ … }} » mal refermées : entre accolades, un texte qui contient « : », une virgule "
        'ou une accolade s\'écrit entre guillemets, par exemple {title: "Annexe : plan", file: annexe.pdf}']


def test_no_message_is_left_in_english(root):
    """Every problem of every case reads in French (no leftover English template)."""
    english = ("is not", "must", "is required", "unknown", "not found", "expected", "invalid", "did you mean")
    for changes, _ in MESSAGES.values():
        for problem in call_problems(root, replaced(*changes)):
            message = problem.split(": ", 1)[1]
            assert not any(word in message for word in english), problem


def test_registry_messages_are_french(root):
    (root / "content" / "themes.yaml").write_text("Environnement: Environnement\nmobilite: [Mobilité]\n")
    (root / "content" / "partners.yaml").write_text(
        "metropole:\n  name: Métropole\n  url: metropole.example.org\n  logo: logo.svg\n")
    found = problems(root)
    assert "content/themes.yaml:1: Environnement : « Environnement » n'est pas une clé valide : minuscules sans " \
           "accent, chiffres et tirets" in found
    assert "content/themes.yaml:2: mobilite : un thème s'écrit « cle: Libellé »" in found
    assert "content/partners.yaml:3: metropole.url : « metropole.example.org » n'est pas une adresse web " \
           "(http:// ou https://)" in found
    assert "content/partners.yaml:4: metropole.logo : fichier « content/partners/logo.svg » introuvable" in found


def test_shared_form_with_two_email_fields(root):
    form = root / "content" / "forms" / "citoyen.yaml"
    form.write_text(form.read_text() + "  - {name: email2, label: Autre adresse, type: email}\n")
    assert problems(root) == [
        "content/forms/citoyen.yaml:2: fields : un formulaire a exactement un champ de type email (l'adresse du "
        "candidat, où part l'accusé de réception) ; celui-ci en a 2"]


def test_duplicate_slugs(root):
    write_call(root, "port-capteurs", VALID, folder="calls/2026")
    write_call(root, "port-capteurs", VALID, folder="calls/2027")
    assert problems(root) == [
        "calls/2027/port-capteurs/call.md:1: slug : l'adresse « port-capteurs » sert déjà à "
        "calls/2026/port-capteurs/call.md : renommez l'un des deux dossiers"]


def test_bad_slug(root):
    assert call_problems(root, VALID, slug="Port_Capteurs") == [
        "calls/Port_Capteurs/call.md:1: slug : nom de dossier « Port_Capteurs » invalide : minuscules sans "
        "accent, chiffres et tirets, par exemple capteurs-air-ecoles"]


def test_a_file_without_front_matter(root):
    assert call_problems(root, "# Capteurs\n\nLe port cherche des capteurs.\n") == [
        f"{FILE}:1: un appel commence par ses informations entre deux lignes --- (voir docs/publier-un-appel.md)"]


def test_every_error_is_reported_at_once(root):
    text = (VALID.replace("partner: metropole", "partner: inconnu")
            .replace("closes: 2027-01-15T12:00", 'closes: "2027-02-30"')
            .replace("[innovation@metropole.example.org]", "[pas-une-adresse]"))
    assert len(call_problems(root, text)) == 3


def test_check_command_exits_1_and_counts_the_errors(root):
    write_call(root, "port-capteurs", VALID.replace("partner: metropole", "partner: inconnu")
               .replace("closes: 2027-01-15T12:00", 'closes: "2027-02-30"'))
    result = CliRunner().invoke(main, ["check", "--settings", str(root / "settings.py")])
    assert result.exit_code == 1
    assert f"{FILE}:4: partner : partenaire inconnu « inconnu » ; {PARTNERS}" in result.output
    assert result.output.rstrip().endswith("\n2 erreurs.")
    assert "publi" not in result.output


def test_check_command_says_no_error(root):
    result = CliRunner().invoke(main, ["check", "--settings", str(root / "settings.py")])
    assert result.exit_code == 0, result.output
    assert "Aucune erreur : 7 appels, 3 partenaires, 3 thèmes, 2 formulaires." in result.output


def test_build_refuses_an_invalid_catalogue_and_keeps_the_previous_site(root, tmp_path):
    output = tmp_path / "output"
    settings = str(root / "settings.py")
    runner = CliRunner()
    assert runner.invoke(main, ["build", "--settings", settings, "--output", str(output), "--no-search"]).exit_code == 0
    before = sorted(os.listdir(output))
    write_call(root, "port-capteurs", VALID.replace('closes: 2027-01-15T12:00', 'closes: "2027-02-30"'))
    result = runner.invoke(main, ["build", "--settings", settings, "--output", str(output), "--no-search"])
    assert result.exit_code == 1
    assert "la date « 2027-02-30 » n'existe pas" in result.output
    assert "1 erreur : site non construit, la version précédente reste en place." in result.output
    assert sorted(os.listdir(output)) == before
    assert not (output / "appels" / "port-capteurs").exists()
    assert [p for p in os.listdir(tmp_path) if p.startswith("output.")] == []
