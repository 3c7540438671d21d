# Every target installs what it needs on first use: a .venv built from requirements*.txt.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run generate demo test test-fast check bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)            ## the interactive menu
	$(PY) -m src.main

generate: $(STAMP)       ## config.yaml, no questions asked
	$(PY) -m src.main generate --yes

demo: $(STAMP)           ## offline end-to-end run on the bundled samples (identify mode)
	$(PY) -m src.main generate --config demo/config.yaml --yes

test: $(STAMP)           ## the whole test suite
	$(PY) -m pytest

test-fast: $(STAMP)      ## skip the slow crash/fault tests
	$(PY) -m pytest -m "not slow"

check: $(STAMP)          ## lint (ruff), types (mypy) and the whole test suite
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy --config-file mypy.ini
	$(PY) -m pytest

bench: $(STAMP)          ## benchmarks; writes bench/results.json and bench/REPORT.md
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache bench/results.json bench/REPORT.md bench/work
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
