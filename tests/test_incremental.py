"""Incremental builds: after any change, the output folder holds exactly what a full build of the same
state writes, byte for byte, and a build writes only the files that change; two builds as of the
same instant are identical; a status change is rebuilt when due, touching the pages it changes."""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys

import jinja2
import pytest
import time_machine
from click.testing import CliRunner

from calls_cli import main
from generator import build, parallel, reader, search, session
from generator import settings as plugin_settings

NOW = "2026-11-28T12:00:00+01:00"
AS_OF = re.compile(rb"\(statut au [^)]*\)\)")


def tree(folder) -> dict[str, bytes]:
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, folder)] = handle.read()
    return files


def differences(a, b, *, as_of=True) -> list[str]:
    """The files that differ; with as_of=False, but for the time of the status that a page shows
    without JavaScript (a page that did not change keeps the time it was made at)."""
    one, two = tree(a), tree(b)
    if not as_of:
        one, two = ({p: AS_OF.sub(b"", data) for p, data in files.items()} for files in (one, two))
    return sorted(p for p in set(one) | set(two) if one.get(p) != two.get(p))


@pytest.fixture
def site(catalogue_copy, monkeypatch):
    """The fixture catalogue with its own theme (a template can be edited) and search shards of two
    calls (so that a change re-indexes one shard of several)."""
    theme = catalogue_copy / "theme"
    shutil.copytree(os.path.join(os.path.dirname(os.path.dirname(__file__)), "theme"), theme)
    with open(catalogue_copy / "settings.py", "a", encoding="utf-8") as handle:
        handle.write(f"THEME = {str(theme)!r}\n")
    monkeypatch.setattr(search, "SHARD_SIZE", 2)
    return catalogue_copy


def full_build(site, folder, now=NOW):
    """A cold build: no read cache, no manifest, an empty folder."""
    shutil.rmtree(site / ".cache", ignore_errors=True)
    return build.build_site(str(site / "settings.py"), str(folder), now=now)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_call(site):
    edit(site / "calls" / "capteurs-air" / "call.md", "title: Capteurs", "title: Nouveaux capteurs")
    return {str(site / "calls" / "capteurs-air" / "call.md")}


def edit_text(site):
    with open(site / "calls" / "telesurveillance" / "call.md", "a", encoding="utf-8") as handle:
        handle.write("\nUn paragraphe de plus.\n")
    return {str(site / "calls" / "telesurveillance" / "call.md")}


def add_call(site):
    shutil.copytree(site / "calls" / "consultation-velo", site / "calls" / "pistes-cyclables")
    edit(site / "calls" / "pistes-cyclables" / "call.md", "title: ", "title: Pistes cyclables – ")
    return {str(site / "calls" / "pistes-cyclables" / "call.md")}


def remove_call(site):
    shutil.rmtree(site / "calls" / "challenge-donnees")
    return {str(site / "calls" / "challenge-donnees" / "call.md")}


def change_registry(site):
    edit(site / "content" / "partners.yaml", "name: Hôpitaux de Testville", "name: Hôpitaux réunis de Testville")
    return {str(site / "content" / "partners.yaml")}


def change_template(site):
    edit(site / "theme" / "templates" / "_macros.html", '<p class="ap-card__summary">', '<p class="ap-card__summary ap-x">')
    return {str(site / "theme" / "templates" / "_macros.html")}


