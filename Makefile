# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "shopbot needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## set up, migrate, seed the demo catalogue and run the demo on the embedded default
demo: install
	$(BIN)/shopbot demo

## set up and run the whole suite: lint, types, architecture contracts, tests (incl. the browser test)
test: install
	sh scripts/ensure-chromium.sh
	sh scripts/ensure-prometheus.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/checkout.py

clean:
	rm -rf $(VENV) .shopbot .pytest_cache .mypy_cache .ruff_cache
