"""Run the package with dbt in-process against a DuckDB file or a PostgreSQL database, and read what it built.

The suites run on every warehouse kind in WAREHOUSE_KINDS: a test asks for the `warehouses` fixture (tests/conftest.py,
parametrized over the kinds) and gets a `Warehouses` factory of its kind, which makes new empty warehouses and
copies of built ones: a DuckDB file, or a database on the throwaway PostgreSQL server of the test session.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import io
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
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

# the warehouse kinds every end-to-end suite runs on (env RSS_WAREHOUSES=duckdb runs the DuckDB ones only)
WAREHOUSE_KINDS = tuple(k.strip() for k in os.environ.get("RSS_WAREHOUSES", "duckdb,postgres").split(",") if k.strip())

# The vars of the suites that build conversations with external user and session ids (test_scenarios,
# test_incremental): one var set, so that they share dbt's partial-parse state (see _target_path).
APP_VARS: dict[str, Any] = {
    "user_id": "metadata__user_id",
    "external_session_id": "metadata__external_session_id",
    "story_intents": ["book_flight", "check_booking", "request_human"],
}

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


# dbt re-parses the whole project whenever the profile's connection values change (partial parsing hashes them;
# about 5 s here). A DuckDB profile's include the file path, a PostgreSQL profile's the database name. So while dbt
# runs, every DuckDB warehouse is moved to this one path (a rename, no copy), and every PostgreSQL database is
# renamed to this one name (ALTER DATABASE ... RENAME, a catalog update): all warehouses of a kind share one parse.
ACTIVE_DUCKDB = Path(tempfile.gettempdir()) / f"rss_pytest_{os.getpid()}" / "warehouse.duckdb"
ACTIVE_PG_DATABASE = "rss_active"
atexit.register(shutil.rmtree, ACTIVE_DUCKDB.parent, True)


class DbtFailed(AssertionError):
    """A dbt command that was expected to succeed failed (or the reverse)."""


@dataclass
class Warehouse:
    """Where a test builds the package: the dbt profile, the loader destination and a way to query."""

    kind: str  # duckdb | postgres
    duckdb_path: Path | None = None
    pg_url: str | None = None
    pg_env: dict[str, str] = field(default_factory=dict)  # the PG_* variables of the dbt profile (its own database)

    @property
    def profile(self) -> str:
        return f"rasa_semantic_schema_{self.kind}"

    @property
    def loader_destination(self) -> str:
        return f"duckdb:{self.duckdb_path}" if self.kind == "duckdb" else str(self.pg_url)

    @property
    def pg_database(self) -> str:
        return self.pg_env["PG_DATABASE_NAME"]

    def env(self) -> dict[str, str]:
        if self.kind == "duckdb":
            return {"DUCKDB_PATH": str(self.duckdb_path)}
        return dict(self.pg_env)

    @contextmanager
    def session(self) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
        """One connection for many statements: `with wh.session() as query: rows = query(sql)`, each statement
        committed at once, its rows returned (none for a statement without result)."""
        if self.kind == "duckdb":
            con = duckdb.connect(str(self.duckdb_path), read_only=False)
            try:
                yield lambda sql: [tuple(r) for r in con.execute(sql).fetchall()]
            finally:
                con.close()
            return
        pg = _pg_connect(self.pg_env, self.pg_database)
        try:
            with pg.cursor() as cur:

                def query(sql: str) -> list[tuple[Any, ...]]:
                    cur.execute(sql)
                    return [tuple(r) for r in cur.fetchall()] if cur.description is not None else []

                yield query
        finally:
            pg.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of one statement, on a connection of its own (see `session` for many)."""
        with self.session() as query:
            return query(sql)

    def execute(self, sql: str) -> None:
        self.query(sql)

    def columns(self, schema: str, table: str) -> list[str]:
        return [r[0] for r in self.query(_columns_sql(schema, table))]

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.columns(schema, table))


