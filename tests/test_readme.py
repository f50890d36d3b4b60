"""The README documents every setting, and shows the two commands first."""

import os

from formservice.config import SETTINGS
from generator.settings import DEFAULTS

from .conftest import ROOT


def readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return handle.read()


def test_every_form_service_setting_is_documented():
    text = readme()
    assert [s.name for s in SETTINGS if f"`FORMSERVICE_{s.name}`" not in text] == []


def test_every_plugin_setting_is_documented():
    text = readme()
    assert [name for name in DEFAULTS if f"`{name}`" not in text] == []


def test_the_two_commands_come_first():
    text = readme()
    assert text.index("make serve") < text.index("make html")
    assert text.index("make test") < text.index("make html")
