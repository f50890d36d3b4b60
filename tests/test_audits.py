"""The built site as the tools of the field see it: the Nu Html Checker finds no error in any page,
and Lighthouse (Chromium) scores the search page at the top, its layout still (CLS) when the search
starts and when results replace the listings. `make test` installs both from npm."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from .conftest import CHROMIUM, ROOT

TOOLS = os.path.join(ROOT, "tests", "tools", "node_modules")
VNU = os.path.join(TOOLS, "vnu-jar", "build", "dist", "vnu.jar")
LIGHTHOUSE = os.path.join(TOOLS, ".bin", "lighthouse")


def tool(path):
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: `make test` installs it (npm)")
    return path


def test_every_page_is_valid_html(site_dir):
    pages = sorted(os.path.join(folder, name) for folder, _, names in os.walk(site_dir)
                   for name in names if name.endswith(".html"))
    result = subprocess.run([shutil.which("java") or "java", "-jar", tool(VNU), "--errors-only", "--format", "json",
                             *pages], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    assert [(m.get("url", "").rsplit("/", 3)[-3:], m.get("lastLine"), m["message"]) for m in messages] == []


@pytest.mark.parametrize("query", ["", "?q=capteurs"])
def test_lighthouse_scores_the_search_page_and_it_holds_still(site_url, tmp_path, query):
    report = tmp_path / "report.json"
    subprocess.run([tool(LIGHTHOUSE), f"{site_url}/recherche/{query}", "--quiet", "--output=json",
                    f"--output-path={report}", "--chrome-flags=--headless=new --no-sandbox",
                    "--only-categories=performance,accessibility,best-practices,seo"],
                   env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, timeout=300)
    data = json.loads(report.read_text())
    scores = {name: category["score"] for name, category in data["categories"].items()}
    assert data["audits"]["cumulative-layout-shift"]["numericValue"] < 0.1
    assert scores["accessibility"] == scores["best-practices"] == scores["seo"] == 1
    assert scores["performance"] >= 0.9