class Warehouses:
    """Factory of the warehouses of one kind for a test module: new empty ones and copies of built ones.

    DuckDB: files in `tmp`. PostgreSQL: databases on the server whose `postgres` database `pg_env` (PG_* variables)
    names; they are dropped by close().
    """

    def __init__(self, kind: str, tmp: Path, pg_env: Mapping[str, str] | None = None) -> None:
        if kind not in ("duckdb", "postgres"):
            raise ValueError(f"unknown warehouse kind {kind!r}")
        if kind == "postgres" and not pg_env:
            raise ValueError("a PostgreSQL warehouse needs the server's PG_* variables")
        self.kind = kind
        self.tmp = tmp
        self.pg_env = dict(pg_env or {})
        self._databases: list[str] = []

    def __repr__(self) -> str:
        return f"Warehouses({self.kind})"

    def _name(self, name: str) -> str:
        return f"{re.sub(r'[^a-z0-9_]', '_', name.lower())[:40]}_{uuid.uuid4().hex[:8]}"

    def _pg_warehouse(self, database: str) -> Warehouse:
        env = {**self.pg_env, "PG_DATABASE_NAME": database}
        password = f":{env['PG_PASSWORD']}" if env.get("PG_PASSWORD") else ""
        url = f"postgresql://{env['PG_USER']}{password}@{env['PG_HOST']}:{env['PG_PORT']}/{database}"
        return Warehouse("postgres", pg_url=url, pg_env=env)

    def new(self, name: str = "warehouse") -> Warehouse:
        """A new, empty warehouse."""
        unique = self._name(name)
        if self.kind == "duckdb":
            return fresh_duckdb(self.tmp / f"{unique}.duckdb")
        _pg_admin(self.pg_env, f'create database "{unique}"')
        self._databases.append(unique)
        return self._pg_warehouse(unique)

    def copy(self, src: Warehouse, name: str = "copy") -> Warehouse:
        """A copy of `src`, to change without changing `src` (a file copy, or CREATE DATABASE ... TEMPLATE)."""
        unique = self._name(name)
        if self.kind == "duckdb":
            return copy_duckdb(src, self.tmp / f"{unique}.duckdb")
        _pg_disconnect(self.pg_env, src.pg_database)
        _pg_admin(self.pg_env, f'create database "{unique}" template "{src.pg_database}"')
        self._databases.append(unique)
        return self._pg_warehouse(unique)

    def close(self) -> None:
        """Drop the PostgreSQL databases made by this factory (DuckDB files go with the temp folder)."""
        for database in self._databases:
            _pg_disconnect(self.pg_env, database)
            _pg_admin(self.pg_env, f'drop database if exists "{database}"')
        self._databases.clear()


def _pg_connect(env: Mapping[str, str], database: str) -> Any:
    import psycopg2

    con = psycopg2.connect(
        host=env["PG_HOST"],
        port=int(env["PG_PORT"]),
        user=env["PG_USER"],
        password=env.get("PG_PASSWORD") or None,
        dbname=database,
    )
    con.autocommit = True
    return con


def _pg_admin(env: Mapping[str, str], sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """A statement on the server's `postgres` database (CREATE/ALTER/DROP DATABASE run outside a transaction)."""
    con = _pg_connect(env, "postgres")
    try:
        with con.cursor() as cur:
            cur.execute(sql, params or None)
            return [tuple(r) for r in cur.fetchall()] if cur.description is not None else []
    finally:
        con.close()


def _pg_disconnect(env: Mapping[str, str], database: str) -> None:
    """End every session on `database` (a database can be renamed, copied or dropped only without any)."""
    for _ in range(50):
        remaining = _pg_admin(
            env,
            "select pid, pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = %s and pid <> pg_backend_pid()",
            (database,),
        )
        if not remaining:
            return
        time.sleep(0.1)
    raise RuntimeError(f"sessions on PostgreSQL database {database} do not end")


def _pg_rename(env: Mapping[str, str], old: str, new: str) -> None:
    _pg_disconnect(env, old)
    _pg_admin(env, f'alter database "{old}" rename to "{new}"')


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
    """While dbt runs: a DuckDB file is moved to ACTIVE_DUCKDB (and DUCKDB_PATH points there), a PostgreSQL database
    is renamed to ACTIVE_PG_DATABASE (and PG_DATABASE_NAME names it). Undone afterwards, also when dbt fails."""
    if warehouse.kind == "postgres":
        own = warehouse.pg_database
        _pg_rename(warehouse.pg_env, own, ACTIVE_PG_DATABASE)
        saved_name = os.environ.get("PG_DATABASE_NAME")
        os.environ["PG_DATABASE_NAME"] = ACTIVE_PG_DATABASE
        try:
            yield
        finally:
            _close_dbt_connections()
            if saved_name is None:
                os.environ.pop("PG_DATABASE_NAME", None)
            else:
                os.environ["PG_DATABASE_NAME"] = saved_name
            _pg_rename(warehouse.pg_env, ACTIVE_PG_DATABASE, own)
        return
    assert warehouse.duckdb_path is not None
    own_path = warehouse.duckdb_path
    ACTIVE_DUCKDB.parent.mkdir(parents=True, exist_ok=True)
    moved = [
        (own_path.with_name(own_path.name + suffix), ACTIVE_DUCKDB.with_name(ACTIVE_DUCKDB.name + suffix))
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


def _close_dbt_connections() -> None:
    """Close the connections dbt keeps in this process (a database with open sessions cannot be renamed)."""
    from dbt.adapters.factory import cleanup_connections

    cleanup_connections()


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


def _target_path(kind: str, project_dir: Path, vars_text: str) -> Path:
    """dbt's target folder (which holds the partial-parse state) for one warehouse kind, project and set of --vars.

    Partial parsing is lost whenever the --vars differ from the previous command's (a full parse, about 5 s), and the
    suites switch between a few var sets all the time; one folder per var set keeps each one's state. The folders are
    per process (concurrent pytest runs must not share them) and go when it ends."""
    digest = hashlib.sha1(f"{project_dir}\0{vars_text}".encode()).hexdigest()[:12]
    return ACTIVE_DUCKDB.parent / f"target_{kind}_{digest}"


def dbt(
    args: Sequence[str],
    warehouse: Warehouse,
    *,
    vars: Mapping[str, Any] | None = None,
    project_dir: Path = ROOT,
    expect_success: bool = True,
) -> Any:
    """Invoke dbt in this process; return the dbtRunnerResult. Raises DbtFailed when success != expect_success.
    The log is in target/pytest_{kind}/logs of the project."""
    from dbt.cli.main import dbtRunner

    vars_text = yaml.safe_dump(dict(vars), default_flow_style=True, width=10_000).strip() if vars else ""
    full = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(ROOT)]
    if args[0] != "deps":
        logs = project_dir / "target" / f"pytest_{warehouse.kind}" / "logs"
        target = _target_path(warehouse.kind, project_dir, vars_text)
        # no manifest.json / run_results.json (nothing reads them; the partial-parse state is written regardless)
        full += ["--profile", warehouse.profile, "--target-path", str(target), "--log-path", str(logs)]
        full += ["--no-write-json"]
    if vars_text:
        full += ["--vars", vars_text]
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


def run_loader(*argv: str | Path) -> tuple[int, str, str]:
    """The loader in-process, its output captured: (exit code, stdout, stderr). A usage error (argparse's
    SystemExit) gives its exit code."""
    from rasa_tracker_loader.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        code = main([str(a) for a in argv], stdout=out, stderr=err)
    except SystemExit as ex:
        code = int(ex.code or 0)
    return code, out.getvalue(), err.getvalue()


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
    """seed + run (+ --full-refresh): the package's normal scheduled sequence without the tests, as one `dbt build`
    of the seeds and models (one dbt invocation less; the models that read seeds depend on them)."""
    args = ["build", "--resource-type", "model"]
    if seed:
        args += ["--resource-type", "seed"]
    return dbt([*args, "--full-refresh"] if full_refresh else args, warehouse, vars=vars)


def snapshot(
    warehouse: Warehouse, dest_prefix: str, tables: Sequence[str] = VIEW_TABLES, exclude: Sequence[str] = ("_load_id",)
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table (all columns except `exclude`), sorted: for equality checks."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    schema = f"{dest_prefix}_views"
    with warehouse.session() as query:
        for table in tables:
            cols = [r[0] for r in query(_columns_sql(schema, table)) if r[0] not in exclude]
            if not cols:
                out[table] = []
                continue
            select = ", ".join(f'"{c}"' for c in cols)
            rows = query(f'select {select} from "{schema}"."{table}"')
            out[table] = sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))
    return out


