# Set-up, site, releases and tests. Needs Python 3.11 (`python3` on PATH, or PYTHON=...).
#
#   make          create .venv, install everything, build the course site (_build/html)
#   make test     install if needed, then run every test tier and the linter
#   make exercises  regenerate exercises/ from solutions/ with nbgrader

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs helper scripts (alembic) found on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

ASSIGNMENTS := $(notdir $(wildcard solutions/*))

.PHONY: all site setup test lint exercises clean

all: site

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package's requirements change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[course]"
	touch $@

setup: $(VENV)/.installed

site: setup
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The course site is in _build/html/index.html"

# PyTorch is only an oracle for the optional test tier; the course itself needs NumPy only.
$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -m pip install --quiet torch==2.13.0 || echo "torch unavailable: its optional test tier will be skipped"
	touch $@

test: setup lint $(VENV)/.torch
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check autograder tests book/_ext benchmarks

exercises: setup
	@for a in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; done
	@echo "Regenerated exercises/ for: $(ASSIGNMENTS)"

clean:
	rm -rf _build grading .pytest_cache .ruff_cache
