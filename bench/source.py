"""Write generated tracker data straight into the source layout (``{prefix}_event``) of a DuckDB file.

The rows are the ones ``python -m rasa_tracker_loader`` writes (README_SOURCE_SCHEMA.md), without a dlt pipeline
(which runs at a few thousand events/s). Per event, Python does only what the loader's ``prepare`` does that SQL
cannot (bench/encode.py: validation, the canonical JSON the ``_record_hash`` is the md5 of, the timestamp); DuckDB
then hashes, extracts and types the columns of every ``event_<type>`` table from that JSON, by chunks.

Which columns, with which types: the first event of every new row shape (the JSON structure of the event, found by
DuckDB) goes through the Python implementation of the loader's flattening and typing (bench/rows.py), in arrival
order, which creates the new columns as the loader would; the shape's other events then only need their values
copied, with the same conversions. A chunk with anything that is not such a copy (a value that would go to a variant
column, a column two paths map to, ...) is written by the Python implementation instead, as are child tables
(lists). ``tests/test_bench_smoke.py`` checks that the loader, the Python implementation and the SQL path write the
same tables, columns, types and values.

:func:`build_dataset` makes the data of one benchmark size: a base load of exactly ``n_events`` events and, per
delta fraction (1 % and 10 %), a separate DuckDB file with one more load of that many events, half of them the
continuation of base senders' conversations (the held-back tails of their trackers) and half from new senders,
all moved to just after the base data in time. Senders are simulated and encoded in worker processes
(``workers``); :func:`apply_delta` appends a delta load to a warehouse.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import json
import math
import os
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from bench.encode import Block, Sender, concat, encode_trackers, simulate_block
from bench.rows import (
    DUCKDB_TYPES,
    FROM_DUCKDB,
    NONE,
    BenchError,
    Column,
    Layout,
    RootRow,
    RowBuilder,
    copy_layout,
    q,
)
from rasa_tracker_loader.events import COMMON_COLUMNS
from rasa_tracker_loader.generator import Plan, sender_plan

__all__ = ["BenchError", "SourceWriter", "apply_delta", "build_dataset", "delta_name", "fingerprint", "load_model"]

ROOT = Path(__file__).resolve().parents[1]
BOOKKEEPING_TABLES = ("_loads", "_version")
LOADS_DDL = (
    "load_id VARCHAR NOT NULL, schema_name VARCHAR, status BIGINT NOT NULL, "
    "inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, schema_version_hash VARCHAR"
)
VERSION_DDL = (
    "version BIGINT NOT NULL, engine_version BIGINT NOT NULL, inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, "
    "schema_name VARCHAR NOT NULL, version_hash VARCHAR NOT NULL, schema VARCHAR NOT NULL"
)
#: Python type of a value -> the column types the SQL path copies it into, and the JSON types DuckDB reports for it
_COPIES: dict[type, tuple[frozenset[str], frozenset[str]]] = {
    str: (frozenset({"text"}), frozenset({"VARCHAR"})),
    int: (frozenset({"bigint", "double"}), frozenset({"UBIGINT", "BIGINT"})),
    float: (frozenset({"double"}), frozenset({"DOUBLE"})),
    bool: (frozenset({"bool"}), frozenset({"BOOLEAN"})),
}
#: column type -> the JSON types whose values the SQL path copies into it, and the cast
_CASTS: dict[str, tuple[frozenset[str], str]] = {
    "text": (frozenset({"VARCHAR", "NULL"}), "{}"),
    "bigint": (frozenset({"UBIGINT", "BIGINT", "NULL"}), "cast({} as BIGINT)"),
    "double": (frozenset({"DOUBLE", "UBIGINT", "BIGINT", "NULL"}), "cast({} as DOUBLE)"),
    "bool": (frozenset({"BOOLEAN", "NULL"}), "cast({} as BOOLEAN)"),
}


def read_layout(con: duckdb.DuckDBPyConnection, schema: str, catalog: str | None = None) -> Layout:
    """The event tables of ``schema`` (not ``_loads``/``_version``) with their columns, as dlt types."""
    where = "table_schema = ?" + (" and table_catalog = ?" if catalog else "")
    sql = (
        "select table_name, column_name, data_type, is_nullable from information_schema.columns "
        f"where {where} order by table_name, ordinal_position"
    )
    layout: Layout = {}
    for table, column, data_type, nullable in con.execute(sql, [schema, catalog] if catalog else [schema]).fetchall():
        if table in BOOKKEEPING_TABLES:
            continue
        dlt_type = FROM_DUCKDB.get(data_type)
        if dlt_type is None:
            raise BenchError(f"{schema}.{table}.{column}: column type {data_type} is not one the loader writes")
        layout.setdefault(table, {})[column] = Column(dlt_type, nullable == "YES", created=True)
    return layout


def column_ddl(name: str, col: Column) -> str:
    return f"{q(name)} {DUCKDB_TYPES[col.type]}" + ("" if col.nullable else " NOT NULL")


def ensure_bookkeeping(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    con.execute(f"create schema if not exists {q(schema)}")
    con.execute(f"create table if not exists {q(schema)}._loads ({LOADS_DDL})")
    con.execute(f"create table if not exists {q(schema)}._version ({VERSION_DDL})")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class LoadInfo:
    load_id: str
    events: int
    senders: int
    seconds: float
    sql_chunks: int = 0
    python_chunks: int = 0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class _Shape:
    """How the SQL path writes the ``event_<type>`` rows of one JSON structure: column -> (path, column type)."""

    table: str
    columns: dict[str, tuple[tuple[str, ...], str]]


def _node(structure: Any, path: Sequence[str]) -> Any:
    """What ``json_structure`` says is at ``path`` (a type name, an object, an array), None when nothing is."""
    for key in path:
        if type(structure) is not dict or key not in structure:
            return None
        structure = structure[key]
    return structure


def _json_path(path: Sequence[str]) -> str | None:
    if any(not k or '"' in k or "\\" in k or not k.isprintable() for k in path):
        return None
    return "$." + ".".join(f'"{k}"' for k in path)


class SourceWriter:
    """Writes loads of tracker events into ``{prefix}_event`` of an open DuckDB connection.

    ``layout``: the tables and column types to continue (default: what ``con`` already holds), as the loader
    continues the schema stored by earlier loads; a delta file is written with the layout of its base.
    ``sql=False`` writes every row with the Python implementation (bench/rows.py) instead of SQL.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        prefix: str = "rasa",
        environment: str = "production",
        layout: Layout | None = None,
        chunk_events: int = 100_000,
        sql: bool = True,
    ) -> None:
        self.con = con
        self.schema_name = f"{prefix}_event"
        self.environment = environment
        self.chunk_events = chunk_events
        self.sql = sql
        ensure_bookkeeping(con, self.schema_name)
        existing = read_layout(con, self.schema_name)
        self.tables: Layout = copy_layout(layout, created=False) if layout is not None else existing
        for table, cols in existing.items():  # what the database has is created, whatever the layout says
            mine = self.tables.setdefault(table, {})
            for name, col in cols.items():
                mine.setdefault(name, col).created = True
        self._builder = RowBuilder(self.tables, self.schema_name, environment)
        self._shapes: dict[tuple[str, str], _Shape] = {}

    def write_load(
        self, trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]], workers: int = 0, generated: bool = False
    ) -> LoadInfo:
        """One load: every ``(sender_id, position of the first event, events)``, then its ``_loads`` row; ``workers``
        processes encode the events (0: this one); ``generated``: they come from the generator (bench/encode.py,
        Encoder)."""
        return self.write_blocks(self._encoded(trackers, workers, generated))

    def write_blocks(self, blocks: Iterable[Block]) -> LoadInfo:
        """One load of encoded events (bench/encode.py), then its ``_loads`` row."""
        info = LoadInfo(str(time.time()), 0, 0, 0.0)
        began = time.perf_counter()
        senders: set[str] = set()
        for block in blocks:
            senders.update(s.sender_id for s in block.senders)
            self._write_block(block, info)
        self.con.execute(
            f"insert into {q(self.schema_name)}._loads values (?, ?, 0, ?, ?)",
            [info.load_id, self.schema_name, datetime.now(UTC), self.layout_hash()],
        )
        info.senders = len(senders)
        info.seconds = time.perf_counter() - began
        return info

    def layout_hash(self) -> str:
        layout = {t: {c: [col.type, col.nullable] for c, col in cols.items()} for t, cols in self.tables.items()}
        text = json.dumps(layout)
        return hashlib.sha256(text.encode()).hexdigest()[:43]

    def _encoded(
        self, trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]], workers: int, generated: bool
    ) -> Iterator[Block]:
        size = self.chunk_events if workers == 0 else max(1000, self.chunk_events // 8)
        tasks = _batches(trackers, size)
        encode = functools.partial(encode_trackers, self.environment, generated, workers > 0)
        return _rebatch(ordered_map(encode, tasks, workers), self.chunk_events)

    # ------------------------------------------------------------------ one chunk

    def _write_block(self, block: Block, info: LoadInfo) -> None:
        if not block.events:
            return
        rows = block.rows.append_column("rid", pa.array(np.arange(block.events, dtype=np.int64)))
        self.con.register("_bench_rows", rows)
        self.con.execute("begin transaction")
        try:
            if self.sql and self._write_sql(block, info.load_id):
                info.sql_chunks += 1
            else:
                self._write_python(block, info.load_id)
                info.python_chunks += 1
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        finally:
            self.con.unregister("_bench_rows")
        info.events += block.events

    def _write_python(self, block: Block, load_id: str) -> None:
        builder = self._builder
        for sender in block.senders:
            events = sender.load()
            for offset in range(sender.count):
                builder.add_event(sender.sender_id, sender.first_pos + offset, events[offset], load_id)
        self._insert(builder.take())

    def _write_sql(self, block: Block, load_id: str) -> bool:
        """Write the chunk with SQL; False (nothing written, layout unchanged) when it needs the Python path."""
        found = self.con.execute(
            "select event, json_structure(coalesce(typed_doc, doc)) as s, min(rid) as first "
            "from _bench_rows group by all order by first"
        ).fetchall()
        new = [(t, s, int(first)) for t, s, first in found if (t, s) not in self._shapes]
        shapes = dict(self._shapes)
        tables = self.tables
        if new:
            scratch = RowBuilder(copy_layout(self.tables), self.schema_name, self.environment)
            starts = [s.row for s in block.senders]
            for event_type, structure, first in new:
                sender = block.senders[bisect.bisect_right(starts, first) - 1]
                offset = first - sender.row
                root = scratch.add_root(sender.sender_id, sender.first_pos + offset, sender.load()[offset], load_id)
                shape = self._compile(root, json.loads(structure), scratch.tables)
                if shape is None:
                    return False
                shapes[(event_type, structure)] = shape
            tables = scratch.tables
        # per table: every column from one path, and no structure with something else than a value there
        by_table: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {}
        structures: dict[str, list[Any]] = {}
        for event_type, structure, _ in found:
            shape = shapes[(event_type, structure)]
            merged = by_table.setdefault(shape.table, {})
            for name, source in shape.columns.items():
                if merged.setdefault(name, source) != source:
                    return False
            structures.setdefault(shape.table, []).append(json.loads(structure))
        # a column whose path holds an object or array in some structure: values only where it holds a value
        gated: dict[str, set[str]] = {}
        for table, columns in by_table.items():
            for name, (path, col_type) in columns.items():
                allowed = _CASTS[col_type][0]
                for structure in structures[table]:
                    node = _node(structure, path)
                    if type(node) is str and node not in allowed:
                        return False
                    if node is not None and type(node) is not str:
                        gated.setdefault(table, set()).add(name)
        if new:
            self.tables.clear()
            self.tables.update(tables)
            self._shapes = shapes
        self._insert_sql("event", {}, set(), None, load_id)
        for table, columns in by_table.items():
            self._insert_sql(table, columns, gated.get(table, set()), table.removeprefix("event_"), load_id)
        for row in sorted(block.lists):
            table, record_hash, lists = block.lists[row]
            self._builder.add_lists(table, record_hash, lists)
        self._insert(self._builder.take())
        return True

    def _compile(self, root: RootRow, structure: Any, tables: Layout) -> _Shape | None:
        """How to copy the rows of one structure whose first event gave ``root``; None when the SQL path cannot."""
        cols = tables[root.table]
        present = {name for name, (_, _, kind) in root.columns.items() if kind is not NONE}
        if set(root.stored) != present:
            return None  # a value went to a variant column (or was left out)
        columns: dict[str, tuple[tuple[str, ...], str]] = {}
        for name, (common, path, kind) in root.columns.items():
            if path is None:
                return None  # two paths give this column
            col = cols.get(name)
            if common:
                if col is None or COMMON_COLUMNS.get(name, {"data_type": "text"})["data_type"] != col.type:
                    return None
                continue
            if kind is NONE:
                continue
            copies = _COPIES.get(kind)
            if copies is None or col is None or col.type not in copies[0] or _json_path(path) is None:
                return None
            node = _node(structure, path)
            if type(node) is not str or node not in copies[1]:
                return None
            columns[name] = (path, col.type)
        return _Shape(root.table, columns)

    def _insert_sql(
        self,
        table: str,
        columns: dict[str, tuple[tuple[str, ...], str]],
        gated: set[str],
        event_type: str | None,
        load_id: str,
    ) -> None:
        exprs = {
            "_record_hash": "h",
            "_root_hash": "h",
            "_load_id": _literal(load_id),
            "_event_pos": "_event_pos",
            "sender_id": "sender_id",
            "event": "event",
            "timestamp": '"timestamp"',
            "model_id": "model_id",
            "environment": _literal(self.environment),
        }
        paths: list[str] = []
        gated_paths: list[str] = []
        for name, (path, col_type) in columns.items():
            types, cast = _CASTS[col_type]
            if name in gated:  # a JSON value, used only when it has a type this column takes
                gated_paths.append(_literal(str(_json_path(path))))
                value = f"g[{len(gated_paths)}]"
                kinds = ", ".join(_literal(t) for t in sorted(types - {"NULL"}))
                got = f"{value}->>'$'" if col_type == "text" else cast.format(value)
                exprs[name] = f"case when json_type({value}) in ({kinds}) then {got} end"
            else:
                paths.append(_literal(str(_json_path(path))))
                exprs[name] = cast.format(f"v[{len(paths)}]")
        self._ensure_table(table)
        source = "select *, coalesce(record_hash, md5(sender_id || doc)) as h"
        if paths:
            source += f", json_extract_string(coalesce(typed_doc, doc), [{', '.join(paths)}]) as v"
        if gated_paths:
            source += f", json_extract(coalesce(typed_doc, doc), [{', '.join(gated_paths)}]) as g"
        source += " from _bench_rows"
        if event_type is not None:
            source += f" where event = {_literal(event_type)}"
        names = ", ".join(q(n) for n in exprs)
        # in arrival order: DuckDB keeps the insertion order of a scan (preserve_insertion_order)
        self.con.execute(
            f"insert into {q(self.schema_name)}.{q(table)} ({names}) select {', '.join(exprs.values())} from ({source})"
        )

    def _ensure_table(self, table: str) -> None:
        """Create ``table`` (all its known columns), or the columns it lacks."""
        cols = self.tables[table]
        target = f"{q(self.schema_name)}.{q(table)}"
        if not any(c.created for c in cols.values()):
            self.con.execute(f"create table {target} ({', '.join(column_ddl(n, c) for n, c in cols.items())})")
            for col in cols.values():
                col.created = True
        for name, col in cols.items():
            if not col.created:
                self.con.execute(f"alter table {target} add column {q(name)} {DUCKDB_TYPES[col.type]}")
                col.created = True

    def _insert(self, tables: dict[str, pa.Table]) -> None:
        """Create missing tables and columns, then append the rows."""
        for table, rows in tables.items():
            self._ensure_table(table)
            self.con.register("_bench_chunk", rows)
            try:
                names = ", ".join(q(n) for n in rows.column_names)
                target = f"{q(self.schema_name)}.{q(table)}"
                self.con.execute(f"insert into {target} ({names}) select {names} from _bench_chunk")
            finally:
                self.con.unregister("_bench_chunk")


def apply_delta(con: duckdb.DuckDBPyConnection, delta_path: Path, prefix: str = "rasa") -> int:
    """Append the load(s) in the DuckDB file ``delta_path`` to the warehouse ``con``: tables and columns it lacks,
    every event row, then the ``_loads`` rows (last, as the loader does). Returns the number of events."""
    schema = f"{prefix}_event"
    con.execute(f"attach '{delta_path}' as bench_delta (read_only)")
    try:
        delta = read_layout(con, schema, catalog="bench_delta")
        ensure_bookkeeping(con, schema)
        # the warehouse's tables and columns (the package may keep tables of its own in this schema)
        mine: dict[str, set[str]] = {}
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ? "
            "and table_catalog = ?",
            [schema, _current_catalog(con)],
        ).fetchall():
            mine.setdefault(table, set()).add(column)
        for table, cols in delta.items():
            target = f"{q(schema)}.{q(table)}"
            if table not in mine:
                con.execute(f"create table {target} ({', '.join(column_ddl(n, c) for n, c in cols.items())})")
            else:
                for name, col in cols.items():
                    if name not in mine[table]:
                        con.execute(f"alter table {target} add column {q(name)} {DUCKDB_TYPES[col.type]}")
            names = ", ".join(q(n) for n in cols)
            con.execute(f"insert into {target} ({names}) select {names} from bench_delta.{target}")
        events = con.execute(f"select count(*) from bench_delta.{q(schema)}.event").fetchone()
        con.execute(f"insert into {q(schema)}._loads select * from bench_delta.{q(schema)}._loads")
    finally:
        con.execute("detach bench_delta")
    return int(events[0]) if events else 0


