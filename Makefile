# Townhall: `make run` serves the demo, `make test` runs the suite on SQLite and PostgreSQL.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# What the demo hands out (demo.json, the served contract, redirect URIs): the address served,
# unless TOWNHALL_BASE_URL (or BASE_URL) names the one clients reach, e.g. behind a proxy.
BASE_URL ?= $(or $(TOWNHALL_BASE_URL),http://$(HOST):$(PORT))
REQUIRE_POSTGRES ?= 0

.PHONY: install run test lint bench bench-audit faults faults-short clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=70' wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/townhall db upgrade
	TOWNHALL_BASE_URL=$(BASE_URL) $(BIN)/townhall demo seed
	@echo
	@echo "Townhall serves $(BASE_URL) (listening on $(HOST):$(PORT), SQLite under instance/). Try:"
	@echo "  open $(BASE_URL)/t/aalst/admin/   (Aalst's admin console: sign in as printed above)"
	@echo "  open $(BASE_URL)/            (the demo municipalities, the docs and the contract)"
	@echo "  curl -i $(BASE_URL)/t/aalst/v1/branding"
	@echo "  curl -H 'Accept-Language: fr' $(BASE_URL)/t/ninove/v1/branding"
	@echo "  open $(BASE_URL)/docs        (the API contract; Authorize signs in a demo person)"
	@echo "  $(BIN)/townhall tenants list       (instance/demo.json describes the demo)"
	@echo
	@# The worker (webhooks, e-mail) runs beside the API and stops with it.
	export TOWNHALL_BASE_URL=$(BASE_URL); \
	$(BIN)/townhall worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	GUNICORN_BIND=$(HOST):$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py

# The suite always runs on SQLite; then on PostgreSQL when it answers (TOWNHALL_TEST_POSTGRES_URL,
# default: the local server), in a database it creates and drops. REQUIRE_POSTGRES=1 (CI) fails
# when PostgreSQL did not run.
test: install node_modules/.installed-stamp
	@set -euo pipefail; \
	echo "== backend: sqlite"; \
	$(BIN)/python -m pytest --backend sqlite; \
	if $(BIN)/python tests/support/postgres.py; then \
		echo "== backend: postgresql"; \
		$(BIN)/python -m pytest --backend postgresql; \
		echo "== backends run: sqlite, postgresql"; \
	else \
		echo "== backends run: sqlite only (PostgreSQL did not answer at $${TOWNHALL_TEST_POSTGRES_URL:-the local server})"; \
		if [ "$(REQUIRE_POSTGRES)" = 1 ]; then echo "PostgreSQL run required but not possible" >&2; exit 1; fi; \
	fi

# The strict contract linter comes from npm, pinned by package-lock.json.
node_modules/.installed-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install node_modules/.installed-stamp
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly lint openapi.yaml --format=stylish

bench: install
	$(BIN)/python bench/run.py

# `townhall audit verify` over a chain of a million entries (bench/audit_verify.py), in a throw-away
# database on the local PostgreSQL; writes the "Audit verification" section of docs/benchmarks.md.
bench-audit: install
	$(BIN)/python bench/audit_verify.py

# Fault injection (bench/faults.py, docs/reliability.md): keyed case creations while PostgreSQL
# restarts and workers are SIGKILLed, on the suite's own PostgreSQL cluster (15/faults, port 5433),
# never the shared one. `faults` writes docs/reliability.md; `faults-short` is CI's version.
faults: install
	$(BIN)/python bench/faults.py --creations 20000 --report

faults-short: install
	$(BIN)/python bench/faults.py --creations 1000 --timeout 600

clean:
	rm -rf $(VENV) node_modules instance build *.egg-info .mypy_cache .ruff_cache .pytest_cache
