# One command to run the bot, one to run the tests; both create the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: start the bot (the local sandbox when no BOT_TOKEN is configured)
run: $(STAMP)
	$(PY) -m bot run

## test: the whole test suite (SQLite and PostgreSQL)
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

## lint: ruff, ruff format --check, mypy
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

fmt: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
