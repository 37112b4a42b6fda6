"""The package run for real through dbt-bigquery against a local BigQuery emulator (contract §6).

The emulator is `crucible-emulator` (PyPI, Apache-2.0): BigQuery's REST API and GoogleSQL on DuckDB, which refuses
what it cannot answer as BigQuery would. It pins its dependencies exactly (duckdb, sqlglot), so it lives in a
virtualenv of its own, `.venv-bq/`, that `make bq-emulator-venv` makes from `requirements-bigquery-emulator.txt`
(`make test` does). `running_emulator` starts `crucible serve` in memory on a free 127.0.0.1 port and stops it;
nothing leaves the loopback. dbt uses profile `rasa_semantic_schema_bigquery_emulator` (profiles.yml: method
oauth-secrets with a dummy token, `api_endpoint` from BQ_EMULATOR_ENDPOINT).

Source data: the loader writes DuckDB and PostgreSQL only, so a test loads the trackers into a DuckDB file with
`rasa_tracker_loader` and copies its `{prefix}_event` and `{prefix}_model` schemas into the emulator through the
BigQuery API: datasets, tables with the column types dlt's BigQuery destination writes, rows by `INSERT ... SELECT`
from a JSON array literal (which real BigQuery runs as well). `_loads` is appended to, never replaced: the package
appends its status-1 rows to it.

Scenarios: the real logs of ../shared/data/carbonbot (one `dbt build`: gate, seeds, models, the package's own tests;
the session, interaction and event numbers of tests/test_carbonbot.py), and two loads of generated conversations
with an incremental run after each, whose views equal a `--full-refresh`.

Where the emulator and BigQuery differ ("emulator:" below and in macros/dialect/bigquery.sql):
- emulator: no DELETE statement. The package deletes through rss_delete_rows, which on BigQuery is a MERGE ... WHEN
  MATCHED THEN DELETE (the same on BigQuery); a DELETE in a model or hook fails here with "Not supported by
  Crucible: DELETE statement".
- emulator: it accepts a WHERE in a select without FROM, which BigQuery rejects ("Query without FROM clause cannot
  have a WHERE clause"): rss_no_rows covers the package's cases; this test cannot catch a new one.
- emulator: CSV load jobs parse row by row (about 5 s per 1,000 rows, growing faster than linearly) and split lines
  before quotes (no newline in a value): hence the INSERTs.
- emulator: no INFORMATION_SCHEMA, scripting or temporary functions; dbt-bigquery's `merge` strategy needs none.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from rasa_tracker_loader.conversation import write_jsonl
from rasa_tracker_loader.generator import generate, generate_scenario_set

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

ROOT = Path(__file__).resolve().parents[1]
CARBONBOT = ROOT.parent / "shared" / "data" / "carbonbot"
CRUCIBLE = Path(os.environ.get("CRUCIBLE_BIN", ROOT / ".venv-bq" / "bin" / "crucible"))
PROJECT = "local-project"
PROFILE = "rasa_semantic_schema_bigquery_emulator"
# per process: dbt writes its parse and logs there, and another pytest may run at the same time
TARGET = Path(tempfile.gettempdir()) / f"rss_pytest_bq_{os.getpid()}"

SENDER_A = "2888158124550630"
SENDER_B = "8629c904-0c26-4f0b-927b-14d48db43c28"
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

# DuckDB types (as dlt writes them) -> the BigQuery types dlt's BigQuery destination writes
BQ_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "INT64",
    "INTEGER": "INT64",
    "DOUBLE": "FLOAT64",
    "BOOLEAN": "BOOL",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMP",
    "DATE": "DATE",
    "JSON": "JSON",
}
# one INSERT statement stays well below BigQuery's 1 MB query text limit
MAX_STATEMENT_CHARS = 600_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    endpoint: str
    project: str = PROJECT

    def client(self) -> Any:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.endpoint),
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        client = self.client()
        try:
            return [tuple(row.values()) for row in client.query(sql).result()]
        finally:
            client.close()

    def env(self) -> dict[str, str]:
        return {"BQ_EMULATOR_ENDPOINT": self.endpoint, "BQ_EMULATOR_PROJECT": self.project}


@contextmanager
def running_emulator(log: Path) -> Iterator[Emulator]:
    """`crucible serve --dialect bigquery` on a free loopback port, in memory; stopped on exit."""
    if not CRUCIBLE.is_file():
        pytest.fail(f"BigQuery emulator not installed at {CRUCIBLE}: run `make bq-emulator-venv` (`make test` does)")
    port = _free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(CRUCIBLE), "serve", "--dialect", "bigquery", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/_crucible/health", timeout=2) as response:
                    if json.load(response).get("status") == "ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the BigQuery emulator did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Emulator(endpoint)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ---------------------------------------------------------------------------------------------- source data


def load_duckdb(path: Path, prefix: str, *inputs: str | Path) -> None:
    """The loader, in-process, into a DuckDB file (its exit code must be 0)."""
    from rasa_tracker_loader.cli import main

    argv = ["--destination", f"duckdb:{path}", "--schema-prefix", prefix, *(str(i) for i in inputs)]
    assert main(argv) == 0, f"loader failed: {argv}"


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)  # NaN / inf are no JSON numbers; the cast below reads the text
    return str(value)


def _cast(kind: str, index: int) -> str:
    value = f"json_value(r, '$[{index}]')"
    if kind == "STRING":
        return value
    if kind == "JSON":
        return f"parse_json({value})"
    return f"cast({value} as {kind})"


def _insert_rows(client: Any, target: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT the rows, in statements below MAX_STATEMENT_CHARS: one JSON array literal per statement, read with
    UNNEST(JSON_QUERY_ARRAY(...)). The JSON has no single quote (\\u0027), so a raw triple-quoted literal holds it."""
    names = ", ".join(f"`{name}`" for name, _ in columns)
    select = ", ".join(_cast(kind, i) for i, (_, kind) in enumerate(columns))
    batch: list[str] = []
    size = 0

    def flush() -> None:
        if batch:
            data = "[" + ",".join(batch) + "]"
            sql = f"insert into {target} ({names})\nselect {select}\nfrom unnest(json_query_array(r'''{data}''')) r"
            client.query(sql).result()
            batch.clear()

    for row in rows:
        encoded = json.dumps([_json_value(v) for v in row], ensure_ascii=True).replace("'", "\\u0027")
        if size + len(encoded) > MAX_STATEMENT_CHARS:
            flush()
            size = 0
        batch.append(encoded)
        size += len(encoded) + 1
    flush()


