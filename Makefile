# Two commands on a fresh machine: `make run` and `make test`.
# Each creates .venv when it is missing and installs the package with what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The engine's hot modules compiled with mypyc (tools/build_native.py, sim/model/native.py):
# rebuilt when any model source changes; without a C compiler the engine runs as pure Python.
NATIVE := sim/model/_compiled/manifest.json
SCENARIO ?= scenarios/odder.yaml
ARGS ?=

.PHONY: run test bench lint format install clean
.PHONY: docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dask,images,app]"
	touch $(STAMP)

$(NATIVE): $(STAMP) $(wildcard sim/model/*.py) tools/build_native.py pyproject.toml
	nice $(BIN)/python tools/build_native.py

install: $(STAMP) $(NATIVE)

run: install
	$(BIN)/sim run $(SCENARIO) $(ARGS)

test: install
	$(BIN)/ruff check sim tests benchmarks tools
	$(BIN)/ruff format --check sim tests benchmarks tools
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest $(ARGS)

bench: install
	$(BIN)/python -m benchmarks.bench $(ARGS)
	$(BIN)/python -m benchmarks.bench_uncertainty

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks tools

format: $(STAMP)
	$(BIN)/ruff format sim tests benchmarks tools
	$(BIN)/ruff check --fix sim tests benchmarks tools

docs: install
	nice $(BIN)/python docs/build.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build/mypyc sim/model/_compiled
