# Two commands do all the set-up on a fresh Debian machine with Python 3.11:
#   make run    environment, demo store if missing, dashboard on http://127.0.0.1:8501
#   make test   environment with test tools, Chromium and PostgreSQL if missing, lint and
#               every test (the catalog's tests run on SQLite and on PostgreSQL)
#               (browser tests share one live server, so they run in their own pytest call)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STORE ?= data/store
PORT ?= 8501
# Students per year in the demo that `make run` builds (statewide: make demo-statewide).
DEMO_STUDENTS ?= 20000

.PHONY: run test lint bench screenshots demo demo-statewide constraints messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=25.1"

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt --group test
	touch $@

run: $(VENV)/.installed
	@# Chromium prints SSR and chart PDFs; without it (no root) the rest still works.
	./scripts/ensure-chromium || echo "warning: no Chromium: PDF downloads will say how to install it" >&2
	$(BIN)/elpac demo --if-missing --students $(DEMO_STUDENTS) --store $(STORE)
	$(BIN)/elpac serve --store $(STORE) --port $(PORT)

demo: $(VENV)/.installed
	$(BIN)/elpac demo --students $(DEMO_STUDENTS) --store $(STORE)

demo-statewide: $(VENV)/.installed
	$(BIN)/elpac demo --students 1200000 --years 2018-19..2025-26 --store $(STORE)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

test: $(VENV)/.installed-test
	./scripts/ensure-chromium
	./scripts/ensure-postgresql
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto -m "not browser" --durations=15
	$(BIN)/python -m pytest -m browser --durations=15

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks

# The README's pictures, from the demo store (synthetic: safe to commit). Look at them first.
screenshots: $(VENV)/.installed-test
	$(BIN)/elpac demo --if-missing --students $(DEMO_STUDENTS) --store $(STORE)
	$(BIN)/python scripts/screenshots.py --store $(STORE)

# The SSR template's messages (documents/locale/ssr.pot), merged into each language's .po.
messages: $(VENV)/.installed
	$(BIN)/python -m documents.catalogue

constraints: $(BIN)/python
	$(BIN)/pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
