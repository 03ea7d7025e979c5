# The two commands: `make lab` opens the lessons, `make test` runs every test (and the lessons
# in notebooks/ under nbval: their stored outputs must come out again).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
CHROMIUM := /usr/bin/chromium
# PyPI's Linux torch wheel pulls CUDA libraries (GBs): TORCH_INDEX=https://download.pytorch.org/whl/cpu
# takes PyTorch's CPU build instead
TORCH_INDEX ?=
# JupyterLab refuses to run as root (Docker, cloud VMs, CI) unless told to
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test bench setup browser lessons site

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

# torch first and pinned, so nothing pulls the CUDA build
setup: $(BIN)/python
	$(PIP) torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) -e ".[test]"

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
# Installed where this can be done (root and apt); elsewhere the browser tests are skipped,
# except under CI=true, where a missing browser fails (tests/browser/conftest.py).
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else \
		echo "make test: no $(CHROMIUM), so the browser tests will be skipped; to run them: sudo apt-get install chromium"; \
	fi

lab: $(BIN)/python
	$(PIP) -e ".[lab]"
	$(BIN)/jupyter lab $(AS_ROOT) notebooks/

# the lessons as a static JupyterLite site in dist/site/ (README: "Open the course in your
# browser"). PYODIDE=local bundles Pyodide into it, for classrooms with no internet;
# NOTEBOOKS="a.ipynb dir/" builds a site of other notebooks (files or folders)
PYODIDE ?= cdn
NOTEBOOKS ?= notebooks
site: $(BIN)/python
	$(PIP) -e ".[site]"
	$(BIN)/python tools/site.py --pyodide $(PYODIDE) $(NOTEBOOKS)

test: setup browser
	$(BIN)/python -m pytest -q -p no:cacheprovider tests notebooks --nbval \
		--nbval-sanitize-with tests/nbval_sanitize.cfg

bench: setup
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/floor.py
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/browser.py

# for maintainers: run the lessons and store their outputs (as JupyterLab saves: no widget state)
lessons: setup
	$(BIN)/python tools/run_lessons.py notebooks/[0-9][0-9]_*.ipynb
