# `make run` and `make test` each bootstrap .venv from nothing (only python3.11 and make needed).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8081 FAKE_PORT=8011` when 8080 or 8010 is taken (the demo says which one is).
PORT ?= 8080
FAKE_PORT ?= 8010
# The demo's day, inside 陵川县's 2025 collection season: `make run YIBAO_TODAY=2024-12-20` to move it.
# Only `make run` sets it; production ignores the demo clock unless YIBAO_TODAY is set there.
YIBAO_TODAY ?= 2024-11-20

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	YIBAO_TODAY=$(YIBAO_TODAY) $(BIN)/yibao demo --port $(PORT) --fake-port $(FAKE_PORT)

test: $(STAMP)
	$(BIN)/ruff check .
	@test -n "$$YIBAO_TEST_PG_URL" || echo "make test: YIBAO_TEST_PG_URL is not set, so the PostgreSQL runs of the \
	database tests are skipped (set it, e.g. postgresql://postgres@127.0.0.1:5432/test, or run bash .ci/run)"
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.nlu

clean:
	rm -rf $(VENV) var .pytest_cache
