"""Shared fixtures: the fixture catalogue built once per session, Chromium for browser tests, and one
real SeaweedFS and SMTP server for every test that stores or mails (tests keep to their own slugs
and addresses, since the bucket and the inbox are shared)."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from calls_cli.site import build_site

from .servers import seaweedfs, smtp_server, static_site

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "site")
FIXTURE_SETTINGS = os.path.join(FIXTURE, "settings.py")
# The fixture catalogue is built as if on this day: capteurs-air open, telesurveillance upcoming,
# challenge-donnees closed.
FIXTURE_NOW = "2026-11-28T12:00:00+01:00"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A real SeaweedFS; the AWS_* variables point boto3 at it for the whole session."""
    with seaweedfs(str(tmp_path_factory.mktemp("seaweedfs")), "appels-test") as server:
        yield server


@pytest.fixture(scope="session")
def smtp():
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory):
    """The fixture catalogue built with its search index, as `make html` would."""
    output = str(tmp_path_factory.mktemp("site") / "output")
    assert build_site(FIXTURE_SETTINGS, output, now=FIXTURE_NOW, quiet=True) == 0
    return output


@pytest.fixture
def catalogue_copy(tmp_path):
    """A writable copy of the fixture catalogue, with its settings, for tests that break it."""
    target = tmp_path / "site"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.fixture(scope="session")
def site_url(site_dir):
    """The built site served over HTTP on loopback, like any static host."""
    with static_site(site_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (Playwright cannot download its own here), headless, offline."""
    args = {k: v for k, v in browser_type_launch_args.items() if k != "channel"}
    return {**args, "executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync"]}
