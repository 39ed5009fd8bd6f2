# The two set-up commands of the README: `make run` and `make test`.
# Each creates the virtual environment it needs (.venv) on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
INSTANCE ?= instances/demo.yaml

.PHONY: run test lint install clean

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

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
