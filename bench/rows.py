"""Rows of the source layout built in Python, exactly as ``python -m rasa_tracker_loader`` builds them.

Every event goes through the loader's own ``prepare`` (validation, ``_record_hash``, payload filters); the prepared
rows are then flattened, typed and split into child tables the way dlt's relational normalizer does it with the
loader's schema (its naming convention, preferred types, iso-timestamp detection, variant columns and declared
columns), by calls into the same dlt helpers, but without a dlt pipeline.

The bench writer (bench/source.py) uses this for what it does not do in SQL: the first event of every new row shape
(which decides the new columns and their types), child tables (lists), and whole chunks it cannot do in SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.data_types.type_helpers import coerce_value, py_type_to_sc_type
from dlt.common.normalizers.json.helpers import get_nested_row_hash
from dlt.common.normalizers.json.relational import DataItemNormalizer
from dlt.common.schema.utils import autodetect_sc_type
from dlt.common.time import normalize_timezone
from dlt.common.typing import VARIANT_FIELD_FORMAT

from rasa_tracker_loader.events import COMMON_COLUMNS, RawEvent, prepare, typed_table_columns
from rasa_tracker_loader.load import new_schema
from rasa_tracker_loader.naming import NamingConvention

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
FROM_DUCKDB = {v: k for k, v in DUCKDB_TYPES.items()}
ARROW_TYPES: dict[str, pa.DataType] = {
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
NONE = type(None)
PY_TYPES: dict[type, str] = {str: "text", int: "bigint", float: "double", bool: "bool", datetime: "timestamp"}

#: a list found in a row: (path of normalized names, its items); it becomes rows of a child table
Lists = list[tuple[tuple[str, ...], list[Any]]]


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


def copy_layout(layout: Layout, created: bool | None = None) -> Layout:
    """A deep copy; ``created`` overrides every column's flag (None: keep them)."""
    return {
        t: {c: Column(col.type, col.nullable, col.created if created is None else created) for c, col in cols.items()}
        for t, cols in layout.items()
    }


class Flattener:
    """dlt's relational flattening with the loader's naming: nested objects become ``a__b`` columns, lists are set
    aside to become child tables."""

    def __init__(self) -> None:
        self.naming = NamingConvention()
        self._idents: dict[str, str] = {}
        self._paths: dict[tuple[tuple[str, ...], str], str] = {}

    def ident(self, key: str) -> str:
        name = self._idents.get(key)
        if name is None:
            if key and not key.isspace():
                name = self.naming.normalize_identifier(key)
            else:
                name = DataItemNormalizer.EMPTY_KEY_IDENTIFIER
            self._idents[key] = name
        return name

    def flatten(
        self, row: dict[str, Any], raw_paths: dict[str, tuple[str, ...] | None] | None = None
    ) -> tuple[dict[str, Any], Lists]:
        """The flat row and its lists. ``raw_paths`` (optional) receives each column's path of original keys (None
        when two paths give the same column)."""
        flat: dict[str, Any] = {}
        lists: Lists = []
        paths = self._paths
        stack: list[tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]] = [(row, (), ())]
        while stack:
            current, path, raw = stack.pop()
            for key, value in current.items():
                kind = type(value)
                if kind is dict:
                    stack.append((value, (*path, self.ident(key)), (*raw, key) if raw_paths is not None else raw))
                elif kind is list:
                    lists.append(((*path, self.naming.normalize_table_identifier(key)), value))
                else:
                    name = paths.get((path, key))
                    if name is None:
                        name = self.ident(key)
                        if path:
                            name = self.naming.shorten_fragments(*path, name)
                        paths[(path, key)] = name
                    if raw_paths is not None:
                        raw_paths[name] = None if name in flat else (*raw, key)
                    flat[name] = value
        return flat, lists

    def lists(self, row: dict[str, Any], skip: frozenset[str] = frozenset()) -> Lists | None:
        """What ``flatten(row)[1]`` holds (the same lists in the same order, top-level keys in ``skip`` left out),
        or None when no list has an item; without naming the columns."""
        found: list[tuple[tuple[str, ...], list[Any]]] = []
        nonempty = False
        stack: list[tuple[dict[str, Any], tuple[str, ...]]] = [(row, ())]
        while stack:
            current, path = stack.pop()
            for key, value in current.items():
                kind = type(value)
                if kind is dict:
                    if not path and key in skip:
                        continue
                    stack.append((value, (*path, key)))
                elif kind is list and not (not path and key in skip):
                    found.append(((*path, key), value))
                    nonempty = nonempty or bool(value)
        if not nonempty:
            return None
        return [
            ((*(self.ident(k) for k in p[:-1]), self.naming.normalize_table_identifier(p[-1])), v) for p, v in found
        ]


