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

.PHONY: venv bq-emulator-venv demo report test lint check-dialects clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# The BigQuery emulator of tests/test_bigquery_emulator.py, in a venv of its own (it pins duckdb and sqlglot exactly).
bq-emulator-venv: .venv-bq/.installed

.venv-bq/.installed: requirements-bigquery-emulator.txt
	$(PYTHON) -m venv .venv-bq
	.venv-bq/bin/pip install --quiet --upgrade pip
	.venv-bq/bin/pip install --quiet -r requirements-bigquery-emulator.txt
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
	@$(MAKE) --no-print-directory report

# The conversation KPI report of the demo warehouse: one HTML file that opens from disk (no server, no network),
# and the same KPIs as a table in the terminal. REPORT_ARGS='--screenshot build/report/report.png' adds a PNG.
report: venv
	$(BIN)/python scripts/report.py --duckdb $(DUCKDB_PATH) --prefix $(DEMO_PREFIX) \
		--out build/report/rasa_semantic_schema_report.html $(REPORT_ARGS)

lint: venv
	$(BIN)/ruff check rasa_tracker_loader tests scripts bench

# Every test: ruff, then pytest (which builds the package with dbt on DuckDB, PostgreSQL and a BigQuery emulator
# and runs its dbt tests).
test: venv bq-emulator-venv lint check-dialects
	$(BIN)/pytest -q --durations=25 tests

# Compile the whole package for Redshift and BigQuery without a warehouse (dialect_check/), both branches of every
# model, and check each statement as SQL of that warehouse (scripts/check_dialects.py). Exits 1 on a problem.
check-dialects: venv
	$(BIN)/python scripts/check_dialects.py

# Benchmark on DuckDB (bench/README.md): make bench SIZES="1000000 5000000 10000000" [REPEAT=3] [BENCH_ARGS=--profile]
.PHONY: bench
bench: venv
	$(BIN)/python -m bench --sizes $(or $(SIZES),1000000) $(if $(REPEAT),--repeat $(REPEAT)) $(BENCH_ARGS)

clean:
	rm -rf build target logs dbt_packages integration_tests/target integration_tests/dbt_packages rasa_semantic_schema.duckdb
