# rasa_semantic_schema: the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export RUNTIME__DLTHUB_TELEMETRY := false
export DUCKDB_PATH ?= $(CURDIR)/rasa_semantic_schema.duckdb
DEMO_PREFIX ?= rasa
DEMO_EVENTS ?= 20000
DEMO_SEED ?= 7
DBT := $(BIN)/dbt
DBT_ARGS := --profiles-dir . --profile rasa_semantic_schema_duckdb --vars '{source_schema_prefix: $(DEMO_PREFIX), user_id: metadata__user_id, external_session_id: metadata__external_session_id}'

.PHONY: venv demo test lint check-dialects clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# Generate a realistic deployment of the sample assistant, load it, build and test the semantic schema.
# Safe to re-run: loading the same events again adds nothing and the incremental run has nothing to do.
demo: venv
	@mkdir -p build/demo
	$(BIN)/python -m rasa_tracker_loader.generator --events $(DEMO_EVENTS) --seed $(DEMO_SEED) --out build/demo/trackers
	$(BIN)/python -m rasa_tracker_loader --destination duckdb:$(DUCKDB_PATH) --schema-prefix $(DEMO_PREFIX) build/demo/trackers
	$(BIN)/python -m rasa_tracker_loader --destination duckdb:$(DUCKDB_PATH) --schema-prefix $(DEMO_PREFIX) --model sample_bot
	$(DBT) seed $(DBT_ARGS)
	$(DBT) test $(DBT_ARGS) -s tag:prerequisites
	$(DBT) run $(DBT_ARGS)
	$(DBT) test $(DBT_ARGS) --exclude tag:prerequisites
	$(BIN)/python scripts/summary.py --duckdb $(DUCKDB_PATH) --prefix $(DEMO_PREFIX)

lint: venv
	$(BIN)/ruff check rasa_tracker_loader tests scripts

# Every test: ruff, then pytest (which builds the package with dbt on DuckDB and PostgreSQL and runs its dbt tests).
test: venv lint
	$(BIN)/pytest -q tests

clean:
	rm -rf build target logs dbt_packages integration_tests/target integration_tests/dbt_packages rasa_semantic_schema.duckdb
