# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench serve clean postgres

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/placement solve scenarios/seine_saint_denis_nigerian_network.yaml --time-limit 20

test: $(STAMP) postgres
	$(BIN)/ruff check placement solver api cli tests benchmarks
	$(BIN)/ruff format --check placement solver api cli tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest

# The service tests start a real PostgreSQL server from the Debian binaries.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
postgres:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; else \
		echo "installing the Debian postgresql package for the service tests"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; \
	fi

# The HTTP service with a demo national network (SQLite in .venv unless PLACEMENT_* says
# otherwise); prints the demo users' tokens the first time. Docs: docs/service.md.
serve: $(STAMP)
	PLACEMENT_DB_PATH=$${PLACEMENT_DB_PATH:-$(VENV)/demo-service.db} $(BIN)/placement serve --seed-demo

lint: $(STAMP)
	$(BIN)/ruff check placement solver api cli tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_solver.py

clean:
	rm -rf $(VENV)