def _columns_sql(schema: str, table: str) -> str:
    return (
        "select column_name from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
    )


def _comparable(value: Any) -> Any:
    """A value as every engine returns it: whole numbers as int (PostgreSQL returns Decimal for sums of bigints and
    double precision where DuckDB has integers), other numbers as float rounded to 9 decimals."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return int(value) if value == int(value) else round(float(value), 9)
    return value


# snapshots by (name, warehouse kind), for same_on_every_kind
_SNAPSHOTS: dict[tuple[str, str], dict[str, list[tuple[Any, ...]]]] = {}


def same_on_every_kind(name: str, warehouse: Warehouse, dest_prefix: str = "rasa") -> None:
    """Contract §4.1, the output never depends on the engine: record the views of a build called `name` and assert
    that they equal, row for row, those of the same build on every other warehouse kind recorded before in this
    session (the suites build the same data on each kind; the first kind only records)."""
    snap = {
        table: sorted(
            (tuple(_comparable(v) for v in row) for row in rows), key=lambda r: tuple((v is None, str(v)) for v in r)
        )
        for table, rows in snapshot(warehouse, dest_prefix, exclude=("_load_id",)).items()
    }
    _SNAPSHOTS[(name, warehouse.kind)] = snap
    for (other_name, other_kind), other in _SNAPSHOTS.items():
        if other_name != name or other_kind == warehouse.kind:
            continue
        for table in VIEW_TABLES:
            mine, theirs = snap.get(table, []), other.get(table, [])
            only_mine = [r for r in mine if r not in theirs][:3]
            only_theirs = [r for r in theirs if r not in mine][:3]
            assert mine == theirs, (
                f"{name}: {dest_prefix}_views.{table} differs between {warehouse.kind} and {other_kind}: "
                f"{only_mine} vs {only_theirs}"
            )


def fresh_duckdb(path: Path) -> Warehouse:
    for p in (path, path.with_suffix(path.suffix + ".wal")):
        if p.exists():
            p.unlink()
    return Warehouse("duckdb", duckdb_path=path)


def copy_duckdb(src: Warehouse, dst_path: Path) -> Warehouse:
    assert src.duckdb_path is not None
    shutil.copyfile(src.duckdb_path, dst_path)
    return Warehouse("duckdb", duckdb_path=dst_path)
