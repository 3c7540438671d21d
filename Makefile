# Every target installs what it needs on first use: a .venv built from requirements*.txt.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install install-ray run generate demo test test-fast check bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

RAY_STAMP := $(VENV)/.installed-ray

$(RAY_STAMP): $(STAMP) requirements-ray.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-ray.txt
	touch $(RAY_STAMP)

install-ray: $(RAY_STAMP)  ## the optional Ray engine (the tests need it)

run: $(STAMP)            ## the interactive menu
	$(PY) -m src.main

generate: $(STAMP)       ## config.yaml, no questions asked
	$(PY) -m src.main generate --yes

demo: $(STAMP)           ## offline end-to-end run on the bundled samples (identify mode)
	$(PY) -m src.main generate --config demo/config.yaml --yes

test: $(RAY_STAMP)       ## the whole test suite (Ray engine included)
	$(PY) -m pytest

test-fast: $(RAY_STAMP)  ## skip the slow crash/fault tests
	$(PY) -m pytest -m "not slow"

check: $(RAY_STAMP)      ## lint (ruff), types (mypy) and the whole test suite
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy --config-file mypy.ini
	$(PY) -m pytest

bench: $(RAY_STAMP)      ## benchmarks; writes bench/results.json and bench/REPORT.md
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache bench/results.json bench/REPORT.md bench/work
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