CHANGES = [edit_call, edit_text, add_call, remove_call, change_registry, change_template]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
@pytest.mark.parametrize("memory", [False, True], ids=["new-process", "serve"])
@pytest.mark.parametrize("forked", [False, True], ids=["one-process", "forked"])
def test_a_rebuild_after_a_change_writes_what_a_full_build_writes(site, tmp_path, change, memory, forked,
                                                                  monkeypatch):
    if forked:  # pages, reading and the search index in forked children, as for a large catalogue
        monkeypatch.setattr(parallel, "MINIMUM", 2)
    kept = {} if memory else None
    incremental = tmp_path / "incremental"
    build.build_site(str(site / "settings.py"), str(incremental), now=NOW, memory=kept)
    changed = change(site)
    built = build.build_site(str(site / "settings.py"), str(incremental), now=NOW, memory=kept,
                             changed=changed if memory else None)
    full_build(site, tmp_path / "full")
    assert differences(incremental, tmp_path / "full") == []
    # Only what changed was written: never the whole site again.
    assert built.written
    assert len(built.written) < len(tree(incremental)) / 2 or change is change_template


def test_a_body_edit_rewrites_its_page_and_data_not_the_listings(site, tmp_path):
    output = tmp_path / "out"
    build.build_site(str(site / "settings.py"), str(output), now=NOW)
    edit_text(site)
    built = build.build_site(str(site / "settings.py"), str(output), now=NOW)
    pages = [p for p in built.written if p.endswith(".html")]
    assert pages == ["appels/telesurveillance/index.html"]
    assert "api/calls.json" not in built.written  # the text of a call is not in calls.json
    assert any(p.startswith("recherche/index/") for p in built.written)


def test_a_rebuild_without_change_writes_nothing(site, tmp_path):
    output = tmp_path / "out"
    build.build_site(str(site / "settings.py"), str(output), now=NOW)
    built = build.build_site(str(site / "settings.py"), str(output), now=NOW)
    assert built.written == [] and built.removed == []


def test_two_builds_as_of_the_same_instant_are_identical(site, tmp_path):
    """Even feeds without entries (a theme without calls), whatever the clock says."""
    with open(site / "content" / "themes.yaml", "a", encoding="utf-8") as handle:
        handle.write("culture: Culture\n")
    with time_machine.travel("2030-01-01T00:00:00Z", tick=False):
        full_build(site, tmp_path / "one")
    with time_machine.travel("2031-06-01T08:30:00Z", tick=False):
        full_build(site, tmp_path / "two")
    assert "<entry>" not in (tmp_path / "one" / "flux" / "themes" / "culture.atom").read_text()
    assert differences(tmp_path / "one", tmp_path / "two") == []


def test_a_status_change_is_due_then_touches_the_pages_that_show_it(site, tmp_path):
    """billettique-tram closes on 5 December 2026 at 18:00: the build before says when it is due, a
    timer's `calls build --if-due` does nothing before and rebuilds after, writing that call's page,
    the home page and its listings, and no other call's page."""
    settings, output = str(site / "settings.py"), str(tmp_path / "out")
    args = ["build", "--settings", settings, "--output", output, "--if-due"]
    result = CliRunner().invoke(main, args + ["--now", "2026-12-05T17:00"])
    assert result.exit_code == 0 and "Prochain changement de statut : 5 décembre 2026 à 18 h 00" in result.output
    result = CliRunner().invoke(main, args + ["--now", "2026-12-05T17:59"])
    assert result.exit_code == 0 and "Rien à construire" in result.output

    kept = {}
    build.build_site(settings, output, now="2026-12-05T17:00", memory=kept)
    built = build.build_site(settings, output, now="2026-12-05T18:01", memory=kept)
    pages = {p for p in built.written if p.endswith(".html")}
    assert "appels/billettique-tram/index.html" in pages and "index.html" in pages
    assert {"appels/index.html", "archives/index.html", "types/ami/index.html"} <= pages
    assert not [p for p in pages if p.startswith("appels/") and "billettique-tram" not in p
                and p != "appels/index.html"]
    assert built.next_change.isoformat() == "2027-01-10T09:00:00+01:00"  # telesurveillance opens
    full_build(site, tmp_path / "full", now="2026-12-05T18:01")
    assert differences(output, tmp_path / "full", as_of=False) == []