def _duck_select(column: str, duck_type: str) -> str:
    quoted = f'"{column}"'
    if duck_type == "TIMESTAMP WITH TIME ZONE":
        return f"strftime(timezone('UTC', {quoted}), '%Y-%m-%d %H:%M:%S.%f')"
    if duck_type == "TIMESTAMP":
        return f"strftime({quoted}, '%Y-%m-%d %H:%M:%S.%f')"
    if duck_type == "DATE" or duck_type == "JSON":
        return f"cast({quoted} as varchar)"
    return quoted


def copy_source(duck_path: Path, emulator: Emulator, prefix: str) -> dict[str, int]:
    """Copy `{prefix}_event` and `{prefix}_model` of a loader-built DuckDB into the emulator: every table is
    replaced, except `_loads`, to which the rows it lacks are appended (it also holds the package's status-1 rows).
    Returns the number of rows copied per table."""
    from google.api_core.exceptions import NotFound
    from google.cloud import bigquery

    client = emulator.client()
    copied: dict[str, int] = {}
    con = duckdb.connect(str(duck_path), read_only=True)
    try:
        for schema in (f"{prefix}_event", f"{prefix}_model"):
            tables = [
                r[0]
                for r in con.execute(
                    "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
                ).fetchall()
            ]
            if not tables:
                continue
            client.create_dataset(bigquery.Dataset(f"{emulator.project}.{schema}"), exists_ok=True)
            for table in tables:
                cols = con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                for name, duck_type in cols:
                    assert duck_type in BQ_TYPES, f"{schema}.{table}.{name}: no BigQuery type for {duck_type}"
                columns = [(name, BQ_TYPES[duck_type]) for name, duck_type in cols]
                select = ", ".join(_duck_select(name, duck_type) for name, duck_type in cols)
                rows = con.execute(f'select {select} from "{schema}"."{table}"').fetchall()
                table_id = f"{emulator.project}.{schema}.{table}"
                fields = [bigquery.SchemaField(n, k) for n, k in columns]
                if table == "_loads":
                    try:
                        client.get_table(table_id)
                    except NotFound:
                        client.create_table(bigquery.Table(table_id, schema=fields))
                    query = f"select load_id, status from `{table_id}`"
                    present = {tuple(r.values()) for r in client.query(query).result()}
                    names = [n for n, _ in columns]
                    key = (names.index("load_id"), names.index("status"))
                    rows = [r for r in rows if (r[key[0]], r[key[1]]) not in present]
                else:
                    client.delete_table(table_id, not_found_ok=True)
                    client.create_table(bigquery.Table(table_id, schema=fields))
                _insert_rows(client, f"`{table_id}`", columns, rows)
                copied[f"{schema}.{table}"] = len(rows)
    finally:
        con.close()
        client.close()
    return copied


