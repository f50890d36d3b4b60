"""The public history of a call, read from a real git repository, as the public sees it: on the call
page, in api/calls.json and in the OCDS package; and `calls diff`, the pull request's summary."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from click.testing import CliRunner

from calls_cli import main
from calls_cli.site import build_site
from generator import history, parallel
from generator import site as generator_site

from .conftest import ROOT

NOW = "2026-12-10T12:00:00+01:00"
DATE_MOVED = "Date limite : 15 janvier 2027 à 12 h 00 → 31 janvier 2027 à 12 h 00"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch, tmp_path):
    """Git finds no repository above the test's folder, and commits have a known author."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{name}_NAME", "Équipe innovation")
        monkeypatch.setenv(f"GIT_{name}_EMAIL", "innovation@example.org")


def git(repo, *args, date=None) -> str:
    env = dict(os.environ)
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def edit(path, old, new):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert old in text
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.replace(old, new, 1))


def commit(repo, message, date):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(catalogue_copy):
    """The fixture catalogue in its own repository, with the life of capteurs-air after publication:
    deadline moved, annex added, question answered, text edited, folder renamed."""
    calls = catalogue_copy / "calls"
    call = calls / "capteurs-air" / "call.md"
    git(catalogue_copy, "init", "-q", "-b", "main")
    commits = {"published": commit(catalogue_copy, "Publication des appels", "2026-11-02T10:00:00+01:00")}
    edit(call, "closes: 2027-01-15T12:00", "closes: 2027-01-31T12:00")
    edit(call, "amendments:\n", "amendments:\n  - {date: 2026-11-30, summary: Date limite repoussée au 31 janvier.}\n")
    commits["moved"] = commit(catalogue_copy, "Date limite repoussée", "2026-11-30T09:15:00+01:00")
    (calls / "capteurs-air" / "annexe-technique.pdf").write_bytes(b"%PDF-1.4 annexe\n")
    edit(call, "documents:\n", "documents:\n  - {title: Annexe technique, file: annexe-technique.pdf}\n")
    edit(call, "questions:\n", "questions:\n  - {date: 2026-12-01, question: Faut-il un boîtier étanche ?, answer: Non.}\n")
    commits["annex"] = commit(catalogue_copy, "Annexe et réponse", "2026-12-01T16:40:00+01:00")
    edit(call, "Des capteurs de CO2", "Des capteurs de CO2, de COV")
    commits["text"] = commit(catalogue_copy, "Texte précisé", "2026-12-02T11:00:00+01:00")
    git(catalogue_copy, "mv", "calls/capteurs-air", "calls/capteurs-air-ecoles")
    commits["renamed"] = commit(catalogue_copy, "Adresse plus parlante", "2026-12-03T08:00:00+01:00")
    return catalogue_copy, commits


def build(site, tmp_path, *, now=NOW) -> str:
    output = str(tmp_path / "output")
    assert build_site(str(site / "settings.py"), output, now=now, search=False, quiet=True) == 0
    return output


def page_text(output, path) -> str:
    with open(os.path.join(output, path, "index.html"), encoding="utf-8") as handle:
        return html.unescape(re.sub(r"\s+", " ", handle.read()))


def history_section(text) -> str:
    match = re.search(r'<section class="ap-history".*?</section>', text)
    assert match, "no history section"
    return match.group(0)


def load(output, path):
    with open(os.path.join(output, path), encoding="utf-8") as handle:
        return json.load(handle)


def test_call_page_tells_each_change_after_publication_newest_first(repo, tmp_path):
    site, commits = repo
    section = history_section(page_text(build(site, tmp_path), "appels/capteurs-air-ecoles"))
    assert "<h2 id=\"historique\">Historique des modifications</h2>" in section
    expected = [
        "Adresse de la page : /appels/capteurs-air/ → /appels/capteurs-air-ecoles/",
        "Texte de l'appel modifié",
        "Document ajouté : Annexe technique",
        "Question publiée : Faut-il un boîtier étanche ?",
        DATE_MOVED,
        "Note de modification : Date limite repoussée au 31 janvier.",
        "Publication de l'appel",
    ]
    positions = [section.index(sentence) for sentence in expected]
    assert positions == sorted(positions)
    assert "30 novembre 2026 à 9 h 15" in section
    assert commits["moved"][:10] in section
    assert "<h3>" in section and "<h4" not in section


