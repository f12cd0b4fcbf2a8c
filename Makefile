# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgresql install install-dev chromium lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Links in emails point at the shop as `make run` serves it, unless SHOP_BASE_URL says otherwise.
SHOP_BASE_URL ?= http://$(HOST):$(PORT)
SERVE := SHOP_BASE_URL=$(SHOP_BASE_URL) $(FLASK)

## Serve the demo shop on http://$(HOST):$(PORT) with the mail worker beside it
## (`make run PORT=5101` for another port).
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C stops the shop and the mail worker); emailed links use $(SHOP_BASE_URL)."
	@$(SERVE) mail-worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(SERVE) run --host $(HOST) --port $(PORT)

## The whole suite on SQLite and on PostgreSQL, the two passes side by side (each prints its
## report when it ends; either failing fails the run).
test: install-dev chromium
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql

test-sqlite: install-dev
	$(BIN)/python -m pytest --db=sqlite

test-postgresql: install-dev
	$(BIN)/python -m pytest --db=postgresql

## Debian's Chromium for the browser tests (installed with apt when running as root).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Chromium for the browser tests..."; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is not installed and cannot be installed here: browser tests will be skipped."; fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache pyproject.toml

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	@$(BIN)/python -m tests.bench_catalogue; catalogue=$$?; \
	$(BIN)/python -m tests.bench_checkout; checkout=$$?; \
	$(BIN)/python -m tests.bench; rest=$$?; \
	exit $$((catalogue | checkout | rest))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