# ---------------------------------------------------------------------------------------------- dbt


class DbtFailed(AssertionError):
    pass


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


def _errors(result: Any) -> str:
    lines = [str(result.exception)] if result.exception is not None else []
    for r in getattr(result.result, "results", None) or []:
        if str(getattr(r, "status", "")).lower() in ("error", "fail", "runtime error"):
            lines.append(f"{r.node.name}: {r.status}: {r.message}")
    return "\n".join(lines) or "(no message)"


def dbt(emulator: Emulator, args: Sequence[str], vars: Mapping[str, Any] | None = None, expect: bool = True) -> Any:
    """dbt in this process with the emulator profile."""
    from dbt.cli.main import dbtRunner

    full = [*args, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT), "--profile", PROFILE]
    full += ["--target-path", str(TARGET), "--log-path", str(TARGET / "logs")]
    if vars:
        full += ["--vars", yaml.safe_dump(dict(vars), default_flow_style=True, width=10_000).strip()]
    with _environ(emulator.env()):
        result = dbtRunner().invoke(full)
    if result.success != expect:
        raise DbtFailed(f"dbt {' '.join(args)}: success={result.success}, expected {expect}:\n{_errors(result)}")
    return result


def snapshot(emulator: Emulator, dataset: str, exclude: Sequence[str] = ("_load_id",)) -> dict[str, list[tuple]]:
    """Every row of every table of the dataset (the views and the KPI tables), all columns but `exclude`, sorted;
    floats rounded to 9 digits (a sum may add in another order): for equality checks."""
    client = emulator.client()
    out: dict[str, list[tuple]] = {}
    try:
        for item in client.list_tables(dataset):
            table = client.get_table(f"{emulator.project}.{dataset}.{item.table_id}")
            select = ", ".join(f"`{f.name}`" for f in table.schema if f.name not in exclude)
            rows = [
                tuple(round(v, 9) if isinstance(v, float) else v for v in r.values())
                for r in client.query(f"select {select} from `{dataset}.{item.table_id}`").result()
            ]
            out[item.table_id] = sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))
    finally:
        client.close()
    return out


def readme_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for event, n in re.findall(r"^\| (\w+) \| (\d+) \|$", (CARBONBOT / "README.md").read_text(), re.M):
        counts[event] = counts.get(event, 0) + int(n)
    return counts


# ---------------------------------------------------------------------------------------------- carbonbot

# Both scenarios use the same vars (and each its own emulator, so the same prefix): dbt then parses the project
# once and reuses that parse in every later command (a change of vars would parse it again).
VARS = {"user_id": "metadata__user_id", "story_intents": ["book_flight", "check_booking"]}
# The tests run here: the package's own test SQL (singular tests and the rss_* generic tests, the prerequisite gate
# included) and the unit tests whose result depends on the engine (ties in time: NULLs last, the order of hashes;
# timestamp arithmetic). dbt's built-in generic tests (unique, not_null, relationships, accepted_values) are
# dbt-bigquery's own SQL; they, and every unit test, run on DuckDB and PostgreSQL. Here they would double the
# runtime (the emulator takes 0.2-0.5 s per test, 2 s per unit test).
TESTS = (
    "test_type:singular",
    "test_name:rss_*",
    "test_type:unit,*equal_timestamps*",
    "test_type:unit,*inactivity_gap*",
)