def test_an_output_changed_behind_the_build_back_is_built_cold(site, tmp_path):
    output = tmp_path / "out"
    build.build_site(str(site / "settings.py"), str(output), now=NOW)
    shutil.rmtree(output)
    output.mkdir()
    build.build_site(str(site / "settings.py"), str(output), now=NOW)
    full_build(site, tmp_path / "full")
    assert differences(output, tmp_path / "full") == []


def test_a_build_on_two_processes_writes_what_one_process_writes(site, tmp_path, monkeypatch):
    """Calls read and pages made by a forked half (as for a large catalogue) give the same site."""
    full_build(site, tmp_path / "one")
    monkeypatch.setattr(parallel, "MINIMUM", 2)
    full_build(site, tmp_path / "two")
    assert differences(tmp_path / "one", tmp_path / "two") == []


def test_the_calls_are_read_once_while_pelican_loads(site, tmp_path, monkeypatch):
    """generator.build reads the catalogue ahead, meanwhile loading Pelican, and the generator takes it."""
    monkeypatch.setattr(parallel, "MINIMUM", 2)  # a forked half reads while this process loads
    reads, read = [], session.read_catalogue
    monkeypatch.setattr(session, "read_catalogue", lambda *a, **k: reads.append(k["meanwhile"]) or read(*a, **k))
    full_build(site, tmp_path / "ahead")
    assert len(reads) == 1 and reads[0] is not None


def test_the_read_cache_written_meanwhile_serves_the_next_build(site, tmp_path, monkeypatch):
    """A cold build on two processes writes its read cache in a forked child while it goes on; the
    next build reads no call again, and no child is left behind."""
    monkeypatch.setattr(parallel, "MINIMUM", 2)
    before = children()
    full_build(site, tmp_path / "out")
    assert children() <= before and gc.isenabled()
    reads, read_call = [], reader.read_call
    monkeypatch.setattr(reader, "read_call", lambda path, registries: reads.append(path) or read_call(path, registries))
    build.build_site(str(site / "settings.py"), str(tmp_path / "out"), now=NOW)
    assert reads == []


def test_templates_are_compiled_once_for_all_builds(site, tmp_path, monkeypatch):
    """Compiled templates are kept like Python's bytecode: a second cold build (no read cache, no
    manifest) compiles none; a changed template, or other options of Jinja, are compiled again."""
    with open(site / "settings.py", "a", encoding="utf-8") as handle:
        handle.write(f"CALLS_TEMPLATE_CACHE_PATH = {str(tmp_path / 'compiled')!r}\n")
    compiled, compile = [], jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile", lambda self, source, name=None, *args, **kwargs: (
        compiled.append(name), compile(self, source, name, *args, **kwargs))[1])
    full_build(site, tmp_path / "one")
    assert {"call.html", "base.html", "listing.html"} <= set(compiled)
    compiled.clear()
    full_build(site, tmp_path / "two")
    assert compiled == [] and differences(tmp_path / "one", tmp_path / "two") == []
    edit(site / "theme" / "templates" / "call.html", "<h1>", '<h1 class="ap-title">')
    full_build(site, tmp_path / "three")
    assert compiled == ["call.html"]
    with open(site / "settings.py", "a", encoding="utf-8") as handle:
        handle.write('JINJA_ENVIRONMENT = {**JINJA_ENVIRONMENT, "trim_blocks": False}\n')
    compiled.clear()
    full_build(site, tmp_path / "four")
    assert {"call.html", "base.html"} <= set(compiled)


def test_a_catalogue_read_ahead_from_other_folders_is_read_again(site, tmp_path, monkeypatch):
    """The settings file's own values (read without Pelican) name other folders than Pelican's
    settings: the generator reads the catalogue Pelican names."""
    full_build(site, tmp_path / "one")
    other = tmp_path / "other"
    shutil.copytree(site / "content", other / "content")
    shutil.copytree(site / "calls" / "consultation-velo", other / "calls" / "consultation-velo")
    peek = plugin_settings.peek
    monkeypatch.setattr(plugin_settings, "peek", lambda path: {
        **peek(path), "PATH": str(other / "content"), "CALLS_PATH": str(other / "calls")})
    full_build(site, tmp_path / "two")
    assert differences(tmp_path / "one", tmp_path / "two") == []


