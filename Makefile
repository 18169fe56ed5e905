# Set-up, site, releases and tests. Needs Python 3.11 (`python3` on PATH, or PYTHON=...).
#
#   make          create .venv, install everything, build the course site (_build/html)
#   make test     install if needed, then run every test tier and the linter
#                 (the browser tier installs Debian's chromium and chromium-driver if it can)
#   make exercises  regenerate exercises/ from solutions/ with nbgrader
#   make clean    remove build and test output (never grading/: submissions and the gradebook)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs helper scripts (alembic) found on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

ASSIGNMENTS := $(notdir $(wildcard solutions/*))

.PHONY: all site setup mathjax pyodide browser test lint exercises clean

all: site

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package's requirements change. (setuptools boxes a harmless note
# about editable installs into every such install: left out.)
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[course]"
	touch $@

# Compiled once: where PYTHONDONTWRITEBYTECODE is set, each grading run would compile the
# package again (a stale file is ignored, never used).
BYTECODE := $(VENV)/.bytecode
$(BYTECODE): $(wildcard autograder/*.py autograder/*/*.py) | $(VENV)/.installed
	$(BIN)/python -m compileall -q autograder
	touch $@

setup: $(VENV)/.installed $(BYTECODE)

# Tools that are not Python packages live in .build/ (git-ignored), each with a stamp file.
TOOLS := .build

# MathJax 3 for the offline site, from npm (pinned). book/_ext/offline_site.py copies what a
# browser needs from .build/node_modules/mathjax/es5 into the site's _static/mathjax/.
MATHJAX_VERSION := 3.2.2
MATHJAX := $(TOOLS)/.mathjax-$(MATHJAX_VERSION)

$(MATHJAX):
	@command -v npm >/dev/null 2>&1 || $(call apt_install,npm) || \
		{ echo "npm is needed to install MathJax for the site: install Node.js and npm"; exit 1; }
	@mkdir -p $(TOOLS)
	rm -rf $(TOOLS)/node_modules/mathjax $(TOOLS)/.mathjax-*
	npm install --prefix $(TOOLS) --no-save --no-package-lock --ignore-scripts --no-audit \
		--no-fund --loglevel=error mathjax@$(MATHJAX_VERSION)
	test -f $(TOOLS)/node_modules/mathjax/es5/tex-chtml.js
	touch $@

mathjax: $(MATHJAX)

# Pyodide for the notebooks that run in the browser (JupyterLite, book/_ext/browser_notebooks.py):
# its core from npm, at the version that extension names; its package files from the PyPI
# downloads pinned with hashes in book/_ext/browser_packages.txt. The site's build checks every
# package file against the npm package's pyodide-lock.json and fails on any difference.
PYODIDE_VERSION := $(shell sed -n 's/^PYODIDE_VERSION = "\(.*\)".*/\1/p' book/_ext/browser_notebooks.py)
PYODIDE := $(TOOLS)/.pyodide-$(PYODIDE_VERSION)

$(PYODIDE): book/_ext/browser_packages.txt | $(BIN)/python
	@command -v npm >/dev/null 2>&1 || $(call apt_install,npm) || \
		{ echo "npm is needed to install Pyodide for the site: install Node.js and npm"; exit 1; }
	@mkdir -p $(TOOLS)
	rm -rf $(TOOLS)/pyodide $(TOOLS)/.pyodide-*
	npm install --prefix $(TOOLS)/pyodide --no-save --no-package-lock --ignore-scripts --no-audit \
		--no-fund --loglevel=error pyodide@$(PYODIDE_VERSION)
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
		-r book/_ext/browser_packages.txt -d $(TOOLS)/pyodide/packages
	test -f $(TOOLS)/pyodide/node_modules/pyodide/pyodide-lock.json
	touch $@

pyodide: $(PYODIDE)

# $(call apt_install,PACKAGES): Debian's apt-get as root, non-interactive, with the package
# lists refreshed once if the first try fails. Fails (without stopping make) where it cannot.
apt_install = ( command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	export DEBIAN_FRONTEND=noninteractive && \
	{ apt-get install -y -qq --no-install-recommends $(1) >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(1); }; } )

# The browser tier (tests/site/test_browser.py) drives Debian's Chromium with its chromedriver:
# nothing is downloaded by Selenium. Where they cannot be installed the tier fails and says how
# to install them (or deselect it with -m 'not browser'); delete $(TOOLS)/.browser to try again.
BROWSER := $(TOOLS)/.browser

$(BROWSER):
	@mkdir -p $(TOOLS)
	@if [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ]; then :; \
	else $(call apt_install,chromium chromium-driver) || \
		echo "chromium unavailable: the browser test tier will fail until it is installed"; fi
	touch $@

browser: $(BROWSER)

site: setup $(MATHJAX) $(PYODIDE)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The course site is in _build/html/index.html"

# PyTorch is only an oracle for the optional test tier; the course itself needs NumPy only.
$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -m pip install --quiet torch==2.13.0 || echo "torch unavailable: its optional test tier will be skipped"
	touch $@

# Two workers (pytest-xdist): the site tier on one, the other tiers beside it.
test: setup lint $(VENV)/.torch $(MATHJAX) $(PYODIDE) $(BROWSER)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: setup
	$(BIN)/ruff check autograder tests book/_ext book/coursekit.py benchmarks

exercises: setup
	@for a in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; done
	@echo "Regenerated exercises/ for: $(ASSIGNMENTS)"

# Only what a build or a test run recreates. Submissions, autograded copies, feedback and the
# gradebook under grading/ are never removed by any target: delete them by hand, knowingly.
clean:
	rm -rf _build .pytest_cache .ruff_cache .artifacts
