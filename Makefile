# The common commands. Everything runs from the project's virtualenv (.venv), made by `make setup`.
PY := .venv/bin
HOME_DIR ?= $(or $(TARIFFSTACK_HOME),$(HOME)/.tariffstack)

.PHONY: setup build test fast lint bench crosscheck serve ci

setup:            ## create .venv and install the package with its dev tools
	python3 -m venv .venv && $(PY)/pip install -q -e '.[dev]'

build:            ## compile the model and build the panel in TARIFFSTACK_HOME
	$(PY)/tariffstack build

test:             ## the whole suite (what CI runs after lint)
	$(PY)/pytest

fast:             ## the suite without the browser and Spark tests
	$(PY)/pytest -m "not browser and not spark"

lint:             ## ruff (with the complexity gate) and mypy
	$(PY)/ruff check src tests && $(PY)/mypy src

bench:            ## every benchmark (docs in README "Benchmarks")
	for b in benchmarks/bench_*.py; do $(PY)/python $$b || exit 1; done

crosscheck:       ## agreement with the Yale tracker, written to docs/CROSSCHECK.md
	$(PY)/tariffstack crosscheck -o docs/CROSSCHECK.md

serve:            ## the API and the page on http://127.0.0.1:8000/
	$(PY)/tariffstack serve

ci:               ## what CI runs, from scratch
	.ci/run
