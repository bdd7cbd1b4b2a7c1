# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv, install the project, start the embedded Postgres and run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EVAL   ?= ai/eval/data
# pgTAP for Debian's PostgreSQL 15: the SQL tests (supabase/tests/database) run under pg_prove there.
PGTAP_CONTROL := /usr/share/postgresql/15/extension/pgtap.control
PGTAP_PACKAGES := postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl

.PHONY: install pgtap demo test test-unit db db-stop eval bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

# Installs pgTAP only when it is missing and we are root (CI runs as root on this image); otherwise
# the SQL tests skip and say why.
pgtap:
	@if [ ! -f $(PGTAP_CONTROL) ] && [ -d /usr/lib/postgresql/15/bin ] && [ "$$(id -u)" = 0 ]; then \
		apt-get install -y -q $(PGTAP_PACKAGES) || { apt-get update -q && apt-get install -y -q $(PGTAP_PACKAGES); } \
			|| echo "pgTAP could not be installed: the SQL tests will skip and say why"; \
	fi

db: install
	$(BIN)/orderflow db start
	$(BIN)/orderflow db migrate

db-stop: install
	$(BIN)/orderflow db stop

demo: install
	$(BIN)/orderflow demo

test: install pgtap
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

# every labelled set in ai/eval/data/sets.toml: its first-seen figure next to today's
eval: install
	$(BIN)/orderflow eval --sets $(EVAL)/sets.toml --output eval-sets-report.json
	$(BIN)/orderflow eval --conversations $(EVAL)/conversations-dev.jsonl --catalogs $(EVAL) --output eval-conversations.json

bench: install
	$(BIN)/python bench/run_all.py

lint: install
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/ruff check .
	$(BIN)/mypy worker ai webhooks

clean:
	-$(BIN)/orderflow db stop
	rm -rf $(VENV) .orderflow
