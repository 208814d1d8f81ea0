# The LADO partner portal. `make run` serves it on http://127.0.0.1:8000 with demo data;
# `make test` runs the whole suite on SQLite and PostgreSQL. See README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Local development: plain http on 127.0.0.1, e-mails written to the log.
DEV_ENV := PORTAL_ENV=development

.PHONY: run test bench bench-load bench-tools lint format install install-dev assets secrets migrate demo-data chromium \
        postgres clean help

help:
	@echo "make run    - set up everything and serve the portal on http://$(HOST):$(PORT)"
	@echo "make test   - install what the tests need and run them (SQLite and PostgreSQL)"
	@echo "make bench  - the benchmarks (figures for issue notes; several minutes)"
	@echo "make bench-load - the load and capacity test (about 40 minutes; see benchmarks/load.py)"
	@echo "make lint   - ruff and mypy"
	@echo "make clean  - remove .venv, node_modules and built assets (keeps instance/)"

# The outbox sender (it sends the e-mails, here into the log) runs beside gunicorn and
# stops with it.
run: install assets secrets migrate demo-data
	@$(DEV_ENV) $(FLASK) outbox send --loop & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--access-logfile - wsgi:app

test: install-dev assets postgres chromium
	$(BIN)/pytest

# Printed figures, never pass/fail: see benchmarks/*.py for what each measures.
bench: install-dev assets postgres bench-tools
	$(BIN)/python -m benchmarks.encryption_overhead
	$(BIN)/python -m benchmarks.reencryption
	$(BIN)/python -m benchmarks.blind_index_lookup
	$(BIN)/python -m benchmarks.referral_submission
	$(BIN)/python -m benchmarks.casework_queue

# A morning's load for 10 minutes, then users added until p95 passes 200 ms; the
# figures go to benchmarks/results/load.txt.
bench-load: install-dev assets postgres
	$(BIN)/python -m benchmarks.load

# wrk, from Debian: the load tool of the saturation figures (benchmarks/casework_queue.py).
bench-tools:
	@if ! command -v wrk >/dev/null; then \
		echo "Installing wrk from Debian"; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Python: a virtual environment with the package installed (editable: templates/ and
# static/ are read from this checkout).
install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || { echo "Cannot create a virtual environment: on Debian, \
	run: $(SUDO) apt-get install python3-venv"; exit 1; }

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Front end: govuk-frontend and MOJ Frontend from npm, copied into static/vendor/ without
# the GOV.UK brand (see portal/assets.py).
assets: static/vendor/.built

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

static/vendor/.built: node_modules/.installed portal/assets.py $(VENV)/.installed
	$(BIN)/python -m portal.assets
	@touch $@

# Instance: secrets are made once and never overwritten; the database is migrated and,
# only when it is empty, given the demo data.
secrets: install
	$(FLASK) secrets init
	$(FLASK) keys init

migrate: install secrets
	$(DEV_ENV) $(FLASK) db upgrade

demo-data: migrate
	$(DEV_ENV) $(FLASK) demo-data --if-empty

# PostgreSQL for the tests, from Debian, unless TEST_DATABASE_URL names a server. The
# tests start their own throwaway cluster as the postgres user (tests/postgres.py).
postgres:
	@if [ -z "$$TEST_DATABASE_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "Installing PostgreSQL from Debian"; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	fi

# Browser tests drive Debian's Chromium through its ChromeDriver (no browser downloads);
# the closure letter's PDF is tested with DejaVu Sans, which prints any name.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
		|| [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
		echo "Installing Chromium, ChromeDriver and DejaVu fonts from Debian"; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			chromium chromium-driver fonts-dejavu-core; \
	fi

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .mypy_cache .ruff_cache
