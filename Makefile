# The two commands: `make serve` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
FORMS_PORT ?= 5000
SETTINGS ?= pelicanconf.py
CHROMIUM ?= /usr/bin/chromium
# The auditing tools of the field, from npm: the Nu Html Checker (needs Java) and Lighthouse (Node 20).
NODE_TOOLS := $(VENV)/npm/.installed

.PHONY: serve test html check publish clean help

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP) ## Build the site and run the whole platform locally (site, form service, S3, mail sink).
	$(BIN)/calls serve --port $(PORT) --forms-port $(FORMS_PORT)

html: $(STAMP) ## Build the site into output/ (refuses an invalid catalogue).
	$(BIN)/calls build --settings $(SETTINGS)

publish: $(STAMP) ## Build with production settings (publishconf.py).
	$(BIN)/calls build --settings publishconf.py

check: $(STAMP) ## Validate calls/ and content/ without building.
	$(BIN)/calls check --settings $(SETTINGS)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "Browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi

$(NODE_TOOLS): $(STAMP)
	npm install --prefix $(VENV)/npm --no-audit --no-fund --silent vnu-jar@24.10.17 lighthouse@12.8.2
	touch $(NODE_TOOLS)

test: $(STAMP) $(CHROMIUM) $(NODE_TOOLS) ## Run every test (unit, site build, real S3 and SMTP, Chromium, vnu, Lighthouse).
	$(BIN)/pytest $(PYTEST_ARGS)

clean: ## Remove the built site and local data (keeps the virtual environment).
	rm -rf output var .pytest_cache
