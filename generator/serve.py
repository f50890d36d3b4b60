"""`calls serve` (`make serve`): the whole platform on one machine, on its embedded defaults.

Starts a real S3 server (SeaweedFS) and a mail sink (aiosmtpd) with their data under var/, builds
the site, serves it, runs the form service, and rebuilds when calls/, content/ or theme/ change.
One Ctrl-C stops everything.
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

DEFAULT_PORT = 8000
DEFAULT_FORMS_PORT = 5000
# Credentials of the embedded, loopback-only S3 server; real deployments set AWS_* variables.
LOCAL_S3 = {"access_key": "local-dev", "secret_key": "local-dev-only-secret", "bucket": "appels"}


def local_env(port: int = DEFAULT_PORT, forms_port: int = DEFAULT_FORMS_PORT, root: str = ".") -> dict:
    """Variables that point boto3, the form service and the `calls` commands at a local instance."""
    where = instance(port, forms_port, root)
    return {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{where['s3_base'] + 3}",
            "AWS_ACCESS_KEY_ID": LOCAL_S3["access_key"], "AWS_SECRET_ACCESS_KEY": LOCAL_S3["secret_key"],
            "AWS_DEFAULT_REGION": "us-east-1", "FORMSERVICE_BUCKET": LOCAL_S3["bucket"],
            "FORMSERVICE_SMTP_HOST": "127.0.0.1", "FORMSERVICE_SMTP_PORT": str(where["mail_port"]),
            "FORMSERVICE_SITE_URL": where["site_url"], "FORMSERVICE_PUBLIC_URL": where["forms_url"]}


def instance(port: int, forms_port: int, root: str) -> dict:
    """Ports and folders of one local instance; the default one is what `calls` commands reach."""
    shift = port - DEFAULT_PORT
    var = os.path.join(root, "var") if shift == 0 else os.path.join(root, "var", str(port))
    return {
        "var": var,
        "s3_base": 8330 + shift,  # S3 answers on base + 3: 8333 by default
        "mail_port": 8025 + shift,
        "site_url": f"http://127.0.0.1:{port}",
        "forms_url": f"http://127.0.0.1:{forms_port}",
    }


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves output/ like a static host, with its 404 page."""

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


def serve(port: int, forms_port: int, settings_path: str) -> None:
    from formservice import embedded

    from .cli import build_site

    root = os.path.dirname(settings_path)
    where = instance(port, forms_port, root)
    os.environ.update(SITE_URL=where["site_url"], FORMSERVICE_URL=where["forms_url"])
    output = os.path.join(where["var"], "site") if port != DEFAULT_PORT else os.path.join(root, "output")
    base = where["s3_base"]
    busy = [p for p in (port, forms_port, where["mail_port"], *range(base, base + 5), *range(base + 10000, base + 10005))
            if not embedded.port_is_free(p)]
    if busy:
        raise click.ClickException(
            f"port{'s' if len(busy) > 1 else ''} {', '.join(map(str, busy))} already in use (another `make serve`?): "
            f"stop it, or choose other ports, e.g. make serve PORT={port + 100} FORMS_PORT={forms_port + 100}")
    stoppers = []
    try:
        click.echo(f"Starting the S3 server (SeaweedFS), data in {where['var']}/s3 ...")
        s3 = embedded.start_seaweedfs(os.path.join(where["var"], "s3"), where["s3_base"], **LOCAL_S3)
        stoppers.append(s3.stop)
        mail = embedded.start_mail_sink(os.path.join(where["var"], "mail"), where["mail_port"])
        stoppers.append(mail.stop)
        if build_site(settings_path, output) != 0:
            click.echo("The catalogue has errors (above): fix them, the site is rebuilt on save.", err=True)
        env = {**os.environ, **local_env(port, forms_port, root),
               "FORMSERVICE_CATALOGUE": os.path.join(output, "api", "calls.json")}
        forms = subprocess.Popen([sys.executable, "-m", "flask", "--app", "formservice:create_app", "run",
                                  "--host", "127.0.0.1", "--port", str(forms_port)], env=env)
        stoppers.append(functools.partial(stop_process, forms))
        os.makedirs(output, exist_ok=True)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(SiteHandler, directory=output))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        stoppers.append(server.shutdown)
        click.echo(f"""
  Site             {where['site_url']}/
  Form service     {where['forms_url']}/healthz
  S3 (SeaweedFS)   {s3.endpoint}  bucket "{s3.bucket}", data in {where['var']}/s3
  Mail sink        smtp://127.0.0.1:{where['mail_port']}  messages in {mail.directory}/new/
  Rebuilds when calls/, content/ or theme/ change; runs `calls send-receipts` and
  `calls send-exports` every minute, as cron would in production. Ctrl-C stops everything.
""")
        threading.Thread(target=run_schedule, args=(env,), daemon=True).start()
        watch_and_rebuild(root, settings_path, output)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Stopping...")
        for stop in reversed(stoppers):
            stop()


def watch_and_rebuild(root: str, settings_path: str, output: str) -> None:
    import watchfiles

    from .cli import build_site

    folders = [os.path.join(root, name) for name in ("calls", "content", "theme")]
    for changes in watchfiles.watch(*[f for f in folders if os.path.isdir(f)], debounce=400):
        click.echo(f"{len(changes)} change(s): rebuilding...")
        if build_site(settings_path, output) != 0:
            click.echo("Not published: fix the errors above (the previous site is still served).", err=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


SCHEDULE_SECONDS = 60


def run_schedule(env: dict) -> None:
    """What cron runs in production: queued receipts, then due exports, every minute."""
    calls = os.path.join(os.path.dirname(sys.executable), "calls")
    while True:
        time.sleep(SCHEDULE_SECONDS)
        for command in ("send-receipts", "send-exports"):
            subprocess.run([calls, command], env=env, stdin=subprocess.DEVNULL)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@click.command("serve")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port of the static site.")
@click.option("--forms-port", default=DEFAULT_FORMS_PORT, show_default=True, help="Port of the form service.")
@click.option("--settings", "settings_path", default="pelicanconf.py", show_default=True,
              type=click.Path(dir_okay=False), help="Pelican settings file.")
def serve_command(port, forms_port, settings_path):
    """Run the whole platform locally: site, form service, S3 server and mail sink."""
    signal.signal(signal.SIGTERM, _interrupt)
    serve(port, forms_port, os.path.abspath(settings_path))
