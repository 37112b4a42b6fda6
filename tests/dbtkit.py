"""Run the package with dbt in-process against a DuckDB file or a PostgreSQL database, and read what it built."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CARBONBOT = SHARED / "data" / "carbonbot"

VIEW_TABLES = (
    "event_sequence",
    "interactions",
    "sessions",
    "senders",
    "users",
    "user_messages",
    "bot_actions",
    "actions",
    "slots",
    "models",
)


# dbt re-parses the whole project whenever the profile's connection values change, and a DuckDB profile's include
# the file path. So every DuckDB warehouse is moved to this one path while dbt runs on it (a rename, no copy).
ACTIVE_DUCKDB = Path(tempfile.gettempdir()) / f"rss_pytest_{os.getpid()}" / "warehouse.duckdb"


class DbtFailed(AssertionError):
    """A dbt command that was expected to succeed failed (or the reverse)."""


@dataclass
class Warehouse:
    """Where a test builds the package: the dbt profile, the loader destination and a way to query."""

    kind: str  # duckdb | postgres
    duckdb_path: Path | None = None
    pg_url: str | None = None
    pg_env: dict[str, str] = field(default_factory=dict)

    @property
    def profile(self) -> str:
        return f"rasa_semantic_schema_{self.kind}"

    @property
    def loader_destination(self) -> str:
        return f"duckdb:{self.duckdb_path}" if self.kind == "duckdb" else str(self.pg_url)

    def env(self) -> dict[str, str]:
        if self.kind == "duckdb":
            return {"DUCKDB_PATH": str(self.duckdb_path)}
        return dict(self.pg_env)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "duckdb":
            con = duckdb.connect(str(self.duckdb_path), read_only=False)
            try:
                return [tuple(r) for r in con.execute(sql).fetchall()]
            finally:
                con.close()
        import sqlalchemy as sa

        engine = sa.create_engine(str(self.pg_url))
        try:
            with engine.connect() as con:
                result = con.execute(sa.text(sql))
                return [tuple(r) for r in result.fetchall()] if result.returns_rows else []
        finally:
            engine.dispose()

    def execute(self, sql: str) -> None:
        if self.kind == "duckdb":
            con = duckdb.connect(str(self.duckdb_path))
            try:
                con.execute(sql)
            finally:
                con.close()
            return
        import sqlalchemy as sa

        engine = sa.create_engine(str(self.pg_url))
        try:
            with engine.begin() as con:
                con.execute(sa.text(sql))
        finally:
            engine.dispose()

    def columns(self, schema: str, table: str) -> list[str]:
        rows = self.query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
        )
        return [r[0] for r in rows]

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.columns(schema, table))


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _activated(warehouse: Warehouse) -> Iterator[None]:
    """For DuckDB: move the database file to ACTIVE_DUCKDB (and DUCKDB_PATH there) for the duration."""
    if warehouse.kind != "duckdb":
        yield
        return
    assert warehouse.duckdb_path is not None
    own = warehouse.duckdb_path
    ACTIVE_DUCKDB.parent.mkdir(parents=True, exist_ok=True)
    moved = [
        (own.with_name(own.name + suffix), ACTIVE_DUCKDB.with_name(ACTIVE_DUCKDB.name + suffix))
        for suffix in ("", ".wal")
    ]
    for src, dst in moved:
        if src.exists():
            os.replace(src, dst)
    saved = os.environ.get("DUCKDB_PATH")
    os.environ["DUCKDB_PATH"] = str(ACTIVE_DUCKDB)
    try:
        yield
    finally:
        _close_dbt_duckdb()
        if saved is None:
            os.environ.pop("DUCKDB_PATH", None)
        else:
            os.environ["DUCKDB_PATH"] = saved
        for src, dst in moved:
            if dst.exists():
                os.replace(dst, src)


def _close_dbt_duckdb() -> None:
    """Close the database dbt-duckdb keeps open across commands in this process, so that the next command opens
    the file now at ACTIVE_DUCKDB and not a cached instance of the previous one."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import cleanup_connections

    cleanup_connections()
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
        DuckDBConnectionManager._ENV = None
    gc.collect()


def dbt(
    args: Sequence[str],
    warehouse: Warehouse,
    *,
    vars: Mapping[str, Any] | None = None,
    project_dir: Path = ROOT,
    expect_success: bool = True,
) -> Any:
    """Invoke dbt in this process; return the dbtRunnerResult. Raises DbtFailed when success != expect_success."""
    from dbt.cli.main import dbtRunner

    target = project_dir / "target" / f"pytest_{warehouse.kind}"
    full = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(ROOT)]
    if args[0] != "deps":
        full += ["--profile", warehouse.profile, "--target-path", str(target), "--log-path", str(target / "logs")]
    if vars:
        full += ["--vars", yaml.safe_dump(dict(vars), default_flow_style=True, width=10_000).strip()]
    with _environ(warehouse.env()), _activated(warehouse):
        result = dbtRunner().invoke(full)
    if result.success != expect_success:
        raise DbtFailed(f"dbt {' '.join(args)} success={result.success}, expected {expect_success}: {describe(result)}")
    return result


def describe(result: Any) -> str:
    """The errors of a dbt result, one line each."""
    lines = []
    if result.exception is not None:
        lines.append(str(result.exception))
    for r in getattr(result.result, "results", None) or []:
        status = str(getattr(r, "status", ""))
        if status.lower() in ("error", "fail", "runtime error"):
            lines.append(f"{r.node.name}: {status}: {r.message}")
    return "\n".join(lines) or "(no message)"


def load(
    warehouse: Warehouse, prefix: str, *inputs: str | Path, environment: str | None = None, expect: int = 0
) -> int:
    """Run the loader in-process; return its exit code (asserted to equal `expect`)."""
    from rasa_tracker_loader.cli import main

    argv = ["--destination", warehouse.loader_destination, "--schema-prefix", prefix]
    if environment:
        argv += ["--environment", environment]
    argv += [str(i) for i in inputs]
    code = main(argv)
    assert code == expect, f"loader exit code {code}, expected {expect} for {argv}"
    return code


def build(
    warehouse: Warehouse, vars: Mapping[str, Any] | None = None, *, full_refresh: bool = False, seed: bool = True
) -> Any:
    """seed + run (+ --full-refresh): the package's normal scheduled sequence without the tests."""
    if seed:
        dbt(["seed", "--full-refresh"] if full_refresh else ["seed"], warehouse, vars=vars)
    return dbt(["run", "--full-refresh"] if full_refresh else ["run"], warehouse, vars=vars)


def snapshot(
    warehouse: Warehouse, dest_prefix: str, tables: Sequence[str] = VIEW_TABLES, exclude: Sequence[str] = ("_load_id",)
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table (all columns except `exclude`), sorted: for equality checks."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    schema = f"{dest_prefix}_views"
    for table in tables:
        cols = [c for c in warehouse.columns(schema, table) if c not in exclude]
        if not cols:
            out[table] = []
            continue
        select = ", ".join(f'"{c}"' for c in cols)
        rows = warehouse.query(f'select {select} from "{schema}"."{table}"')
        out[table] = sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))
    return out


def fresh_duckdb(path: Path) -> Warehouse:
    for p in (path, path.with_suffix(path.suffix + ".wal")):
        if p.exists():
            p.unlink()
    return Warehouse("duckdb", duckdb_path=path)


def copy_duckdb(src: Warehouse, dst_path: Path) -> Warehouse:
    assert src.duckdb_path is not None
    shutil.copyfile(src.duckdb_path, dst_path)
    return Warehouse("duckdb", duckdb_path=dst_path)
