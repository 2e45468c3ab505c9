# One command to run the bot, one to run the tests; both create the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt bench reliability screenshots clean

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

## lint: ruff, ruff format --check, mypy, and the layer contracts (import-linter)
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache

## bench: every benchmark, one after the other; each prints its table and PASS/FAIL lines
bench: $(STAMP)
	@status=0; for b in updates fanout growth memory fairness; do \
		$(PY) -m bench.$$b || status=1; \
	done; exit $$status

## reliability: the long forms of the crash, faults and fuzz suites
reliability: $(STAMP)
	@status=0; \
	$(PY) -m bench.crash --kills 50 || status=1; \
	$(PY) -m bench.faults || status=1; \
	HYPOTHESIS_PROFILE=long $(PY) -m pytest -q tests/reliability/test_fuzz.py || status=1; \
	exit $$status

## screenshots: each role's main screens in the sandbox (desktop and phone) into docs/screenshots/
screenshots: $(STAMP)
	$(PY) -m bot.sandbox.screenshots

fmt: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