class _TableBuffer:
    """The buffered rows of one table, grouped by shape (the column names a row has) so that a row is stored as one
    tuple and every column is converted to Arrow at once; ``order`` keeps the rows' arrival order."""

    def __init__(self) -> None:
        self.shape_of: dict[tuple[str, ...], int] = {}
        self.names: list[tuple[str, ...]] = []
        self.rows: list[list[tuple[Any, ...]]] = []
        self.order: list[int] = []

    def shape(self, names: tuple[str, ...]) -> int:
        index = self.shape_of.get(names)
        if index is None:
            index = self.shape_of[names] = len(self.names)
            self.names.append(names)
            self.rows.append([])
        return index

    def add(self, shape: int, values: tuple[Any, ...]) -> None:
        self.rows[shape].append(values)
        self.order.append(shape)

    def take(self, cols: dict[str, Column]) -> pa.Table | None:
        """The rows as one Arrow table (in arrival order; the columns of ``cols`` that some row has), then empty."""
        if not self.order:
            return None
        columns: dict[str, None] = {}
        for names, rows in zip(self.names, self.rows, strict=True):
            if rows:
                columns.update(dict.fromkeys(n for n in names if n in cols))
        parts = []
        for names, rows in zip(self.names, self.rows, strict=True):
            if not rows:
                continue
            by_name = dict(zip(names, zip(*rows, strict=True), strict=True))
            arrays = []
            for name in columns:
                kind = cols[name].type
                values = by_name.get(name)
                if values is None:
                    arrays.append(pa.nulls(len(rows), ARROW_TYPES[kind]))
                    continue
                if kind == "json":
                    values = tuple(None if v is None else json.dumps(v) for v in values)
                arrays.append(pa.array(values, type=ARROW_TYPES[kind]))
            parts.append(pa.Table.from_arrays(arrays, names=list(columns)))
        table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        if len(parts) > 1:  # back to arrival order: the parts are the rows stably sorted by shape
            by_shape = pc.sort_indices(pa.array(self.order, pa.int32()))
            table = table.take(pc.sort_indices(by_shape))
        self.rows = [[] for _ in self.names]
        self.order = []
        return table


#: a row shape whose every value can be stored as it is: (shape index, positions of datetimes, which must be UTC)
_FastPlan = tuple[int, tuple[int, ...]]


