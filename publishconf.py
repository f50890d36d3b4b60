"""Production settings: `calls build --settings publishconf.py`, then copy output/ to any static host."""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from pelicanconf import *  # noqa: E402,F403

# The public addresses of the site and of the form service, e.g. https://appels.example.org.
SITE_ABSOLUTE_URL = os.environ.get("SITE_URL", "https://appels.example.org")
FORMSERVICE_URL = os.environ.get("FORMSERVICE_URL", "https://reponses.appels.example.org")
DELETE_OUTPUT_DIRECTORY = True
