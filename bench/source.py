"""Write generated tracker data straight into the source layout (``{prefix}_event``) of a DuckDB file.

The rows are the ones ``python -m rasa_tracker_loader`` writes (README_SOURCE_SCHEMA.md). Every event goes through
the loader's own ``prepare`` (validation, ``_record_hash``, payload filters); the prepared rows are then flattened,
typed and split into child tables the way dlt's relational normalizer does it with the loader's schema (its naming
convention, preferred types, iso-timestamp detection, variant columns and declared columns), by calls into the same
dlt helpers, but without a dlt pipeline (which runs at about 2.5k events/s). ``tests/test_bench_smoke.py`` checks
on a sample that both write the same tables, columns, ``_record_hash``es and values.

:func:`build_dataset` makes the data of one benchmark size: a base load of exactly ``n_events`` events and, per
delta fraction (1 % and 10 %), a separate DuckDB file with one more load of that many events, half of them the
continuation of base senders' conversations (the held-back tails of their trackers) and half from new senders,
all moved to just after the base data in time. :func:`apply_delta` appends such a load to a warehouse.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from dlt.common.data_types.type_helpers import coerce_value, py_type_to_sc_type
from dlt.common.normalizers.json.helpers import get_nested_row_hash
from dlt.common.normalizers.json.relational import DataItemNormalizer
from dlt.common.schema.utils import autodetect_sc_type
from dlt.common.time import normalize_timezone
from dlt.common.typing import VARIANT_FIELD_FORMAT

from rasa_tracker_loader.events import COMMON_COLUMNS, RawEvent, prepare, typed_table_columns
from rasa_tracker_loader.generator import generate
from rasa_tracker_loader.load import new_schema
from rasa_tracker_loader.naming import NamingConvention

ROOT = Path(__file__).resolve().parents[1]

#: dlt data type -> DuckDB column type (what dlt's DuckDB destination creates)
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
    "time": "TIME",
    "json": "JSON",
    "binary": "BLOB",
    "decimal": "DECIMAL(38,9)",
}
_FROM_DUCKDB = {v: k for k, v in DUCKDB_TYPES.items()}
_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "json": pa.string(),
    "binary": pa.binary(),
    "decimal": pa.decimal128(38, 9),
}
_PY_TYPES: dict[type, str] = {str: "text", int: "bigint", float: "double", bool: "bool", datetime: "timestamp"}
BOOKKEEPING_TABLES = ("_loads", "_version")
LOADS_DDL = (
    "load_id VARCHAR NOT NULL, schema_name VARCHAR, status BIGINT NOT NULL, "
    "inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, schema_version_hash VARCHAR"
)
VERSION_DDL = (
    "version BIGINT NOT NULL, engine_version BIGINT NOT NULL, inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, "
    "schema_name VARCHAR NOT NULL, version_hash VARCHAR NOT NULL, schema VARCHAR NOT NULL"
)


class BenchError(RuntimeError):
    pass


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Column:
    type: str  # dlt data type
    nullable: bool
    created: bool = False  # exists in the database


Layout = dict[str, dict[str, Column]]


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
        dlt_type = _FROM_DUCKDB.get(data_type)
        if dlt_type is None:
            raise BenchError(f"{schema}.{table}.{column}: column type {data_type} is not one the loader writes")
        layout.setdefault(table, {})[column] = Column(dlt_type, nullable == "YES", created=True)
    return layout


def copy_layout(layout: Layout, created: bool) -> Layout:
    return {t: {c: Column(col.type, col.nullable, created) for c, col in cols.items()} for t, cols in layout.items()}


def column_ddl(name: str, col: Column) -> str:
    return f"{q(name)} {DUCKDB_TYPES[col.type]}" + ("" if col.nullable else " NOT NULL")


def ensure_bookkeeping(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    con.execute(f"create schema if not exists {q(schema)}")
    con.execute(f"create table if not exists {q(schema)}._loads ({LOADS_DDL})")
    con.execute(f"create table if not exists {q(schema)}._version ({VERSION_DDL})")


@dataclass
class LoadInfo:
    load_id: str
    events: int
    senders: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


class RowBuilder:
    """Turns events into typed rows of the source tables, buffered per table; no database. ``tables`` is the layout
    it continues and extends (new tables and columns, with their types)."""

    def __init__(self, tables: Layout, schema_name: str, environment: str) -> None:
        self.tables = tables
        self.environment = environment
        schema = new_schema(schema_name)  # the loader's schema: preferred types, detections, not-null hints
        self._schema = schema
        self._detections = schema.settings.get("detections") or []
        self._not_null = set(schema.settings.get("default_hints", {}).get("not_null", []))
        self._naming = NamingConvention()
        self._idents: dict[str, str] = {}
        self._paths: dict[tuple[tuple[str, ...], str], str] = {}
        self._declared: set[str] = set()
        self._typed_columns: dict[str, dict[str, dict[str, Any]]] = {}
        self._preferred: dict[str, str | None] = {}
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self.events = 0

    def add_event(self, sender_id: str, position: int, event: dict[str, Any], load_id: str) -> None:
        prepared = prepare(RawEvent(event, sender_id, position, f"{sender_id}#{position}"), self.environment)
        common = dict(prepared.common_row)
        common["_load_id"] = load_id
        self._add_row("event", common, COMMON_COLUMNS)
        self._normalize_root(prepared.table, prepared.typed_row, load_id)
        self.events += 1

    def take(self) -> dict[str, pa.Table]:
        """The buffered rows as one Arrow table per source table (only the columns that have values)."""
        out = {}
        for table, rows in self._rows.items():
            if not rows:
                continue
            cols = self.tables[table]
            present: dict[str, None] = {}
            for row in rows:
                present.update(dict.fromkeys(row))
            arrays = {}
            for name in present:
                kind = cols[name].type
                values = [row.get(name) for row in rows]
                if kind == "json":
                    values = [None if v is None else json.dumps(v) for v in values]
                arrays[name] = pa.array(values, type=_ARROW_TYPES[kind])
            out[table] = pa.table(arrays)
        self._rows = {}
        self.events = 0
        return out

    # ------------------------------------------------------------------ normalization (as dlt's relational one)

    def _ident(self, key: str) -> str:
        name = self._idents.get(key)
        if name is None:
            if key and not key.isspace():
                name = self._naming.normalize_identifier(key)
            else:
                name = DataItemNormalizer.EMPTY_KEY_IDENTIFIER
            self._idents[key] = name
        return name

    def _flatten(self, row: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], list[Any]]]]:
        """Nested objects become ``a__b`` columns, lists are returned to become child tables."""
        flat: dict[str, Any] = {}
        lists: list[tuple[tuple[str, ...], list[Any]]] = []
        paths = self._paths
        stack: list[tuple[dict[str, Any], tuple[str, ...]]] = [(row, ())]
        while stack:
            current, path = stack.pop()
            for key, value in current.items():
                kind = type(value)
                if kind is dict:
                    stack.append((value, (*path, self._ident(key))))
                elif kind is list:
                    lists.append(((*path, self._naming.normalize_table_identifier(key)), value))
                else:
                    name = paths.get((path, key))
                    if name is None:
                        name = self._ident(key)
                        if path:
                            name = self._naming.shorten_fragments(*path, name)
                        paths[(path, key)] = name
                    flat[name] = value
        return flat, lists

    def _normalize_root(self, table: str, row: dict[str, Any], load_id: str) -> None:
        flat, lists = self._flatten(row)
        flat["_load_id"] = load_id
        declared = self._typed_columns.get(table)
        if declared is None:
            declared = self._typed_columns[table] = typed_table_columns(row)
        self._add_row(table, flat, declared)
        if lists:
            root_hash = flat["_record_hash"]
            self._normalize_lists(lists, (table,), root_hash, {"_root_hash": root_hash})

    def _normalize_lists(
        self,
        lists: list[tuple[tuple[str, ...], list[Any]]],
        parent_path: tuple[str, ...],
        parent_hash: str,
        extend: dict[str, Any],
    ) -> None:
        for list_path, items in lists:
            table = self._naming.shorten_fragments(*parent_path, *list_path)
            for pos, item in enumerate(items):
                row_hash = get_nested_row_hash(parent_hash, table, pos)
                kind = type(item)
                if kind is dict or kind is list:
                    flat, nested = self._flatten(item if kind is dict else {"list": item})
                else:
                    flat, nested = {"value": item}, []
                flat.update(extend)
                flat["_parent_hash"] = parent_hash
                flat["_pos"] = pos
                flat["_record_hash"] = row_hash
                self._add_row(table, flat, None)
                if nested:
                    self._normalize_lists(nested, (*parent_path, *list_path), row_hash, extend)

    # ------------------------------------------------------------------ typing (as dlt's normalize step)

    def _add_row(self, table: str, flat: dict[str, Any], declared: dict[str, dict[str, Any]] | None) -> None:
        cols = self.tables.get(table)
        if cols is None:
            cols = self.tables[table] = {}
        if declared and table not in self._declared:
            self._declared.add(table)
            for name, hint in declared.items():
                if name not in cols:
                    cols[name] = Column(hint["data_type"], hint.get("nullable", True))
        out: dict[str, Any] = {}
        py_types = _PY_TYPES
        for name, value in flat.items():
            if value is None:
                col = cols.get(name)
                if (col is not None and not col.nullable) or (col is None and name in self._not_null):
                    raise BenchError(f"{table}.{name}: NULL in a NOT NULL column")
                continue
            # fast path: a known column of the value's type (timestamps only when already in UTC)
            col = cols.get(name)
            kind = type(value)
            if col is not None and col.type == py_types.get(kind) and (kind is not datetime or value.tzinfo is UTC):
                out[name] = value
            else:
                self._put(table, cols, name, value, out, False)
        self._rows.setdefault(table, []).append(out)

    def _infer_type(self, name: str, value: Any, py_type: str, skip_preferred: bool) -> str:
        detected = autodetect_sc_type(self._detections, type(value), value) if self._detections else None
        mapped = detected or py_type
        if skip_preferred:
            return mapped
        if name not in self._preferred:
            self._preferred[name] = self._schema.get_preferred_type(name)
        return self._preferred[name] or mapped

    def _put(
        self, table: str, cols: dict[str, Column], name: str, value: Any, out: dict[str, Any], is_variant: bool
    ) -> None:
        py_type = _PY_TYPES.get(type(value)) or py_type_to_sc_type(type(value))
        col = cols.get(name)
        col_type = col.type if col is not None else self._infer_type(name, value, py_type, is_variant)
        try:
            coerced = value if col_type == py_type else coerce_value(col_type, py_type, value)
        except (ValueError, SyntaxError):
            if is_variant:
                raise BenchError(f"{table}.{name}: cannot store {value!r} ({py_type}) in a {col_type} column") from None
            variant = self._naming.shorten_fragments(name, VARIANT_FIELD_FORMAT % py_type)
            self._put(table, cols, variant, value, out, True)
            return
        if col_type == "timestamp":
            coerced = normalize_timezone(coerced, True)
        if col is None:
            cols[name] = Column(col_type, name not in self._not_null)
        out[name] = coerced


def _build_chunk(
    trackers: list[tuple[str, int, Sequence[dict[str, Any]]]],
    load_id: str,
    layout: Layout,
    schema_name: str,
    environment: str,
) -> tuple[dict[str, pa.Table], Layout]:
    """Worker process: the rows of ``trackers`` and the layout after them."""
    builder = RowBuilder(layout, schema_name, environment)
    for sender_id, first_pos, tracker in trackers:
        for offset, event in enumerate(tracker):
            builder.add_event(sender_id, first_pos + offset, event, load_id)
    return builder.take(), builder.tables


class SourceWriter:
    """Writes loads of tracker events into ``{prefix}_event`` of an open DuckDB connection.

    ``layout``: the tables and column types to continue (default: what ``con`` already holds), as the loader
    continues the schema stored by earlier loads; a delta file is written with the layout of its base.
    ``jobs`` > 1 prepares the rows in that many processes; a column that two chunks would type differently (which
    the sequential loader would settle by order) then stops the write with an error instead of guessing.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        prefix: str = "rasa",
        environment: str = "production",
        layout: Layout | None = None,
        chunk_events: int = 50_000,
        jobs: int = 1,
    ) -> None:
        self.con = con
        self.schema_name = f"{prefix}_event"
        self.environment = environment
        self.chunk_events = chunk_events
        self.jobs = jobs
        ensure_bookkeeping(con, self.schema_name)
        existing = read_layout(con, self.schema_name)
        self.tables: Layout = copy_layout(layout, created=False) if layout is not None else existing
        for table, cols in existing.items():  # what the database has is created, whatever the layout says
            mine = self.tables.setdefault(table, {})
            for name, col in cols.items():
                mine.setdefault(name, col).created = True

    def write_load(self, trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]]) -> LoadInfo:
        """One load: every ``(sender_id, position of the first event, events)``, then its ``_loads`` row."""
        began = time.perf_counter()
        load_id = str(time.time())
        senders: set[str] = set()

        def counted() -> Iterator[tuple[str, int, Sequence[dict[str, Any]]]]:
            for item in trackers:
                senders.add(item[0])
                yield item

        if self.jobs > 1:
            events = self._write_parallel(counted(), load_id)
        else:
            events = self._write_serial(counted(), load_id)
        self.con.execute(
            f"insert into {q(self.schema_name)}._loads values (?, ?, 0, ?, ?)",
            [load_id, self.schema_name, datetime.now(UTC), self.layout_hash()],
        )
        return LoadInfo(load_id, events, len(senders), time.perf_counter() - began)

    def layout_hash(self) -> str:
        layout = {t: {c: [col.type, col.nullable] for c, col in cols.items()} for t, cols in self.tables.items()}
        text = json.dumps(layout)
        return hashlib.sha256(text.encode()).hexdigest()[:43]

    def _write_serial(self, trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]], load_id: str) -> int:
        builder = RowBuilder(self.tables, self.schema_name, self.environment)
        events = 0
        for sender_id, first_pos, tracker in trackers:
            for offset, event in enumerate(tracker):
                builder.add_event(sender_id, first_pos + offset, event, load_id)
            if builder.events >= self.chunk_events:
                events += builder.events
                self._insert(builder.take())
        events += builder.events
        self._insert(builder.take())
        return events

    def _chunks(
        self, trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]]
    ) -> Iterator[list[tuple[str, int, Sequence[dict[str, Any]]]]]:
        chunk: list[tuple[str, int, Sequence[dict[str, Any]]]] = []
        size = 0
        for item in trackers:
            chunk.append(item)
            size += len(item[2])
            if size >= self.chunk_events:
                yield chunk
                chunk, size = [], 0
        if chunk:
            yield chunk

    def _write_parallel(self, trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]], load_id: str) -> int:
        from collections import deque
        from concurrent.futures import Future, ProcessPoolExecutor

        events = 0
        with ProcessPoolExecutor(max_workers=self.jobs) as pool:
            pending: deque[Future[tuple[dict[str, pa.Table], Layout]]] = deque()

            def collect() -> int:
                tables, layout = pending.popleft().result()
                self._merge(layout)
                self._insert(tables)
                return tables["event"].num_rows if "event" in tables else 0

            for chunk in self._chunks(trackers):
                snapshot = copy_layout(self.tables, created=False)
                pending.append(pool.submit(_build_chunk, chunk, load_id, snapshot, self.schema_name, self.environment))
                if len(pending) > 2 * self.jobs:
                    events += collect()
            while pending:
                events += collect()
        return events

    def _merge(self, layout: Layout) -> None:
        for table, cols in layout.items():
            mine = self.tables.setdefault(table, {})
            for name, col in cols.items():
                have = mine.get(name)
                if have is None:
                    mine[name] = Column(col.type, col.nullable)
                elif have.type != col.type:
                    raise BenchError(
                        f"{table}.{name}: chunks typed it {have.type} and {col.type}; write with jobs=1 instead"
                    )

    def _insert(self, tables: dict[str, pa.Table]) -> None:
        """Create missing tables and columns, then append the rows."""
        for table, rows in tables.items():
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
            self.con.register("_bench_chunk", rows)
            try:
                names = ", ".join(q(n) for n in rows.column_names)
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
        mine = read_layout(con, schema, catalog=_current_catalog(con))
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