@dataclass
class RootRow:
    """What the first event of a row shape gave: per column of its ``event_<type>`` row, where the value comes from
    (``common``: a column every event table has; else the path of original keys) and its Python type."""

    table: str
    columns: dict[str, tuple[bool, tuple[str, ...] | None, type]]  # name -> (common, raw path, value type)
    stored: tuple[str, ...]  # the columns the typing step stored (variant columns included)
    lists: Lists


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
        self.flattener = Flattener()
        self._naming = self.flattener.naming
        self._declared: set[str] = set()
        self._typed_columns: dict[str, dict[str, dict[str, Any]]] = {}
        self._preferred: dict[str, str | None] = {}
        self._buffers: dict[str, _TableBuffer] = {}
        self._plans: dict[str, dict[tuple[tuple[str, ...], tuple[type, ...]], _FastPlan]] = {}
        self._tables: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}  # child table names
        self.events = 0

    def add_event(self, sender_id: str, position: int, event: dict[str, Any], load_id: str) -> None:
        """Every row of one event: ``event``, ``event_<type>`` and its child tables."""
        prepared = prepare(RawEvent(event, sender_id, position, f"{sender_id}#{position}"), self.environment)
        common = dict(prepared.common_row)
        common["_load_id"] = load_id
        self._add_row("event", common, COMMON_COLUMNS)
        self._normalize_root(prepared.table, prepared.typed_row, load_id)
        self.events += 1

    def add_root(self, sender_id: str, position: int, event: dict[str, Any], load_id: str) -> RootRow:
        """The ``event`` and ``event_<type>`` rows of one event (not its child rows), and where each value of the
        latter comes from."""
        prepared = prepare(RawEvent(event, sender_id, position, f"{sender_id}#{position}"), self.environment)
        common = dict(prepared.common_row)
        common["_load_id"] = load_id
        self._add_row("event", common, COMMON_COLUMNS)
        raw_paths: dict[str, tuple[str, ...] | None] = {}
        flat, lists = self.flattener.flatten(prepared.typed_row, raw_paths)
        flat["_load_id"] = load_id
        raw_paths["_load_id"] = ("_load_id",)
        stored = self._add_row(prepared.table, flat, self._declared_columns(prepared.table, prepared.typed_row))
        columns = {
            name: (path is not None and len(path) == 1 and path[0] in common, path, type(flat[name]))
            for name, path in raw_paths.items()
        }
        return RootRow(prepared.table, columns, stored, lists)

    def add_lists(self, table: str, record_hash: str, lists: Lists) -> None:
        """The child rows of the ``table`` row ``record_hash``."""
        self._normalize_lists(lists, (table,), record_hash, {"_root_hash": record_hash})

    def take(self) -> dict[str, pa.Table]:
        """The buffered rows as one Arrow table per source table (only the columns that have values)."""
        out = {}
        for table, buffer in self._buffers.items():
            arrow = buffer.take(self.tables[table])
            if arrow is not None:
                out[table] = arrow
        self.events = 0
        return out

    # ------------------------------------------------------------------ normalization (as dlt's relational one)

    def _declared_columns(self, table: str, row: dict[str, Any]) -> dict[str, dict[str, Any]]:
        declared = self._typed_columns.get(table)
        if declared is None:
            declared = self._typed_columns[table] = typed_table_columns(row)
        return declared

    def _normalize_root(self, table: str, row: dict[str, Any], load_id: str) -> None:
        flat, lists = self.flattener.flatten(row)
        flat["_load_id"] = load_id
        self._add_row(table, flat, self._declared_columns(table, row))
        if lists:
            root_hash = flat["_record_hash"]
            self._normalize_lists(lists, (table,), root_hash, {"_root_hash": root_hash})

    def _normalize_lists(
        self, lists: Lists, parent_path: tuple[str, ...], parent_hash: str, extend: dict[str, Any]
    ) -> None:
        for list_path, items in lists:
            table = self._tables.get((parent_path, list_path))
            if table is None:
                table = self._tables[(parent_path, list_path)] = self._naming.shorten_fragments(
                    *parent_path, *list_path
                )
            for pos, item in enumerate(items):
                row_hash = get_nested_row_hash(parent_hash, table, pos)
                kind = type(item)
                if kind is dict or kind is list:
                    flat, nested = self.flattener.flatten(item if kind is dict else {"list": item})
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

    def _add_row(self, table: str, flat: dict[str, Any], declared: dict[str, dict[str, Any]] | None) -> tuple[str, ...]:
        """Type and buffer one row; returns the names of the columns it stored values in."""
        buffer = self._buffers.get(table)
        if buffer is None:
            buffer = self._buffers[table] = _TableBuffer()
            self._plans[table] = {}
        cols = self.tables.get(table)
        if cols is None:
            cols = self.tables[table] = {}
        if declared and table not in self._declared:
            self._declared.add(table)
            for name, hint in declared.items():
                if name not in cols:
                    cols[name] = Column(hint["data_type"], hint.get("nullable", True))
        # fast path: a shape (names and value types) seen before whose every value is stored as it is
        names = tuple(flat)
        values = tuple(flat.values())
        key = (names, tuple(map(type, values)))
        plans = self._plans[table]
        plan = plans.get(key)
        if plan is None:
            plan = self._fast_plan(buffer, cols, *key)
            if plan is not None:
                plans[key] = plan
        if plan is not None:
            shape, stamps = plan
            for i in stamps:
                if values[i].tzinfo is not UTC:
                    break
            else:
                buffer.add(shape, values)
                return tuple(n for n, v in zip(names, values, strict=True) if v is not None)
        out: dict[str, Any] = {}
        for name, value in flat.items():
            if value is None:
                col = cols.get(name)
                if (col is not None and not col.nullable) or (col is None and name in self._not_null):
                    raise BenchError(f"{table}.{name}: NULL in a NOT NULL column")
                continue
            self._put(table, cols, name, value, out, False)
        buffer.add(buffer.shape(tuple(out)), tuple(out.values()))
        return tuple(out)

    def _fast_plan(
        self, buffer: _TableBuffer, cols: dict[str, Column], names: tuple[str, ...], types: tuple[type, ...]
    ) -> _FastPlan | None:
        """How to store rows of this shape as they are (None values of unknown columns are dropped when the rows
        are taken), or None when one of its values needs typing, coercion or a new column."""
        stamps = []
        for i, (name, kind) in enumerate(zip(names, types, strict=True)):
            col = cols.get(name)
            if kind is NONE:
                if (col is not None and not col.nullable) or (col is None and name in self._not_null):
                    return None
            elif col is None or col.type != PY_TYPES.get(kind):
                return None
            elif kind is datetime:
                stamps.append(i)
        return buffer.shape(names), tuple(stamps)

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
        py_type = PY_TYPES.get(type(value)) or py_type_to_sc_type(type(value))
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