@pytest.fixture(scope="module")
def carbonbot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The real tracker logs, loaded and copied into an emulator of their own, then one `dbt build`: the
    prerequisite gate (source tests), seeds, every model and the TESTS, in DAG order (a failing test skips what
    depends on it)."""
    if not CARBONBOT.is_dir():
        pytest.fail(f"sample data not found at {CARBONBOT}: the tests read ../shared/data/carbonbot")
    tmp = tmp_path_factory.mktemp("bq_carbonbot")
    with running_emulator(tmp / "server.log") as emulator:
        load_duckdb(tmp / "carbonbot.duckdb", "rasa", CARBONBOT)
        copied = copy_source(tmp / "carbonbot.duckdb", emulator, "rasa")
        assert copied["rasa_event.event"] == 1014
        select = ["resource_type:seed", "resource_type:model", *TESTS]
        # no indirect selection: it would add every unit test of the selected models
        result = dbt(emulator, ["build", "-s", *select, "--indirect-selection", "empty"], VARS)
        built = [str(r.node.resource_type) for r in result.result.results]
        assert {"seed", "model", "test", "unit_test"} <= set(built), built
        assert built.count("unit_test") < 10, "the unit test selection took every unit test"
        yield emulator


def test_carbonbot_every_event_once_in_event_sequence(carbonbot: Emulator) -> None:
    got = dict(carbonbot.query("select event, count(*) from rasa_views.event_sequence group by event"))
    assert got == readme_counts()
    assert carbonbot.query("select count(distinct _record_hash), count(*) from rasa_views.event_sequence") == [
        (1014, 1014)
    ]
    missing = carbonbot.query(
        "select count(*) from rasa_event.event e where not exists "
        "(select 1 from rasa_views.event_sequence s where s._record_hash = e._record_hash)"
    )
    assert missing == [(0,)]


def test_carbonbot_sessions_and_interactions(carbonbot: Emulator) -> None:
    """The numbers of tests/test_carbonbot.py (derived there from the logs)."""
    sessions = dict(carbonbot.query("select sender_id, count(*) from rasa_views.sessions group by sender_id"))
    assert sessions == {SENDER_A: 9, SENDER_B: 4}
    assert carbonbot.query("select count(*) from rasa_views.interactions") == [(148,)]
    assert carbonbot.query("select count(*) from rasa_views.interactions where interaction_nr = 0") == [(13,)]
    assert carbonbot.query("select sum(interactions_count) from rasa_views.sessions") == [(135,)]
    assert dict(carbonbot.query("select sender_id, sessions_count from rasa_views.senders")) == sessions
    first = carbonbot.query(
        f"select event, value from rasa_views.event_sequence where session_id = '{SENDER_A}/1' and sequence_nr = 1"
    )
    assert first == [("action", "action_listen")]
    restart = carbonbot.query(
        f"select session_nr, value from rasa_views.event_sequence where sender_id = '{SENDER_A}' "
        "and sender_event_nr between 561 and 566 order by sender_event_nr"
    )
    assert {r[0] for r in restart} == {8} and restart[0][1] == "action_restart"


def test_carbonbot_load_marked_once(carbonbot: Emulator) -> None:
    """The run appended a status-1 row to the source `_loads`: dbt's merge into the loader's table."""
    loads = "select status, count(*) from rasa_event._loads group by status order by 1"
    assert carbonbot.query(loads) == [(0, 1), (1, 1)]


# ---------------------------------------------------------------------------------------------- incremental


def test_incremental_equals_full_refresh(tmp_path: Path) -> None:
    """Two loads of generated conversations (the named scenarios: restarts of both forms, metadata slots, forms,
    users on several senders, ...; and a generated deployment), cut at a point in time so that the second load
    continues sessions of the first; an incremental run after each. The views equal a --full-refresh, row for row."""
    conversations = [(s.sender_id, s.events) for s in generate_scenario_set()]
    conversations += list(generate(n_conversations=6, seed=5))
    times = sorted(e["timestamp"] for _, events in conversations for e in events)
    cut = times[len(times) * 3 // 5]
    parts: list[list[tuple[str, list[dict[str, Any]]]]] = [[], []]
    for sender, events in conversations:
        for i, part in enumerate(parts):
            chosen = [e for e in events if (e["timestamp"] >= cut) == bool(i)]
            if chosen:
                part.append((sender, chosen))
    duck = tmp_path / "generated.duckdb"
    with running_emulator(tmp_path / "server.log") as emulator:
        for i, part in enumerate(parts):
            write_jsonl(tmp_path / f"load{i}.jsonl", part)
            load_duckdb(duck, "rasa", tmp_path / f"load{i}.jsonl")
            copy_source(duck, emulator, "rasa")
            # the first time with the seeds (models read them while compiling)
            first = ["build", "-s", "resource_type:seed", "resource_type:model", "--indirect-selection", "empty"]
            dbt(emulator, first if i == 0 else ["run"], VARS)
        loads = "select status, count(*) from rasa_event._loads group by status order by 1"
        assert emulator.query(loads) == [(0, 2), (1, 2)]
        incremental = snapshot(emulator, "rasa_views")
        dbt(emulator, ["run", "--full-refresh"], VARS)
        full = snapshot(emulator, "rasa_views")
        assert set(VIEW_TABLES) <= set(full) and set(incremental) == set(full)
        for table in full:
            assert incremental[table] == full[table], f"{table}: the incremental runs differ from --full-refresh"
        events = emulator.query("select count(distinct _record_hash) from rasa_event.event")[0][0]
        assert len(full["event_sequence"]) == events > 0
        # users on several senders: the case in which a sender of the second load renumbers another's sessions
        assert emulator.query("select count(*) from rasa_views.users where senders_count > 1")[0][0] > 0