def test_the_history_read_by_a_forked_child_makes_the_same_site(repo, tmp_path, monkeypatch):
    """A new process's build of many calls reads their history in a forked child while it goes on."""
    site, _ = repo
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = build(site, tmp_path / "one")
    monkeypatch.setattr(parallel, "MINIMUM", 2)  # as for a large catalogue
    taken, history_of = [], generator_site.history_of
    monkeypatch.setattr(generator_site, "history_of", lambda read: taken.append(history_of(read)) or taken[-1])
    two = build(site, tmp_path / "two")
    assert len(taken) == 1 and taken[0].available and taken[0].of("capteurs-air-ecoles").entries
    for path in ("appels/capteurs-air-ecoles/index.html", "api/calls.json", "api/ocds.json"):
        with open(os.path.join(one, path), "rb") as a, open(os.path.join(two, path), "rb") as b:
            assert a.read() == b.read(), path


def test_a_long_running_process_asks_git_only_about_the_changed_files(repo):
    """`make serve` passes what it knew and what changed: the answer is a full `git status`'s."""
    site, _ = repo
    calls = site / "calls"
    call = calls / "capteurs-air-ecoles" / "call.md"
    known = None

    def step(*changed):
        nonlocal known
        info = history.BuildInfo(str(calls), known=known, changed={str(p) for p in changed})
        answer, known = info.result(), info.known_now()
        assert answer == history.BuildInfo(str(calls)).result(), changed  # what asking about every file says
        return answer["modified"]

    assert step() is False  # the first build asks about every file
    edit(call, "Des capteurs de CO2", "Des capteurs de CO2 et de bruit")
    assert step(call) is True
    edit(call, "Des capteurs de CO2 et de bruit", "Des capteurs de CO2")
    assert step(call) is False  # changed back
    shutil.copytree(calls / "telesurveillance", calls / "nouvel-appel")
    assert step(calls / "nouvel-appel" / "call.md") is True  # a new call, not in git yet
    assert step() is True  # nothing changed since: still modified
    commit(site, "Nouvel appel", "2026-12-04T08:00:00+01:00")
    assert step() is False  # a new commit: every file asked about again
    shutil.rmtree(calls / "nouvel-appel")
    assert step(calls / "nouvel-appel") is True


def test_calls_json_has_history_and_version_and_ocds_has_amendments(repo, tmp_path):
    site, commits = repo
    output = build(site, tmp_path)
    records = {c["slug"]: c for c in load(output, "api/calls.json")["calls"]}
    record = records["capteurs-air-ecoles"]
    assert record["version"] == commits["renamed"]
    assert [e["commit"] for e in record["history"]] == [commits[k] for k in ("published", "moved", "annex", "text", "renamed")]
    assert record["history"][0]["publication"] is True
    assert record["history"][1]["changes"] == [DATE_MOVED, "Note de modification : Date limite repoussée au 31 janvier."]
    assert record["history"][1]["date"] == "2026-11-30T09:15:00+01:00"
    assert record["history"][3]["changes"] == ["Texte de l'appel modifié"]
    assert records["billettique-tram"]["version"] == commits["published"]
    # The same changes for programs: field, old and new value, ISO 8601 for dates.
    assert record["history"][0]["changed"] == []
    moved = {c["field"]: c for c in record["history"][1]["changed"]}
    assert moved["closes"] == {"field": "closes", "old": "2027-01-15T12:00:00+01:00", "new": "2027-01-31T12:00:00+01:00"}
    note = "Date limite repoussée au 31 janvier."
    assert note in moved["amendments"]["new"] and note not in moved["amendments"]["old"]
    annex = {c["field"]: c for c in record["history"][2]["changed"]}
    assert {"file": "annexe-technique.pdf", "title": "Annexe technique"} in annex["documents"]["new"]
    answered = {"question": "Faut-il un boîtier étanche ?", "answer": "Non."}
    assert answered in annex["questions"]["new"] and answered not in annex["questions"]["old"]
    assert record["history"][3]["changed"] == [{"field": "body", "old": None, "new": None}]
    assert record["history"][4]["changed"] == [{"field": "slug", "old": "capteurs-air", "new": "capteurs-air-ecoles"}]

    package = load(output, "api/ocds.json")
    schemas = os.path.join(ROOT, "tests", "data", "ocds")
    release = load(schemas, "release-schema.json")
    registry = referencing.Registry().with_resource(
        release["id"], referencing.Resource.from_contents(release, default_specification=referencing.jsonschema.DRAFT4))
    validator = jsonschema.Draft4Validator(load(schemas, "release-package-schema.json"), registry=registry,
                                           format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(package)] == []
    tender = next(r["tender"] for r in package["releases"] if r["tender"]["id"] == "capteurs-air-ecoles")
    descriptions = [a.get("description") for a in tender["amendments"]]
    assert f"{DATE_MOVED} ; Note de modification : Date limite repoussée au 31 janvier." in descriptions
    assert {a["id"] for a in tender["amendments"]} >= {f"capteurs-air-ecoles-{commits['renamed'][:10]}"}
    moved = next(a for a in tender["amendments"] if a["id"] == f"capteurs-air-ecoles-{commits['moved'][:10]}")
    assert {"property": "closes", "former_value": "2027-01-15T12:00:00+01:00",
            "new_value": "2027-01-31T12:00:00+01:00"} in moved["changes"]


