# Gasworks: `make run` serves the demo, `make test` runs everything. Both install what they need.
SHELL := /bin/bash
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
VENV_STAMP := .venv/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint format bench deps system-deps messages lock clean

$(VENV_STAMP): requirements.lock
	@test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(VENV_STAMP) $(NODE_STAMP)

# Debian packages for the browser tests and PDF checks; installed only when missing (needs root).
system-deps:
	@scripts/system-deps.sh

run: deps
	@mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput -v0
	DEBUG=1 $(PY) manage.py seed_demo
	@DEBUG=1 $(PY) manage.py demo_logins
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: deps system-deps
	@scripts/test.sh

lint: deps
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy gasworks

format: deps
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: deps
	@scripts/bench.sh

# Needs GNU gettext (apt-get install gettext): refresh the catalogues after changing strings.
messages: deps
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=node_modules --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages -l zh_Hans --ignore=node_modules --ignore=.venv

lock:
	$(PY) -m pip install --quiet -r requirements.in
	$(PY) -m pip freeze > requirements.lock

clean:
	rm -rf .venv node_modules var/static .pytest_cache
