"""The form service's settings: typed, explicit, safe in production; each app has its own services."""

from __future__ import annotations

import os
import secrets

import pytest
from formhelpers import SECRET

from calls_cli import local
from formservice import create_app
from formservice.config import DEVELOPMENT_SECRET, ConfigError
from formservice.services import services

BASE = {"FORMSERVICE_CATALOGUE": "/nonexistent/calls.json"}


def test_an_unknown_setting_refuses_the_start_and_names_the_close_one():
    with pytest.raises(ConfigError) as refused:
        create_app(environ={**BASE, "FORMSERVICE_PUBLIC_URL": "https://x.example", "FORMSERVICE_SECRETKEY": "x"})
    message = str(refused.value)
    assert "FORMSERVICE_PUBLIC_URL" in message and "FORMSERVICE_SECRETKEY (did you mean FORMSERVICE_SECRET_KEY?)" in message
    with pytest.raises(ConfigError, match="unknown setting SMTP_PROT"):
        create_app({"SMTP_PROT": 25}, environ=BASE)


def test_values_are_read_by_their_type():
    app = create_app(environ={**BASE, "FORMSERVICE_SECRET_KEY": "12345678901234567890", "FORMSERVICE_ENV": "Production",
                              "FORMSERVICE_SMTP_PORT": "2525", "FORMSERVICE_SMTP_STARTTLS": "TRUE",
                              "FORMSERVICE_MAX_TOTAL_MB": "1.5"})
    assert app.config["SECRET_KEY"] == "12345678901234567890"  # a text, not the number
    assert app.config["ENV"] == "production" and app.config["SMTP_PORT"] == 2525
    assert app.config["SMTP_STARTTLS"] is True and app.config["MAX_TOTAL_MB"] == 1.5
    with pytest.raises(ConfigError, match="FORMSERVICE_SMTP_PORT: 'vingt' is not valid"):
        create_app(environ={**BASE, "FORMSERVICE_SMTP_PORT": "vingt"})
    with pytest.raises(ConfigError, match="FORMSERVICE_ENV: 'prod' is not valid"):
        create_app(environ={**BASE, "FORMSERVICE_ENV": "prod"})


def test_production_is_safe_by_default():
    app = create_app(environ={**BASE, "FORMSERVICE_ENV": "production", "FORMSERVICE_SECRET_KEY": "s" * 32})
    assert app.config["SECURE_COOKIES"] is True and app.config["SESSION_COOKIE_SECURE"] is True
    page = app.test_client().get("/healthz", base_url="https://reponses.example.org")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    for secret in (DEVELOPMENT_SECRET, "court"):
        with pytest.raises(ConfigError, match="long random text"):
            create_app(environ={**BASE, "FORMSERVICE_ENV": "production", "FORMSERVICE_SECRET_KEY": secret})
    development = create_app(environ=BASE)
    assert development.config["SECURE_COOKIES"] is False and development.config["SECRET_KEY"] == DEVELOPMENT_SECRET


def test_storage_comes_from_the_settings_so_two_apps_use_two_storages(s3, tmp_path, catalogue_path, recipients_path):
    second = local.start_seaweedfs(str(tmp_path / "s3"), local.free_port_base(), "second", secrets.token_hex(8),
                                   "autre")
    try:
        apps = [create_app({"SECRET_KEY": SECRET, "CATALOGUE": catalogue_path, "RECIPIENTS": recipients_path,
                            "BUCKET": server.bucket,
                            "S3_ENDPOINT_URL": server.endpoint, "S3_ACCESS_KEY_ID": server.access_key,
                            "S3_SECRET_ACCESS_KEY": server.secret_key}) for server in (s3, second)]
        key = f"config-test/{secrets.token_hex(4)}"
        services(apps[1]).storage.put(key, b"second")
        assert services(apps[1]).storage.get(key) == b"second"
        with pytest.raises(FileNotFoundError):
            services(apps[0]).storage.get(key)
        assert all(app.test_client().get("/healthz").status_code == 200 for app in apps)
    finally:
        second.stop()
    assert os.environ["AWS_ENDPOINT_URL_S3"] == s3.endpoint  # the session's variables were never touched