def test_the_calls_program_ends_with_the_status_of_its_command_and_says_all(site, tmp_path):
    """`calls check` and `calls build` as staff run them (they end without tearing the interpreter
    down): their whole report is printed and their status is the command's."""
    program = [os.path.join(os.path.dirname(sys.executable), "calls")]
    settings = ["--settings", str(site / "settings.py")]
    build_args = ["build", *settings, "--output", str(tmp_path / "out"), "--no-search", "--now", NOW]
    checked = subprocess.run(program + ["check", *settings], capture_output=True, text=True)
    built = subprocess.run(program + build_args, capture_output=True, text=True)
    assert (checked.returncode, built.returncode) == (0, 0), checked.stderr + built.stderr
    assert checked.stdout.startswith("Aucune erreur") and "Site construit dans" in built.stderr
    assert (tmp_path / "out" / "appels" / "capteurs-air" / "index.html").exists()
    edit(site / "calls" / "capteurs-air" / "call.md", "type: ", "type: concours-")
    checked = subprocess.run(program + ["check", *settings], capture_output=True, text=True)
    refused = subprocess.run(program + build_args, capture_output=True, text=True)
    assert (checked.returncode, refused.returncode) == (1, 1)
    assert "calls/capteurs-air/call.md:" in checked.stderr and "1 erreur" in checked.stderr
    assert "calls/capteurs-air/call.md:" in refused.stderr and "la version précédente reste en place" in refused.stderr


def test_the_forked_half_returns_its_results_in_order_and_its_errors():
    def square(items):
        return [item * item for item in items]

    busy = []
    assert parallel.in_two(square, list(range(1000)), meanwhile=lambda: busy.append(1)) == [n * n for n in range(1000)]
    assert busy == [1]

    def fails(items):
        if 999 in items:
            raise ValueError("the child's half")
        return items

    with pytest.raises((parallel.WorkerFailed, ValueError), match="the child.s half"):  # inline on one core
        parallel.in_two(fails, list(range(1000)))


def test_work_shared_by_two_processes_gives_one_result_per_item():
    """A call with two documents once gave two results for one item: positions ran past the list."""
    for fork in (False, True):
        with pytest.raises((parallel.WorkerFailed, ValueError), match="one result per item"):
            parallel.in_two(lambda batch: [x for item in batch for x in (item, item)],
                            list(range(1000 if fork else 10)))


def test_a_background_job_gives_its_result_or_its_error():
    assert parallel.Background(lambda: os.getpid(), fork=True).result() != os.getpid()
    assert parallel.Background(lambda: os.getpid(), fork=False).result() == os.getpid()

    def fails():
        raise ValueError("the child's error")

    with pytest.raises(parallel.WorkerFailed, match="ValueError: the child.s error"):
        parallel.Background(fails, fork=True).result()


def test_a_build_refuses_an_output_folder_that_holds_the_sources(site):
    result = CliRunner().invoke(main, ["build", "--settings", str(site / "settings.py"), "--output", str(site)])
    assert result.exit_code == 1 and "contient les sources" in result.output
    assert (site / "calls" / "capteurs-air" / "call.md").exists()


def children() -> set[int]:
    """This process's children (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        found.add(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def test_a_build_that_fails_leaves_no_forked_child_behind(site, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "MINIMUM", 2)  # pages and the search index in forked children
    edit(site / "theme" / "templates" / "call.html", "{% block main %}", "{% block main %}{{ 1 // 0 }}")
    before = children()
    with pytest.raises(Exception):
        full_build(site, tmp_path / "out")
    assert children() <= before
    assert gc.isenabled()  # the cycle collector, paused while a build runs, is back
