# The set-up commands of the README: `make run`, `make test` (CI) and `make test-fast`.
# Each creates the virtual environment it needs (.venv) on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
INSTANCE ?= instances/demo.yaml

.PHONY: run test test-fast oracle-refs golden-lp lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/csu-opt solve $(INSTANCE)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools instances/make_instances.py
	$(BIN)/ruff format --check src tests benchmarks tools instances/make_instances.py
	$(BIN)/mypy
	$(BIN)/lint-imports

# everything (CI): lint, every test with the large hypothesis profile, the 20 slowest shown;
# pyproject.toml gives each test a generous timeout
test: lint
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q --durations=20

# the developer's loop, well under a minute: no lint, no test of tests/conftest.py's SLOW
# table (a representative subset still covers every rule family: tests/test_loop.py)
test-fast: $(STAMP)
	HYPOTHESIS_PROFILE=dev $(BIN)/python -m pytest -q -m "not slow"

# recompute the brute-force oracle's stored answers (tests/data/oracle); review the diff
oracle-refs: $(STAMP)
	PYTHONPATH=tests $(BIN)/python -m factories.oracle_refs

# rewrite the golden LP files of the tiny instances (tests/data/golden) from the model as it is
# built now; review their diff: it is the change of the formulation
golden-lp: $(STAMP)
	PYTHONPATH=tests $(BIN)/python -m factories.golden

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
