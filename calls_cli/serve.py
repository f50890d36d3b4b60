"""`calls serve` (`make serve`): the whole platform on one machine, on its embedded defaults.

Starts a real S3 server (SeaweedFS) and a mail sink (aiosmtpd) with their data under var/, the call
editor's local backend (decap-server, which writes this checkout's calls/), builds the site, serves
it, runs the form service, and rebuilds when calls/, content/ or theme/ change and when a call
opens or closes. Rebuilds keep what they read in memory and make only what changed. One Ctrl-C
stops everything.
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
import time

import click

from callmodel import urls
from callmodel.dates import utc_now

from . import local, options
from .local import Instance
from .site import build_once

SCHEDULE_SECONDS = 60


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves output/ like a static host, with its 404 page."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".yml": "text/yaml"}

    def log_message(self, format, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        page = os.path.join(self.directory, "404.html")
        if code == 404 and os.path.exists(page):
            with open(page, "rb") as handle:
                body = handle.read()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)


def formservice_env(where: Instance) -> dict:
    """The environment of the instance's form service: its settings as FORMSERVICE_* variables."""
    return {**os.environ, **{f"FORMSERVICE_{name}": str(value) for name, value in where.formservice_config().items()}}


def run(where: Instance, settings_path: str) -> None:
    # The site's build reads its own and the form service's public addresses from these, and the
    # editor's backend: /admin/ then writes this checkout.
    os.environ.update(SITE_URL=where.site_url, FORMSERVICE_URL=where.forms_url,
                      CALLS_EDITOR_LOCAL_BACKEND=where.editor_backend)
    busy = [p for p in where.ports if not local.port_is_free(p)]
    if busy:
        raise click.ClickException(
            f"port{'s' if len(busy) > 1 else ''} {', '.join(map(str, busy))} déjà utilisé{'s' if len(busy) > 1 else ''} "
            f"(un autre `make serve` ?) : arrêtez-le, ou choisissez d'autres ports, par exemple "
            f"make serve PORT={where.port + 100} FORMS_PORT={where.forms_port + 100}")
    where.save()
    stoppers = []
    try:
        click.echo(f"Démarrage du serveur S3 (SeaweedFS), données dans {where.var}/s3 ...")
        s3 = local.start_seaweedfs(os.path.join(where.var, "s3"), where.s3_base, **local.LOCAL_S3)
        stoppers.append(s3.stop)
        mail = local.start_mail_sink(os.path.join(where.var, "mail"), where.mail_port)
        stoppers.append(mail.stop)
        editor = local.start_editor_backend(where.root, where.editor_port)
        stoppers.append(editor.stop)
        memory: dict = {}
        built = build_once(settings_path, where.output, memory=memory)
        if built is None:
            click.echo("Le catalogue a des erreurs (ci-dessus) : corrigez-les, le site est reconstruit à "
                       "chaque enregistrement.", err=True)
        forms = subprocess.Popen([sys.executable, "-m", "flask", "--app", "formservice:create_app", "run",
                                  "--host", "127.0.0.1", "--port", str(where.forms_port)], env=formservice_env(where))
        stoppers.append(functools.partial(stop_process, forms))
        os.makedirs(where.output, exist_ok=True)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", where.port),
                                                 functools.partial(SiteHandler, directory=where.output))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        stoppers.append(server.shutdown)
        click.echo(f"""
  Site                    {where.site_url}/
  Éditeur des appels      {where.site_url}/{urls.EDITOR}  (écrit dans {os.path.join(where.root, 'calls')}/)
  Service de formulaires  {where.forms_url}/healthz
  S3 (SeaweedFS)          {s3.endpoint}  bucket "{s3.bucket}", données dans {where.var}/s3
  Courriels envoyés       smtp://127.0.0.1:{where.mail_port}  un fichier par message dans {mail.directory}/new/
  Le site est reconstruit à chaque changement de calls/, content/ ou theme/ et quand un appel ouvre
  ou ferme ; `calls send-receipts`, `calls send-exports` et `calls send-alerts` tournent chaque
  minute, comme cron en production. Ctrl-C arrête tout.
  Les autres commandes joignent cette instance avec --instance {where.port}.
""")
        threading.Thread(target=run_schedule, args=(where,), daemon=True).start()
        watch_and_rebuild(where, settings_path, memory, built.next_change if built else None)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Arrêt...")
        for stop in reversed(stoppers):
            stop()


def watch_and_rebuild(where: Instance, settings_path: str, memory: dict, due, stop=None) -> None:
    """Rebuild on each saved change (only what it touches), and at the instant a status changes;
    until `stop` (a threading.Event) is set, if given."""
    import watchfiles

    folders = [os.path.join(where.root, name) for name in ("calls", "content", "theme")]
    for changes in watchfiles.watch(*[f for f in folders if os.path.isdir(f)], debounce=100, step=20,
                                    rust_timeout=1000, yield_on_timeout=True, stop_event=stop):
        if changes:
            click.echo(f"{len(changes)} changement{'s' if len(changes) > 1 else ''} : reconstruction...")
        elif due is not None and utc_now() >= due:
            click.echo("Un appel ouvre ou ferme maintenant : reconstruction...")
        else:
            continue
        built = build_once(settings_path, where.output, memory=memory,
                           changed={path for _, path in changes} if changes else None)
        if built is None:
            click.echo("Corrigez les erreurs ci-dessus : le site précédent reste servi.", err=True)
        else:
            due = built.next_change


def run_schedule(where: Instance) -> None:
    """What cron runs in production: queued receipts, then due exports, every minute."""
    calls = os.path.join(os.path.dirname(sys.executable), "calls")
    while True:
        time.sleep(SCHEDULE_SECONDS)
        for command in ("send-receipts", "send-exports", "send-alerts"):
            subprocess.run([calls, command, "--instance", str(where.port)], stdin=subprocess.DEVNULL)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@click.command()
@click.option("--port", default=local.DEFAULT_PORT, show_default=True, help="Port of the static site.")
@click.option("--forms-port", default=local.DEFAULT_FORMS_PORT, show_default=True, help="Port of the form service.")
@options.settings
def serve(port, forms_port, settings_path):
    """Run the whole platform locally: site, form service, S3 server and mail sink."""
    signal.signal(signal.SIGTERM, _interrupt)
    run(Instance(port, forms_port, os.path.dirname(settings_path)), settings_path)
