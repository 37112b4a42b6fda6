"""Benchmark of the rasa_semantic_schema package at millions of events (``make bench``; see bench/README.md).

Modules: ``source`` writes generated tracker data straight into the source layout of a DuckDB file, ``run``
times dbt (full refresh, no-op, incremental runs) against a hand-written floor and writes ``bench/results.md``,
``profile`` runs DuckDB ``EXPLAIN ANALYZE`` on the SQL dbt compiled for a full refresh.
"""
