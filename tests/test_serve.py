"""`make serve`'s rebuilds: on a saved call, only what it touches; and at the instant a status changes."""

from __future__ import annotations

import datetime as dt
import threading
import time
import types

from calls_cli.serve import watch_and_rebuild


def test_serve_rebuilds_when_a_call_is_saved_and_when_a_status_change_is_due(catalogue_copy, tmp_path):
    output = tmp_path / "served"
    where = types.SimpleNamespace(root=str(catalogue_copy), output=str(output))
    stop = threading.Event()
    due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)  # a status changed a second ago
    watcher = threading.Thread(target=watch_and_rebuild,
                               args=(where, str(catalogue_copy / "settings.py"), {}, due, stop))
    watcher.start()
    try:
        deadline = time.monotonic() + 60
        while not (output / "index.html").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (output / "index.html").exists(), "no rebuild when the status change was due"
        call = catalogue_copy / "calls" / "capteurs-air" / "call.md"
        call.write_text(call.read_text(encoding="utf-8").replace("title: Capteurs", "title: Nouveaux capteurs"),
                        encoding="utf-8")
        page = output / "appels" / "capteurs-air" / "index.html"
        while "Nouveaux capteurs" not in page.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "Nouveaux capteurs" in page.read_text(encoding="utf-8"), "no rebuild after the save"
    finally:
        stop.set()
        watcher.join(30)
    assert not watcher.is_alive()
