# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test quick lint bench serve clean postgres chromium bytecode
SOURCES := placement solver api cli stress tests benchmarks

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The project's modules byte-compiled, as pip does for the packages it installs (an editable
# install does not): `placement` then starts without compiling them, also where
# PYTHONDONTWRITEBYTECODE is set (as on the development machine, where that was 50-90 ms of
# every run before its first plan). Only what changed is compiled again.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q placement solver api cli stress

demo: bytecode
	$(BIN)/placement solve scenarios/seine_saint_denis_nigerian_network.yaml --time-limit 20

test: lint bytecode postgres chromium
	$(BIN)/pytest

# While working: the tests not marked slow (4.5 min on this 2-core machine; `make test`: all).
quick: bytecode
	$(BIN)/pytest -m "not slow" -q

# The service tests start a real PostgreSQL server from the Debian binaries.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
postgres:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; else \
		echo "installing the Debian postgresql package for the service tests"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; \
	fi

# The browser tests (tests/web) drive Debian's Chromium with Playwright.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; else \
		echo "installing the Debian chromium package for the browser tests"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; \
	fi

# The HTTP service with a demo national network, on the database every `placement` command
# uses (PLACEMENT_DB_PATH, default placement.db here; api/config.py); prints the demo users'
# tokens the first time. `exec`: a signal to this recipe reaches the server. Docs: docs/service.md.
serve: bytecode
	exec $(BIN)/placement serve --seed-demo

# Style, complexity and parameter-list limits (ruff), formatting, types, and the
# architecture (.importlinter: which package may import which).
lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: bytecode
	$(BIN)/python benchmarks/bench_solver.py

clean:
	rm -rf $(VENV)
	find placement solver api cli stress -name __pycache__ -type d -prune -exec rm -rf {} +
