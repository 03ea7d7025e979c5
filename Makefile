# The two commands: `make lab` opens the lessons, `make test` runs every test (and the lessons
# in notebooks/ under nbval: their stored outputs must come out again).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
CHROMIUM := /usr/bin/chromium

.PHONY: lab test bench setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

# torch first and pinned, so nothing pulls the CUDA build
setup: $(BIN)/python
	$(PIP) torch==2.13.0
	$(PIP) -e ".[test]"

# Debian's chromium for the browser test (Playwright drives it; it never downloads a browser)
$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

lab: $(BIN)/python
	$(PIP) -e ".[lab]"
	$(BIN)/jupyter lab notebooks/

test: setup $(CHROMIUM)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests notebooks --nbval \
		--nbval-sanitize-with tests/nbval_sanitize.cfg

bench: setup
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/floor.py