def _current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


# ---------------------------------------------------------------------- the data of one benchmark size

DELTA_FRACTIONS: tuple[float, ...] = (0.01, 0.10)


def delta_name(fraction: float) -> str:
    return f"delta_{fraction * 100:g}pct"


@dataclass
class _Delta:
    fraction: float
    stride: int  # every stride-th base sender (by index) may hold back its tail for this delta
    tails_left: int
    new_left: int
    spool: Path
    tail_events: int = 0
    tail_senders: int = 0
    new_events: int = 0
    new_senders: int = 0


def default_workers() -> int:
    """Worker processes that simulate and encode senders: one per CPU but one (this process writes with DuckDB)."""
    return max(1, (os.cpu_count() or 1) - 1)


def ordered_map(fn: Callable[[Any], Block], items: Iterable[Any], workers: int) -> Iterator[Block]:
    """``map(fn, items)`` in ``workers`` processes (a few tasks ahead), results in order; in this process when
    ``workers`` is 0. Closing the iterator early cancels what was not started."""
    if workers <= 0:
        yield from map(fn, items)
        return
    pool = ProcessPoolExecutor(max_workers=workers)
    pending: deque[Future[Block]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > 2 * workers + 1:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _batches(
    trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]], size: int
) -> Iterator[list[tuple[str, int, Sequence[dict[str, Any]]]]]:
    batch: list[tuple[str, int, Sequence[dict[str, Any]]]] = []
    events = 0
    for item in trackers:
        batch.append(item)
        events += len(item[2])
        if events >= size:
            yield batch
            batch, events = [], 0
    if batch:
        yield batch