class _Splitter:
    """Deals the generator's senders out: base senders (some of which hold back the tail of their tracker for a
    delta), then new senders for each delta. Spooled trackers are ``(sender_id, first position, events)``."""

    def __init__(self, n_events: int, seed: int, fractions: Sequence[float], spool_dir: Path) -> None:
        self.n_events = n_events
        self.seed = seed
        pool = math.ceil(n_events * (1 + sum(fractions)) * 1.05) + 5_000
        self._pool = enumerate(generate(n_events=pool, seed=seed))
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

    def base(self) -> Iterator[tuple[str, int, list[dict[str, Any]]]]:
        left = self.n_events
        handles = {id(d): d.spool.open("wb") for d in self.deltas}
        try:
            while left > 0:
                index, (sender_id, events) = self._next()
                part = events
                if len(events) > left:
                    part = events[:left]
                elif len(events) >= 2:
                    for i, d in enumerate(self.deltas):
                        if d.tails_left > 0 and index % d.stride == (i + 1) % d.stride:
                            rng = random.Random(f"bench-split/{self.seed}/{index}")
                            cut = rng.randint(1, len(events) - 1)
                            tail = events[cut : cut + d.tails_left]
                            pickle.dump((sender_id, cut, tail), handles[id(d)], protocol=pickle.HIGHEST_PROTOCOL)
                            d.tails_left -= len(tail)
                            d.tail_events += len(tail)
                            d.tail_senders += 1
                            part = events[:cut]
                            break
                left -= len(part)
                self.base_senders += 1
                self.min_ts = min(self.min_ts, part[0]["timestamp"])
                self.max_ts = max(self.max_ts, max(e["timestamp"] for e in part))
                yield sender_id, 0, part
            for d in self.deltas:
                while d.new_left > 0:
                    _, (sender_id, events) = self._next()
                    part = events[: d.new_left]
                    pickle.dump((sender_id, 0, part), handles[id(d)], protocol=pickle.HIGHEST_PROTOCOL)
                    d.new_left -= len(part)
                    d.new_events += len(part)
                    d.new_senders += 1
        finally:
            for handle in handles.values():
                handle.close()

    def _next(self) -> tuple[int, tuple[str, list[dict[str, Any]]]]:
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
    jobs: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """``out_dir/base.duckdb`` (one load of ``n_events`` events, plus the bot model loaded by the real loader) and
    ``out_dir/delta_*.duckdb`` per fraction; returns (and writes to ``meta.json``) what they hold."""
    meta_path = out_dir / "meta.json"
    if meta_path.exists():
        return dict(json.loads(meta_path.read_text()))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="rss_bench_spool_") as spool_dir:
        splitter = _Splitter(n_events, seed, fractions, Path(spool_dir))
        base_path = out_dir / "base.duckdb"
        con = duckdb.connect(str(base_path))
        try:
            writer = SourceWriter(con, prefix, jobs=jobs)
            base = writer.write_load(splitter.base())
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
                info = SourceWriter(con, prefix, layout=layout, jobs=jobs).write_load(splitter.delta(d))
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
