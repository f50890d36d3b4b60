"""Staff tools: `calls new` writes a call whose values pass `calls check` and whose texts to write
fail it until written, and the pull request workflow only runs what a person can run locally."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from calls_cli import main
from calls_cli.new import slugify
from callmodel.schema import PLACEHOLDER
from generator.editor import PREVIEW_CONTEXT
from generator.reader import read_call, read_registries

from .conftest import ROOT

OPTIONS = ["--type", "appel-a-solutions", "--partner", "metropole", "--title", "Capteurs d'air à l'école : un œil sur le CO2",
           "--summary", "Des capteurs sobres pour mesurer l'air des classes.", "--published", "2026-11-28",
           "--opens", "2026-12-01T09:00", "--closes", "2027-01-31T12:00",
           "--exports-to", "innovation@metropole.example.org", "--theme", "environnement", "--audience", "pme"]


def run(site, *args, input=None):
    return CliRunner().invoke(main, [*args, "--settings", str(site / "settings.py")], input=input)


def write_texts(path):
    """What staff do after `calls new`: write their text in place of each one left to write."""
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"\[" + PLACEHOLDER + r" : ([^\]]*)\]", r"Texte écrit : \1", text), encoding="utf-8")


def read_back(site, slug):
    path = site / "calls" / slug / "call.md"
    write_texts(path)
    registries, problems = read_registries(str(site / "content"))
    assert problems == []
    call, problems = read_call(str(path), registries)
    assert problems == []
    return call


def test_a_new_call_fails_the_check_until_its_texts_are_written(catalogue_copy):
    result = run(catalogue_copy, "new", *OPTIONS)
    assert result.exit_code == 0, result.output
    slug = "capteurs-d-air-a-l-ecole-un-oeil-sur-le-co2"
    path = catalogue_copy / "calls" / slug / "call.md"
    assert f"Appel créé : {path}" in result.output
    assert "à la place des 4 « [À compléter : …] »" in result.output
    check = run(catalogue_copy, "check")
    assert check.exit_code == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("[À compléter : présentez"))
    assert (f"calls/{slug}/call.md:{line}: body : texte à compléter : « [À compléter : présentez l'organisation "
            "qui lance l'appel et le besoin de départ.] » ; remplacez-le par votre texte") in check.output
    assert check.output.rstrip().endswith("4 erreurs.")
    call = read_back(catalogue_copy, slug)
    assert call.title == "Capteurs d'air à l'école : un œil sur le CO2"
    assert call.closes.isoformat() == "2027-01-31T12:00:00+01:00"
    assert call.submission.form == "entreprise"
    assert call.submission.exports_to == ("innovation@metropole.example.org",)
    assert call.themes == ("environnement",)
    assert call.audiences == ("pme",)
    assert [h.split("</h2>")[0] for h in call.body.split("<h2>")[1:]] == [
        "Contexte", "Ce qui est recherché", "Éligibilité", "Critères de sélection", "Calendrier"]
    assert "31 janvier 2027 à 12 h 00" in call.body
    check = run(catalogue_copy, "check")
    assert check.exit_code == 0, check.output
    assert "Aucune erreur : 8 appels" in check.output


def test_new_call_comments_every_field_in_french(catalogue_copy):
    assert run(catalogue_copy, "new", *OPTIONS, "--slug", "capteurs-ecoles").exit_code == 0
    with open(catalogue_copy / "calls" / "capteurs-ecoles" / "call.md", encoding="utf-8") as handle:
        front = handle.read().split("---\n")[1]
    keys = [line for line in front.splitlines() if line and not line.startswith("#") and not line.startswith("  ")]
    assert [k.split(":")[0] for k in keys] == [
        "title", "type", "partner", "summary", "themes", "audiences", "published", "opens", "closes",
        "timezone", "budget", "submission", "documents", "questions", "amendments"]
    assert all("  # " in line for line in front.splitlines() if not line.startswith("#"))
    assert "# Qui porte l'appel : une clé de content/partners.yaml." in front


@pytest.mark.parametrize("kind, form", [("consultation", "citoyen"), ("ami", "entreprise"), ("concours", "entreprise")])
def test_new_call_gets_the_default_form_of_its_type(catalogue_copy, kind, form):
    options = [o if o != "appel-a-solutions" else kind for o in OPTIONS]
    assert run(catalogue_copy, "new", *options, "--slug", "nouvel-appel").exit_code == 0
    assert read_back(catalogue_copy, "nouvel-appel").submission.form == form


def test_new_information_notice_takes_no_answers_and_needs_no_deadline(catalogue_copy):
    result = run(catalogue_copy, "new", "--type", "avis-information", "--partner", "transports", "--title",
                 "Réunion des acheteurs", "--summary", "Une réunion publique.", "--opens", "2026-12-01T09:00",
                 "--theme", "mobilite", "--audience", "pme", "--audience", "eti")
    assert result.exit_code == 0, result.output
    call = read_back(catalogue_copy, "reunion-des-acheteurs")
    assert call.submission is None and call.closes is None and not call.answerable


def test_new_call_asks_again_until_each_answer_is_valid(catalogue_copy):
    answers = "\n".join([
        "consultation", "personne", "metropole", "Vélo en ville", "Donnez votre avis sur le vélo.",
        "velo", "mobilite, environnement", "habitants", "citoyen",
        "", "2026-11-01T10:00", "2027-03-01T12:00", "pas-une-adresse", "velo@metropole.example.org", ""])
    result = run(catalogue_copy, "new", "--published", "2026-12-01", input=answers)
    assert result.exit_code == 0, result.output
    assert "Erreur : Partenaire inconnu « personne » ; partenaires possibles : metropole" in result.output
    assert "Erreur : Thème inconnu « velo » ; thèmes possibles : environnement, mobilite, sante." in result.output
    assert "Erreur : Public inconnu « habitants » ; publics possibles : citoyen, association" in result.output
    assert "doit être après l'ouverture (2026-12-01T09:00)" in result.output
    assert "« pas-une-adresse » n'est pas une adresse électronique valide" in result.output
    call = read_back(catalogue_copy, "velo-en-ville")
    assert call.opens.isoformat() == "2026-12-01T09:00:00+01:00"
    assert call.submission.form == "citoyen"
    assert call.submission.exports_to == ("velo@metropole.example.org",)
    assert call.themes == ("mobilite", "environnement") and call.audiences == ("citoyen",)


def test_new_call_refuses_an_existing_slug(catalogue_copy):
    path = catalogue_copy / "calls" / "capteurs-air" / "call.md"
    before = path.read_text(encoding="utf-8")
    result = run(catalogue_copy, "new", *OPTIONS, "--slug", "capteurs-air")
    assert result.exit_code == 1
    assert "Un appel existe déjà avec l'adresse « capteurs-air »" in result.output
    assert path.read_text(encoding="utf-8") == before


def test_new_call_with_an_unknown_partner_lists_the_known_ones(catalogue_copy):
    options = [o if o != "metropole" else "mairie" for o in OPTIONS]
    result = run(catalogue_copy, "new", *options)
    assert result.exit_code == 2
    assert "Partenaire inconnu « mairie »" in result.output
    assert "metropole (Métropole de Testville), transports (Transports de Testville), hopital (Hôpitaux de Testville)" in result.output
    assert sorted(os.listdir(catalogue_copy / "calls")) == sorted(os.listdir(os.path.join(ROOT, "tests/fixtures/site/calls")))


def with_option(flag, value):
    """OPTIONS with `flag` set to `value` (replaced if present, added otherwise)."""
    options = list(OPTIONS)
    if flag in options and flag not in ("--theme", "--audience"):
        options[options.index(flag) + 1] = value
    else:
        options += [flag, value]
    return options


@pytest.mark.parametrize("flag, value, message", [
    ("--closes", "2026-11-30T12:00", "doit être après l'ouverture"),
    ("--closes", "demain", "« demain » n'est pas une date et une heure"),
    ("--exports-to", "innovation@", "« innovation@ » n'est pas une adresse électronique valide"),
    ("--theme", "sport", "Thème inconnu « sport »"),
    ("--audience", "habitants", "Public inconnu « habitants »"),
    ("--form", "inexistant", "formulaire « inexistant » introuvable dans content/forms/"),
    ("--slug", "Pas_Un_Slug", "lettres minuscules, chiffres et tirets"),
])
def test_new_call_rejects_invalid_options_with_the_validator_rules(catalogue_copy, flag, value, message):
    result = run(catalogue_copy, "new", *with_option(flag, value))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(os.listdir(catalogue_copy / "calls")) == 7


def test_new_call_opening_on_a_bare_date_opens_at_midnight(catalogue_copy):
    assert run(catalogue_copy, "new", *with_option("--opens", "2026-12-01"), "--slug", "essai").exit_code == 0
    assert read_back(catalogue_copy, "essai").opens.isoformat() == "2026-12-01T00:00:00+01:00"


def test_slugs_are_ascii_lowercase_hyphenated_and_short():
    assert slugify("Appel à projets : « Cœur de ville »") == "appel-a-projets-coeur-de-ville"
    assert slugify("Santé & bien-être 2027") == "sante-bien-etre-2027"
    long = slugify("Un titre " * 20)
    assert len(long) <= 60 and not long.endswith("-")


def workflow_steps():
    with open(os.path.join(ROOT, ".github", "workflows", "preview.yml"), encoding="utf-8") as handle:
        workflow = yaml.safe_load(handle)
    assert set(workflow[True]["pull_request"]["types"]) == {"opened", "synchronize", "reopened", "closed"}
    return {name: job["steps"] for name, job in workflow["jobs"].items()}


def test_preview_workflow_only_runs_make_targets_and_calls_commands():
    steps = workflow_steps()["preview"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python", "actions/setup-node"]
    commands = [line.strip() for s in steps if "run" in s for line in s["run"].splitlines() if line.strip()]
    assert commands[:2] == ["make check", "make html"]
    for command in commands[2:]:
        assert command.startswith((".venv/bin/calls diff ", "gh pr comment ", ".github/scripts/previews.sh ",
                                   "gh api ", "exit 1")), command
    # The comment links the published preview, and carries the check's errors when there are some.
    assert '.venv/bin/calls diff "$BASE" --check --preview "$PREVIEW_URL" > "$RUNNER_TEMP/appels.md"' in commands
    # The editor shows the preview beside a draft: the status the workflow sets is the one it looks for.
    [status] = [c for c in commands if c.startswith("gh api ")]
    assert f"-f context={PREVIEW_CONTEXT} " in status and '-f target_url="$PREVIEW_URL/"' in status


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_previews_are_published_at_a_path_of_gh_pages_and_removed(tmp_path):
    """The workflow's publishing step, run against a real remote: two pull requests publish side by
    side (without the editor's files), closing one removes its folder only."""
    remote, clone = tmp_path / "remote.git", tmp_path / "clone"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    (clone / "README.md").write_text("dépôt\n")
    git(clone, "add", "README.md")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "début")
    git(clone, "push", "-q", "origin", "main")
    site = tmp_path / "output"
    (site / "admin").mkdir(parents=True)
    (site / "index.html").write_text("<h1>Aperçu</h1>")
    (site / "admin" / "decap-cms.js").write_text("//")
    script = os.path.join(ROOT, ".github", "scripts", "previews.sh")
    for number in ("12", "13"):
        subprocess.run([script, "publish", number, str(site)], cwd=clone, check=True, capture_output=True)
    subprocess.run([script, "remove", "12"], cwd=clone, check=True, capture_output=True)
    files = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").split()
    assert sorted(files) == [".nojekyll", "apercus/13/index.html"]
    assert git(clone, "status", "--porcelain") == ""