def _rebatch(blocks: Iterable[Block], size: int) -> Iterator[Block]:
    """Blocks joined into chunks of at least ``size`` events."""
    held: list[Block] = []
    events = 0
    for block in blocks:
        held.append(block)
        events += block.events
        if events >= size:
            yield concat(held)
            held, events = [], 0
    if held:
        yield concat(held)


class _Pool:
    """The senders of one generator run in order (as ``generate(n_events=total, seed=seed)`` yields them, the last
    one cut), simulated and encoded by ``workers`` processes, or in this process when ``workers`` is 0."""

    def __init__(self, total: int, seed: int, workers: int, environment: str) -> None:
        self.total = total
        self.plan = sender_plan(n_events=total, seed=seed)
        self.workers = workers
        self.environment = environment
        # blocks of about 13k events, fewer for small runs (a few blocks are simulated ahead)
        self.step = max(8, min(192, total // (70 * 4 * max(1, workers))))

    def senders(self) -> Iterator[tuple[int, Sender, Block]]:
        """``(sender index, sender, its block)``; a sender's ``count`` is cut where the run ends."""
        remaining = self.total
        ranges = ((first, first + self.step) for first in itertools.count(0, self.step))
        simulate = functools.partial(_simulate, self.plan, self.environment, self.workers > 0)
        blocks = ordered_map(simulate, ranges, self.workers)
        try:
            for block in blocks:
                for sender in block.senders:
                    if remaining <= 0:
                        return
                    sender.count = min(sender.count, remaining)
                    remaining -= sender.count
                    assert sender.index is not None
                    yield sender.index, sender, block
        finally:
            blocks.close()


def _simulate(plan: Plan, environment: str, pickled: bool, senders: tuple[int, int]) -> Block:
    return simulate_block(plan, senders[0], senders[1], environment, pickled)


class _Splitter:
    """Deals the generator's senders out: base senders (some of which hold back the tail of their tracker for a
    delta), then new senders for each delta. Spooled trackers are ``(sender_id, first position, events)``."""

    def __init__(
        self, n_events: int, seed: int, fractions: Sequence[float], spool_dir: Path, workers: int, environment: str
    ) -> None:
        self.n_events = n_events
        self.seed = seed
        pool = math.ceil(n_events * (1 + sum(fractions)) * 1.05) + 5_000
        self._pool = _Pool(pool, seed, workers, environment).senders()
        self.deltas = []
        for i, f in enumerate(fractions):
            continuing = round(n_events * f / 2)
            self.deltas.append(
                _Delta(
                    f,
                    max(2, int(1 / (1.5 * f))),
                    continuing,
                    round(n_events * f) - continuing,
                    spool_dir / f"{delta_name(f)}_{i}.pickle",
                )  # fmt: skip
            )
        self.base_senders = 0
        self.min_ts = math.inf
        self.max_ts = -math.inf

    def base(self, chunk_events: int) -> Iterator[Block]:
        """The base load, in chunks of at least ``chunk_events`` events; then (when it is exhausted) the deltas'
        new senders go to the spool."""
        left = self.n_events
        handles = {id(d): d.spool.open("wb") for d in self.deltas}
        heads: list[Block] = []
        parts: list[tuple[Sender, int]] = []
        current: Block | None = None
        size = 0
        try:
            while left > 0:
                index, sender, block = self._next()
                if block is not current:
                    if parts and current is not None:
                        heads.append(current.head(parts))
                    current, parts = block, []
                n = take = sender.count
                if n > left:
                    take = left
                elif n >= 2:
                    for i, d in enumerate(self.deltas):
                        if d.tails_left > 0 and index % d.stride == (i + 1) % d.stride:
                            rng = random.Random(f"bench-split/{self.seed}/{index}")
                            cut = rng.randint(1, n - 1)
                            tail = sender.load()[cut : min(n, cut + d.tails_left)]
                            record = (sender.sender_id, cut, tail)
                            pickle.dump(record, handles[id(d)], protocol=pickle.HIGHEST_PROTOCOL)
                            d.tails_left -= len(tail)
                            d.tail_events += len(tail)
                            d.tail_senders += 1
                            take = cut
                            break
                left -= take
                self.base_senders += 1
                seconds = block.seconds[sender.row : sender.row + take]
                self.min_ts = min(self.min_ts, float(seconds[0]))
                self.max_ts = max(self.max_ts, float(seconds.max()))
                parts.append((sender, take))
                size += take
                if size >= chunk_events:
                    heads.append(block.head(parts))
                    yield concat(heads)
                    heads, parts, size = [], [], 0
            if parts and current is not None:
                heads.append(current.head(parts))
            if heads:
                yield concat(heads)
            for d in self.deltas:
                while d.new_left > 0:
                    _, sender, _ = self._next()
                    part = sender.load()[: min(sender.count, d.new_left)]
                    pickle.dump((sender.sender_id, 0, part), handles[id(d)], protocol=pickle.HIGHEST_PROTOCOL)
                    d.new_left -= len(part)
                    d.new_events += len(part)
                    d.new_senders += 1
        finally:
            for handle in handles.values():
                handle.close()
            self._pool.close()

    def _next(self) -> tuple[int, Sender, Block]:
        try:
            return next(self._pool)
        except StopIteration:
            raise BenchError("the generator ran out of senders before the benchmark data was complete") from None

    def delta(self, d: _Delta) -> Iterator[tuple[str, int, list[dict[str, Any]]]]:
        """The spooled trackers of ``d``, moved in time to a window just after the base data whose length is
        ``d.fraction`` of the base's time span (a new load arrives after the data loaded before it)."""
        start = self.max_ts + 60.0
        span = d.fraction * (self.max_ts - self.min_ts)
        with d.spool.open("rb") as handle:
            while True:
                try:
                    sender_id, first_pos, events = pickle.load(handle)
                except EOFError:
                    return
                rng = random.Random(f"bench-shift/{self.seed}/{sender_id}/{d.fraction}")
                offset = start + rng.random() * span - events[0]["timestamp"]
                yield sender_id, first_pos, [{**e, "timestamp": e["timestamp"] + offset} for e in events]


def fingerprint(*parts: Any) -> str:
    """Cache key of generated data: the arguments and the code that produces the rows."""
    digest = hashlib.sha256(json.dumps(parts, default=str).encode())
    for path in (
        ROOT / "bench" / "source.py",
        ROOT / "bench" / "encode.py",
        ROOT / "bench" / "rows.py",
        ROOT / "rasa_tracker_loader" / "events.py",
        ROOT / "rasa_tracker_loader" / "generator.py",
        ROOT / "rasa_tracker_loader" / "conversation.py",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_dataset(
    out_dir: Path,
    n_events: int,
    seed: int,
    *,
    prefix: str = "rasa",
    fractions: Sequence[float] = DELTA_FRACTIONS,
    model_path: Path | None = ROOT / "sample_bot",
    workers: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """``out_dir/base.duckdb`` (one load of ``n_events`` events, plus the bot model loaded by the real loader) and
    ``out_dir/delta_*.duckdb`` per fraction; returns (and writes to ``meta.json``) what they hold. ``workers``:
    processes that simulate and encode senders (0: this one; default: one per CPU but one, from 100k events)."""
    meta_path = out_dir / "meta.json"
    if meta_path.exists():
        return dict(json.loads(meta_path.read_text()))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    began = time.perf_counter()
    environment = "production"
    with tempfile.TemporaryDirectory(prefix="rss_bench_spool_") as spool_dir:
        # worker processes pay off from about 100k events
        if workers is None:
            workers = 0 if n_events < 100_000 else default_workers()
        splitter = _Splitter(n_events, seed, fractions, Path(spool_dir), workers, environment)
        base_path = out_dir / "base.duckdb"
        con = duckdb.connect(str(base_path))
        try:
            writer = SourceWriter(con, prefix, environment)
            base = writer.write_blocks(splitter.base(writer.chunk_events))
            layout = copy_layout(writer.tables, created=True)
        finally:
            con.close()
        log(f"  base: {base.events} events of {base.senders} senders in {base.seconds:.1f} s "
            f"({base.events_per_second:,.0f} events/s)")  # fmt: skip
        meta: dict[str, Any] = {
            "n_events": n_events,
            "seed": seed,
            "prefix": prefix,
            "base": {"events": base.events, "senders": base.senders, "seconds": round(base.seconds, 2),
                     "load_id": base.load_id, "first_ts": splitter.min_ts, "last_ts": splitter.max_ts},
            "deltas": {},
        }  # fmt: skip
        for d in splitter.deltas:
            path = out_dir / f"{delta_name(d.fraction)}.duckdb"
            con = duckdb.connect(str(path))
            try:
                writer = SourceWriter(con, prefix, environment, layout=layout)
                info = writer.write_load(splitter.delta(d), workers, generated=True)
            finally:
                con.close()
            meta["deltas"][delta_name(d.fraction)] = {
                "fraction": d.fraction,
                "file": path.name,
                "events": info.events,
                "continuing_events": d.tail_events,
                "continuing_senders": d.tail_senders,
                "new_events": d.new_events,
                "new_senders": d.new_senders,
                "load_id": info.load_id,
            }
            log(f"  {delta_name(d.fraction)}: {info.events} events ({d.tail_events} continuing {d.tail_senders} "
                f"senders, {d.new_events} of {d.new_senders} new senders)")  # fmt: skip
    if model_path is not None:
        load_model(base_path, prefix, model_path)
    seconds = time.perf_counter() - began
    events = base.events + sum(d["events"] for d in meta["deltas"].values())
    meta["seconds"] = round(seconds, 2)
    meta["events_per_second"] = round(events / seconds)
    log(f"  source data: {events} events in {seconds:.1f} s ({events / seconds:,.0f} events/s)")
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta


def load_model(duckdb_path: Path, prefix: str, model_path: Path) -> None:
    """The bot model, with the real loader (one small load into ``{prefix}_model``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "rasa_tracker_loader", "--destination", f"duckdb:{duckdb_path}",
         "--schema-prefix", prefix, "--no-progress", "--model", str(model_path)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise BenchError(f"loading the model failed: {proc.stderr.strip() or proc.stdout.strip()}")