def test_a_document_replaced_without_a_new_title_is_an_update(repo, tmp_path):
    site, _ = repo
    (site / "calls" / "capteurs-air-ecoles" / "cahier-des-charges.pdf").write_bytes(b"%PDF-1.4 v2\n")
    commit(site, "Cahier des charges corrigé", "2026-12-04T10:00:00+01:00")
    record = {c["slug"]: c for c in load(build(site, tmp_path), "api/calls.json")["calls"]}["capteurs-air-ecoles"]
    assert record["history"][-1]["changes"] == ["Document mis à jour : Cahier des charges"]


def test_a_merged_pull_request_is_one_change_dated_when_it_landed(repo, tmp_path):
    site, _ = repo
    git(site, "checkout", "-q", "-b", "demande")
    call = site / "calls" / "telesurveillance" / "call.md"
    edit(call, "closes: 2027-04-10T12:00", "closes: 2027-04-20T12:00")
    commit(site, "Date limite", "2026-12-04T10:00:00+01:00")
    edit(call, "summary: ", "summary: Nouveau résumé. ")
    commit(site, "Résumé", "2026-12-04T11:00:00+01:00")
    git(site, "checkout", "-q", "main")
    git(site, "merge", "-q", "--no-ff", "demande", "-m", "Demande acceptée", date="2026-12-05T09:00:00+01:00")
    record = {c["slug"]: c for c in load(build(site, tmp_path), "api/calls.json")["calls"]}["telesurveillance"]
    assert record["version"] == git(site, "rev-parse", "HEAD")
    assert [(e["date"], e["changes"]) for e in record["history"][1:]] == [
        ("2026-12-05T09:00:00+01:00", ["Résumé modifié", "Date limite : 10 avril 2027 à 12 h 00 → 20 avril 2027 à 12 h 00"])]


def test_shallow_clone_builds_and_says_history_is_unavailable(repo, tmp_path):
    site, _ = repo
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{site}", str(clone))
    output = build(clone, tmp_path)
    section = history_section(page_text(output, "appels/capteurs-air-ecoles"))
    assert "Historique indisponible pour cette version du site" in section
    record = {c["slug"]: c for c in load(output, "api/calls.json")["calls"]}["capteurs-air-ecoles"]
    assert record["history"] is None and record["version"] is None


def test_folder_without_git_builds_and_says_history_is_unavailable(catalogue_copy, tmp_path):
    output = build(catalogue_copy, tmp_path)
    assert "Historique indisponible pour cette version du site" in page_text(output, "appels/capteurs-air")


def test_history_can_be_turned_off(catalogue_copy, tmp_path):
    with open(catalogue_copy / "settings.py", "a", encoding="utf-8") as handle:
        handle.write("CALLS_HISTORY = False\n")
    output = build(catalogue_copy, tmp_path)
    assert "Historique des modifications" not in page_text(output, "appels/capteurs-air")


