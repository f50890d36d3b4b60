"""A whole build: the site rendered by Pelican into a temporary folder, indexed for search, then
swapped in place of the previous output, so that a visitor never sees half a site and an invalid
catalogue leaves the previous one online."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from . import settings as plugin_settings


class SearchIndexFailed(RuntimeError):
    """pagefind could not index the built site; its output says why."""


def build_site(settings_path: str, output: str | None = None, *, now=None, search: bool = True,
               progress=None) -> str:
    """Build into `output` (default: the settings' OUTPUT_PATH) and return it; raises
    InvalidCatalogue (generator.reader) with every problem, leaving the previous output as it was."""
    from pelican import Pelican

    settings = plugin_settings.load(settings_path)
    output = os.path.abspath(output or settings["OUTPUT_PATH"])
    private = settings.get("CALLS_PRIVATE_PATH") or output + "-private"
    parent = os.path.dirname(output)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=os.path.basename(output) + ".tmp-", dir=parent)
    try:
        settings = plugin_settings.load(settings_path, OUTPUT_PATH=staging, CALLS_NOW=now, CALLS_PROGRESS=progress,
                                        CALLS_PRIVATE_PATH=private)
        Pelican(settings).run()
        if search:
            index_search(staging)
        swap(staging, output)
        staging = None
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    return output


def index_search(site: str) -> None:
    """Pagefind indexes the call pages only (they alone carry data-pagefind-body)."""
    result = subprocess.run([sys.executable, "-m", "pagefind_bin", "--site", site, "--silent"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SearchIndexFailed(f"search index failed:\n{result.stdout}{result.stderr}")


def swap(staging: str, output: str) -> None:
    old = None
    if os.path.exists(output):
        old = output + f".old-{os.getpid()}"
        os.rename(output, old)
    os.rename(staging, output)
    if old:
        shutil.rmtree(old, ignore_errors=True)
