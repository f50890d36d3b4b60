# The two commands: `make serve` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The call editor (Decap CMS, shipped with the site) and its local backend, pinned by package-lock.json.
NODE_STAMP := node_modules/.installed
PORT ?= 8000
FORMS_PORT ?= 5000
SETTINGS ?= pelicanconf.py
CHROMIUM ?= /usr/bin/chromium
# The auditing tools of the field, from npm, for the tests only: the Nu Html Checker (needs Java)
# and Lighthouse, pinned by tests/tools/package-lock.json.
TEST_TOOLS := tests/tools/node_modules/.installed
# Our code's bytecode, compiled as pip compiles the packages it installs: an environment that keeps
# Python from writing it (PYTHONDONTWRITEBYTECODE) would otherwise compile every module at every
# command (0.05 s of each build). Only changed files are compiled again.
COMPILE := $(BIN)/python -m compileall -q callmodel generator calls_cli formservice

.PHONY: serve test html check publish screenshots clean help

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(COMPILE)
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

serve: $(STAMP) $(NODE_STAMP) ## Build the site and run the whole platform locally (site, call editor, form service, S3, mail sink).
	@$(COMPILE)
	$(BIN)/calls serve --port $(PORT) --forms-port $(FORMS_PORT)

html: $(STAMP) $(NODE_STAMP) ## Build the site into output/ (refuses an invalid catalogue).
	@$(COMPILE)
	$(BIN)/calls build --settings $(SETTINGS)

publish: $(STAMP) $(NODE_STAMP) ## Build with production settings (publishconf.py).
	@$(COMPILE)
	$(BIN)/calls build --settings publishconf.py

check: $(STAMP) ## Validate calls/ and content/ without building.
	$(BIN)/calls check --settings $(SETTINGS)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "Browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi

$(TEST_TOOLS): tests/tools/package.json tests/tools/package-lock.json
	cd tests/tools && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(TEST_TOOLS)

test: $(STAMP) $(NODE_STAMP) $(CHROMIUM) $(TEST_TOOLS) ## Run every test (unit, site build, real S3 and SMTP, Chromium, the call editor, vnu, Lighthouse).
	@$(COMPILE)
	$(BIN)/pytest $(PYTEST_ARGS)

screenshots: $(STAMP) $(NODE_STAMP) $(CHROMIUM) ## Take again the pictures of the staff guide (docs/images/) after a change of the editor.
	UPDATE_GUIDE_SCREENSHOTS=1 $(BIN)/pytest tests/test_guide.py

clean: ## Remove the built site and local data (keeps the virtual environment).
	rm -rf output var .pytest_cache
