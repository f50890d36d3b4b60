"""Fixtures of the form service tests (on the session's SeaweedFS and SMTP server, tests/conftest.py):
the app, a served fixture site.

The form service judges deadlines by its own clock: the fixture calls close in 2027, so they are open
today; tests about closed or late answers write a small catalogue with dates relative to now.
"""

from __future__ import annotations

import os
import secrets
import threading

import pytest
from werkzeug.serving import make_server

from formhelpers import SECRET, Answering

from calls_cli import local as embedded
from calls_cli.site import build_site
from formservice import create_app
from formservice.storage import S3Storage
from tests.servers import static_site

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "site")
FIXTURE_NOW = "2026-11-28T12:00:00+01:00"


@pytest.fixture(scope="session")
def ports():
    return {"site": embedded.free_port(), "forms": embedded.free_port()}


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, ports):
    """The fixture catalogue built with the addresses the live servers will use."""
    folder = tmp_path_factory.mktemp("formsite")
    settings = folder / "settings.py"
    settings.write_text(
        f"import sys\nsys.path.insert(0, {ROOT!r})\nfrom pelicanconf import *\n"
        f"PATH = {os.path.join(FIXTURE, 'content')!r}\nCALLS_PATH = {os.path.join(FIXTURE, 'calls')!r}\n"
        f"THEME = {os.path.join(ROOT, 'theme')!r}\n"
        f"SITE_ABSOLUTE_URL = 'http://127.0.0.1:{ports['site']}'\n"
        f"FORMSERVICE_URL = 'http://127.0.0.1:{ports['forms']}'\n")
    output = str(folder / "output")
    assert build_site(str(settings), output, now=FIXTURE_NOW, search=False, quiet=True) == 0
    return output


@pytest.fixture(scope="session")
def catalogue_path(built_site):
    return os.path.join(built_site, "api", "calls.json")


@pytest.fixture(scope="session")
def recipients_path(built_site):
    """The build's private file: who receives each call's answers, never published."""
    return os.path.join(built_site + "-private", "recipients.json")


@pytest.fixture
def make_app(s3, smtp, catalogue_path, recipients_path, ports):
    """A form service app on the real servers; keyword arguments override its config."""

    def make(**overrides):
        config = {"SECRET_KEY": SECRET, "CATALOGUE": catalogue_path, "RECIPIENTS": recipients_path,
                  "CATALOGUE_CHECK_SECONDS": 0,
                  "SMTP_PORT": smtp.port, "SMTP_TIMEOUT": 2, "RATE_LIMIT": 0,
                  "SITE_URL": f"http://127.0.0.1:{ports['site']}", "URL": f"http://127.0.0.1:{ports['forms']}"}
        config.update(overrides)
        return create_app(config)

    return make


@pytest.fixture
def bucket(s3):
    """A bucket of the test's own (on the session's SeaweedFS): what is stored there is what this
    test did, for tests that list a whole prefix (questions, alert subscriptions)."""
    name = f"t-{secrets.token_hex(4)}"
    S3Storage(name).client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def answering(client):
    def start(slug="capteurs-air", address=None):
        person = Answering(client, slug, address or f"198.51.100.{secrets.randbelow(250) + 1}")
        person.open()
        return person

    return start




@pytest.fixture
def unused_endpoint():
    """An S3 address where nothing listens: storage is down."""
    return f"http://127.0.0.1:{embedded.free_port()}"


@pytest.fixture(scope="session")
def site_server(built_site, ports):
    """The built static site over HTTP, where the call pages link to the live form service."""
    with static_site(built_site, ports["site"]) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(site_server):
    return site_server


@pytest.fixture(scope="session")
def forms_server(s3, smtp, catalogue_path, recipients_path, ports):
    """The form service on the port the built site links to, as a browser reaches it."""
    app = create_app({"SECRET_KEY": SECRET, "CATALOGUE": catalogue_path, "RECIPIENTS": recipients_path,
                      "SMTP_PORT": smtp.port,
                      "SITE_URL": f"http://127.0.0.1:{ports['site']}", "URL": f"http://127.0.0.1:{ports['forms']}"})
    server = make_server("127.0.0.1", ports["forms"], app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{ports['forms']}"
    server.shutdown()
    server.server_close()
