"""The benchmark (bench/, ``make bench``) at a small size, so that it cannot rot.

Three checks: the benchmark's fast source writer writes what ``python -m rasa_tracker_loader`` writes (same tables,
same columns and types, same ``_record_hash``es, same values); the delta loads have the promised composition; and
one whole benchmark run at 5000 events completes and reports every figure. Timings are printed, never asserted.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import duckdb

from bench import run as bench_run
from bench.source import SourceWriter
from rasa_tracker_loader.cli import main as loader_main
from rasa_tracker_loader.generator import generate, generate_scenario_set

PREFIX = "rasa"
SCHEMA = f"{PREFIX}_event"


def _trackers() -> list[tuple[str, list[dict[str, Any]]]]:
    """Generated senders plus the named scenarios (restarts, old SDKs, forms, odd slot values, ...)."""
    out = [(sid, list(events)) for sid, events in generate(n_events=4000, seed=11)]
    out += [(s.sender_id, list(s.events)) for s in generate_scenario_set()]
    return out


def _layout(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple[str, str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = ? order by table_name, column_name",
        [SCHEMA],
    ).fetchall()
    out: dict[str, set[tuple[str, str, str]]] = {}
    for table, column, data_type, nullable in rows:
        out.setdefault(table, set()).add((column, data_type, nullable))
    return out


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> dict[str, tuple[Any, ...]]:
    select = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f'select "_record_hash", {select} from "{SCHEMA}"."{table}"').fetchall()
    out = {r[0]: tuple(r[1:]) for r in rows}
    assert len(out) == len(rows), f"{table}: duplicate _record_hash"
    return out


def test_writer_matches_loader(tmp_path: Path) -> None:
    trackers = _trackers()
    n_events = sum(len(events) for _, events in trackers)
    docs = tmp_path / "trackers.json"
    docs.write_text(json.dumps([{"sender_id": sid, "events": events} for sid, events in trackers]))
    by_loader = tmp_path / "loader.duckdb"
    began = time.perf_counter()
    assert loader_main(["--destination", f"duckdb:{by_loader}", "--schema-prefix", PREFIX, "--no-progress",
                        str(docs)]) == 0  # fmt: skip
    loader_seconds = time.perf_counter() - began

    by_writer = tmp_path / "writer.duckdb"
    con = duckdb.connect(str(by_writer))
    try:
        info = SourceWriter(con, PREFIX, chunk_events=1500).write_load((sid, 0, ev) for sid, ev in trackers)
    finally:
        con.close()
    print(f"\n{n_events} events: loader {loader_seconds:.1f} s, bench writer {info.seconds:.2f} s")

    a = duckdb.connect(str(by_loader), read_only=True)
    b = duckdb.connect(str(by_writer), read_only=True)
    try:
        layout_a, layout_b = _layout(a), _layout(b)
        assert sorted(layout_a) == sorted(layout_b), "different tables"
        for table in layout_a:
            assert layout_a[table] == layout_b[table], f"{table}: different columns, types or nullability"
        for table in layout_a:
            if table in ("_loads", "_version"):
                continue
            columns = sorted(c for c, _, _ in layout_a[table] if c not in ("_record_hash", "_load_id"))
            rows_a, rows_b = _rows(a, table, columns), _rows(b, table, columns)
            assert rows_a.keys() == rows_b.keys(), f"{table}: different _record_hash sets"
            diff = [h for h in rows_a if rows_a[h] != rows_b[h]]
            assert not diff, f"{table}: {len(diff)} rows differ, e.g. {rows_a[diff[0]]} != {rows_b[diff[0]]}"
        assert a.execute(f'select count(*) from "{SCHEMA}".event').fetchone() == (n_events,)
        for con in (a, b):
            loads = con.execute(f'select status, schema_name from "{SCHEMA}"._loads').fetchall()
            assert loads == [(0, SCHEMA)]
            load_ids = con.execute(f'select distinct _load_id from "{SCHEMA}".event').fetchall()
            assert load_ids == con.execute(f'select load_id from "{SCHEMA}"._loads').fetchall()
    finally:
        a.close()
        b.close()


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    began = time.perf_counter()
    code = bench_run.main([
        "--sizes", "5000",
        "--repeat", "1",
        "--loader-events", "500",
        "--data-dir", str(tmp_path / "data"),
        "--out", str(out),
    ])  # fmt: skip
    print(f"bench smoke run: {time.perf_counter() - began:.1f} s")
    assert code == 0
    text = out.read_text()
    for label in bench_run.REPORT_ROWS:
        assert re.search(rf"^\| {re.escape(label)} \|", text, re.M), f"results lack the row {label!r}"
    # at 5000 events dbt's fixed cost dominates: the ratios are noise (even negative), only their presence counts
    number = r"-?[0-9.]+|nan|inf"
    line = rf"^events=5000 full_over_floor=({number}) incremental1_over_full=({number}) peak_mb=[0-9]+$"
    assert re.search(line, text, re.M), text
    data = json.loads(out.with_suffix(".json").read_text())
    assert [s["events"] for s in data["sizes"]] == [5000]


def test_delta_composition(tmp_path: Path) -> None:
    """Each delta load is exactly its fraction of the base, half continuing base senders' conversations and half
    from new senders, all later than the base data."""
    from bench.source import DELTA_FRACTIONS, build_dataset, delta_name

    n = 20_000
    meta = build_dataset(tmp_path / "d", n, 3, model_path=None, log=lambda _: None)
    assert meta["base"]["events"] == n
    base = duckdb.connect(str(tmp_path / "d" / "base.duckdb"), read_only=True)
    try:
        base_senders = {r[0] for r in base.execute(f'select distinct sender_id from "{SCHEMA}".event').fetchall()}
        last_base = base.execute(f'select max("timestamp") from "{SCHEMA}".event').fetchone()
    finally:
        base.close()
    assert last_base is not None
    for fraction in DELTA_FRACTIONS:
        delta = meta["deltas"][delta_name(fraction)]
        assert delta["events"] == round(n * fraction)
        assert delta["continuing_events"] == round(n * fraction / 2)
        assert delta["continuing_senders"] > 0 and delta["new_senders"] > 0
        con = duckdb.connect(str(tmp_path / "d" / delta["file"]), read_only=True)
        try:
            rows = con.execute(f'select sender_id, min("timestamp") from "{SCHEMA}".event group by 1').fetchall()
            loads = con.execute(f'select count(*) from "{SCHEMA}"._loads where status = 0').fetchone()
        finally:
            con.close()
        continuing = [s for s, _ in rows if s in base_senders]
        assert len(continuing) == delta["continuing_senders"]
        assert len(rows) - len(continuing) == delta["new_senders"]
        assert all(first > last_base[0] for _, first in rows)
        assert loads == (1,)
