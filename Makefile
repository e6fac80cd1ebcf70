# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK_VENV := .venv-lock

.PHONY: run test check lint typecheck schema demo-ehr bench bench-realtime chaos lock clean reset-demo

# Every package comes from requirements.lock, pinned with hashes (docs/dependencies.md); the
# project itself is installed last, without resolving anything.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Re-resolve requirements.lock from pyproject.toml (docs/dependencies.md); then `make test`
lock:
	test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/python -m pip install --quiet "uv>=0.5"; }
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra dev --universal \
	  --python-version 3.11 --generate-hashes --quiet $(LOCK_ARGS) -o requirements.lock

## Serve the portal on SQLite with demo data and GraphiQL at http://127.0.0.1:8000/graphql
run: $(STAMP)
	$(BIN)/portal migrate
	$(BIN)/portal seed --patients 300 --if-empty
	$(BIN)/portal serve

## Format check, lint, types and the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/pytest

## Rewrite schema.graphql from the code (review the diff: it is the API clients see)
schema: $(STAMP)
	$(BIN)/python -m portal.sdl > schema.graphql

## HTTP benchmark (README "Benchmark"): PostgreSQL and SQLite, GraphQL beside a hand-written
## endpoint, driven by wrk; a few minutes, bounded. Not part of `make test`.
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
	  apt-get install -y wrk >/dev/null 2>&1 || sudo apt-get install -y wrk; }
	$(BIN)/python -m bench.http

## Real-time delivery latency and memory per subscription (README "Real time")
bench-realtime: $(STAMP)
	$(BIN)/python -m bench.realtime

## Faults under load (docs/operations.md): two instances on a throwaway PostgreSQL and Redis,
## kill -9 one, restart Redis, restart PostgreSQL; reports what clients saw and reconciles.
## About a minute and a half; exits 1 on a 500 or anything lost or doubled.
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) $(LOCK_VENV) var .mypy_cache .ruff_cache .pytest_cache

## Delete the demo database (SQLite, var/) and seed it again; the virtualenv stays
reset-demo: $(STAMP)
	rm -rf var
	$(BIN)/portal migrate
	$(BIN)/portal seed --patients 300
