# The README's two commands: `make demo` (the whole stack on the built-in dataset) and
# `make test` (the test suite). Both create the virtual environment on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench

$(BIN)/partlens: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/partlens
	$(BIN)/partlens up --demo

test: $(BIN)/partlens
	bash scripts/system-deps.sh
	bash scripts/ensure-redis.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(BIN)/partlens
	$(BIN)/python bench/dataset.py
	$(BIN)/python bench/train_step.py
