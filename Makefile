# Two commands matter: `make serve` and `make test`. Both work on a fresh clone
# with only Python 3.11+ and make: they create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of packages: `make serve` installs what serving needs only,
# `make test` adds the test extras (pytest, Playwright, hypothesis ...).
SERVE_STAMP := $(VENV)/.serve-stamp
TEST_STAMP := $(VENV)/.test-stamp
FRONTEND_STAMP := $(VENV)/.frontend-stamp
PORT ?= 8000
FRONTEND_PORT ?= 8001
ARTICLES ?= 10000
COMMENTS ?= 20
WRITES ?= 20
SOAK_SECONDS ?= 60

.PHONY: install install-test serve test frontend soak bench bench-abuse bench-restart bench-cache bench-feeds schema clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVE_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(TEST_STAMP)

$(FRONTEND_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[frontend]"
	touch $(FRONTEND_STAMP)

install: $(SERVE_STAMP)

install-test: $(TEST_STAMP)

## Migrate ./data/masthead.sqlite3 (or MASTHEAD_DATABASE_URL), load the demo site
## when the database is empty, and serve http://127.0.0.1:8000/graphql
serve: install
	$(BIN)/masthead serve --seed-demo

## The example newsroom site (examples/newsroom) on http://127.0.0.1:$(FRONTEND_PORT)/ over the API on
## http://127.0.0.1:$(PORT)/graphql, as `make serve` runs it (demo site), its operations registered first
frontend: $(FRONTEND_STAMP)
	PORT=$(PORT) FRONTEND_PORT=$(FRONTEND_PORT) \
	MASTHEAD_CORS_ORIGINS=$${MASTHEAD_CORS_ORIGINS:-http://127.0.0.1:$(FRONTEND_PORT)} \
	MASTHEAD_PUBLIC_BASE_URL=$${MASTHEAD_PUBLIC_BASE_URL:-http://127.0.0.1:$(FRONTEND_PORT)} \
	MASTHEAD_TRUSTED_PROXIES=$${MASTHEAD_TRUSTED_PROXIES:-127.0.0.1} \
	$(BIN)/python -m examples.newsroom --with-api

## The whole suite, on SQLite and on PostgreSQL when it answers on 127.0.0.1:5432,
## in three processes (each with its own databases; TEST_WORKERS=0 runs it in one). Three on two
## cores: much of the suite waits on servers it started, and two left a core idle a third of the time
TEST_WORKERS ?= 3
test: install-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

## The load-and-fault scenarios (tests/test_faults.py) for SOAK_SECONDS each (default 60)
soak: install-test
	MASTHEAD_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m pytest -m faults -s -q

## Throughput of the ArticlePage operation against the HTTP stack's ceiling, then
## the same reads with WRITES comment posts a second, and during a comment flood;
## then the cached reads of bench-cache (uncached, in-process, Redis, Varnish, mixed)
bench: install
	$(BIN)/python bench/run.py --articles $(ARTICLES) --comments $(COMMENTS) --writes $(WRITES)
	$(BIN)/python bench/cache.py --articles $(ARTICLES)

## An ArticlePage reader's p50/p99 alone, then beside 4 clients sending the worst
## documents the limits let through (and flooding once their budgets are spent)
bench-abuse: install
	$(BIN)/python bench/abuse.py

## Cached reads against the same ceiling: uncached POST, persisted GET with the in-process
## cache warm, with the cache in Redis, through Varnish, and while the newsroom publishes
bench-cache: install
	$(BIN)/python bench/cache.py --articles $(ARTICLES)

## Seconds from `masthead serve` (nothing to migrate) to its first answer, and from SIGTERM to exit
bench-restart: install
	$(BIN)/python bench/restart.py

## Feeds and sitemaps of FEEDS_ARTICLES synthetic articles, uncached: time to first byte, total time and
## peak RSS of each document. Seeds a scratch SQLite file once (kept in the temp directory: later runs take
## seconds); FEEDS_DATABASE=postgres://... measures another database (seeded when empty)
FEEDS_ARTICLES ?= 100000
bench-feeds: install
	$(BIN)/python bench/feeds.py --articles $(FEEDS_ARTICLES) $(if $(FEEDS_DATABASE),--database $(FEEDS_DATABASE))

## Regenerate schema/schema.graphql from the code
schema: install
	$(BIN)/masthead export-schema

clean:
	rm -rf $(VENV) .pytest_cache