def test_calls_diff_lists_added_amended_closed_and_removed_calls(repo):
    site, _ = repo
    git(site, "checkout", "-q", "-b", "demande")
    calls = site / "calls"
    shutil.copytree(calls / "consultation-velo", calls / "pistes-cyclables")
    edit(calls / "pistes-cyclables" / "call.md", "title: ", "title: Pistes cyclables de demain – ")
    edit(calls / "capteurs-air-ecoles" / "call.md", "closes: 2027-01-31T12:00", "closes: 2027-02-15T12:00")
    edit(calls / "concours-hopital" / "call.md", "closes: 2027-03-01T12:00", "closes: 2026-12-09T18:00")
    shutil.rmtree(calls / "reunion-information")
    commit(site, "Une demande de fusion", "2026-12-09T10:00:00+01:00")

    result = CliRunner().invoke(main, ["diff", "main", "--settings", str(site / "settings.py"), "--now", NOW])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("<!-- calls-diff -->")
    sections = {title: body for title, body in re.findall(r"#### (.+?) \(\d+\)\n\n(.*?)(?=\n####|\Z)", text, re.S)}
    assert set(sections) == {"Nouveaux appels", "Appels modifiés", "Appels clos avant la date prévue", "Appels retirés"}
    assert "`calls/pistes-cyclables/`" in sections["Nouveaux appels"]
    assert "Consultation citoyenne – Métropole de Testville" in sections["Nouveaux appels"]
    assert "Date limite : 31 janvier 2027 à 12 h 00 → 15 février 2027 à 12 h 00" in sections["Appels modifiés"]
    assert ("Date limite : 1er mars 2027 à 12 h 00 → 9 décembre 2026 à 18 h 00"
            in sections["Appels clos avant la date prévue"])
    assert "Réunion d'information sur les achats innovants" in sections["Appels retirés"]


def test_calls_diff_without_changes_says_so(repo):
    site, _ = repo
    result = CliRunner().invoke(main, ["diff", "main", "--settings", str(site / "settings.py")])
    assert result.exit_code == 0, result.output
    assert "Aucun appel ajouté, modifié, clos ou retiré." in result.output


def test_calls_diff_with_an_unknown_base_fails_clearly(repo):
    site, _ = repo
    result = CliRunner().invoke(main, ["diff", "nulle-part", "--settings", str(site / "settings.py")])
    assert result.exit_code == 1
    assert "comparaison impossible avec nulle-part" in result.output


def test_calls_diff_links_the_preview_of_each_call(repo):
    site, _ = repo
    git(site, "checkout", "-q", "-b", "demande")
    edit(site / "calls" / "capteurs-air-ecoles" / "call.md", "closes: 2027-01-31T12:00", "closes: 2027-02-15T12:00")
    commit(site, "Une demande de fusion", "2026-12-09T10:00:00+01:00")
    preview = "https://rivebelle.github.io/appels/apercus/12"
    result = CliRunner().invoke(main, ["diff", "main", "--settings", str(site / "settings.py"), "--now", NOW,
                                       "--check", "--preview", preview + "/"])
    assert result.exit_code == 0, result.output
    assert f"**Aperçu du site avec cette demande : {preview}/**" in result.output
    assert f"(`calls/capteurs-air-ecoles/`) – [aperçu]({preview}/appels/capteurs-air-ecoles/)" in result.output


def test_calls_diff_leads_with_the_errors_to_fix_in_french(repo, monkeypatch):
    site, _ = repo
    monkeypatch.chdir(site)  # as in the workflow: paths are relative to the checkout
    git(site, "checkout", "-q", "-b", "demande")
    edit(site / "calls" / "capteurs-air-ecoles" / "call.md", "closes: 2027-01-31T12:00", 'closes: "2027-02-30T12:00"')
    commit(site, "Une demande de fusion", "2026-12-09T10:00:00+01:00")
    result = CliRunner().invoke(main, ["diff", "main", "--settings", str(site / "settings.py"), "--now", NOW,
                                       "--check", "--preview", "https://rivebelle.github.io/appels/apercus/12"])
    assert result.exit_code == 0, result.output
    assert "**1 erreur à corriger** : rien ne peut être publié" in result.output
    assert re.search(r"```\ncalls/capteurs-air-ecoles/call\.md:\d+: closes : la date « 2027-02-30T12:00 » "
                     r"n'existe pas\n```", result.output)
    assert "Aperçu du site" not in result.output and "[aperçu]" not in result.output
