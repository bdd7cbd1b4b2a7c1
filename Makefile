# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv, install the project, start the embedded Postgres and run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EVAL   ?= ai/eval/data

.PHONY: install demo test test-unit db db-stop eval bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

db: install
	$(BIN)/orderflow db start
	$(BIN)/orderflow db migrate

db-stop: install
	$(BIN)/orderflow db stop

demo: install
	$(BIN)/orderflow demo

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

eval: install
	$(BIN)/orderflow eval --cases $(EVAL)/cases-dev.jsonl --catalogs $(EVAL)
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
