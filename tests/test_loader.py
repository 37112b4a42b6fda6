"""The tracker loader (python -m rasa_tracker_loader), run for real on DuckDB and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbtkit import run_loader

from rasa_tracker_loader.events import record_hash

REPO_ROOT = Path(__file__).resolve().parent.parent
CARBON_FILES = ("2888158124550630_tracker.jsonl", "8629c904-0c26-4f0b-927b-14d48db43c28_tracker.jsonl")
SMALL = CARBON_FILES[1]  # 348 events
EXCLUDED_FROM_COMPARISON = ("_load_id", "_event_pos")


# --------------------------------------------------------------------------------------------------------
# helpers


def load(dest: str | Path, *inputs: Any, prefix: str = "rasa", extra: tuple[str, ...] = ()) -> tuple[str, str]:
    destination = str(dest) if str(dest).startswith("postgresql://") else f"duckdb:{dest}"
    code, out, err = run_loader("--destination", destination, "--schema-prefix", prefix, *extra, *inputs)
    assert code == 0, f"loader failed ({code}): {out} {err}"
    return out, err


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def expected_counts(carbonbot_dir: Path) -> Counter[str]:
    """Per-type event counts of both files, from the data set's README."""
    counts: Counter[str] = Counter()
    text = (carbonbot_dir / "README.md").read_text()
    section = text.split("## Event counts", 1)[1]
    for name, number in re.findall(r"^\| ([a-z_]+) \| (\d+) \|$", section, flags=re.M):
        counts[name] += int(number)
    assert sum(counts.values()) == 1014
    return counts


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    sql = "select table_name from information_schema.tables where table_schema = ? order by 1"
    return [r[0] for r in con.execute(sql, [schema]).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    sql = (
        "select column_name from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position"
    )
    return [r[0] for r in con.execute(sql, [schema, table]).fetchall()]


def tables(path: Path, schema: str) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _tables(con, schema)
    finally:
        con.close()


def columns(path: Path, schema: str, table: str) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _columns(con, schema, table)
    finally:
        con.close()


def _dump(
    con: duckdb.DuckDBPyConnection, schema: str, exclude: tuple[str, ...], data_only: bool
) -> dict[str, list[tuple[Any, ...]]]:
    result = {}
    for table in _tables(con, schema):
        if data_only and table.startswith("_"):
            continue
        cols = [c for c in _columns(con, schema, table) if c not in exclude]
        select = ", ".join(f'"{c}"' for c in cols)
        rows = con.execute(f'select {select} from "{schema}"."{table}"').fetchall()
        result[table] = sorted(rows, key=repr)
    return result


def dump(
    path: Path, schema: str = "rasa_event", exclude: tuple[str, ...] = (), data_only: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of `schema` (minus the `exclude` columns; without _loads/_version if
    `data_only`), sorted."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _dump(con, schema, exclude, data_only)
    finally:
        con.close()


def snapshot(path: Path) -> dict[str, Any] | None:
    """The complete content of a DuckDB file (all schemas), or None when the file does not exist."""
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        schemas = [
            r[0]
            for r in con.execute(
                "select distinct table_schema from information_schema.tables"
                " where table_catalog = current_database() order by 1"
            ).fetchall()
        ]
        return {schema: _dump(con, schema, (), False) for schema in schemas}
    finally:
        con.close()


def type_counts(path: Path, schema: str = "rasa_event") -> dict[str, int]:
    return {
        t.removeprefix("event_"): query(path, f'select count(*) from {schema}."{t}"')[0][0]
        for t in tables(path, schema)
        if t.startswith("event_") and "__" not in t
    }


def write_sqlite_tracker_store(db: Path, events: list[dict[str, Any]]) -> None:
    """A database in Rasa's SQLTrackerStore layout; `data` is the event JSON without sender_id, as Rasa stores it."""
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(255) NOT NULL,"
        " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255),"
        " data TEXT)"
    )
    for event in events:
        data = {k: v for k, v in event.items() if k != "sender_id"}
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") if event["event"] == "user" else None
        action = event.get("name") if event["event"] == "action" else None
        con.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event["sender_id"], event["event"], event["timestamp"], intent, action, json.dumps(data)),
        )
    con.commit()
    con.close()


def tracker_document(events: list[dict[str, Any]]) -> dict[str, Any]:
    """A tracker as Rasa's HTTP API returns it (its events carry no sender_id)."""
    return {
        "sender_id": events[0]["sender_id"],
        "slots": {},
        "latest_message": {},
        "events": [{k: v for k, v in e.items() if k != "sender_id"} for e in events],
        "paused": False,
        "latest_input_channel": None,
    }


# --------------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory: pytest.TempPathFactory, carbonbot_dir: Path) -> Path:
    """Both carbonbot JSONL files loaded in one run: what every other input kind must reproduce."""
    path = tmp_path_factory.mktemp("reference") / "reference.duckdb"
    load(path, *(carbonbot_dir / f for f in CARBON_FILES))
    return path


@pytest.fixture(scope="module")
def pristine_db(tmp_path_factory: pytest.TempPathFactory, carbonbot_dir: Path) -> tuple[Path, dict[str, Any]]:
    """A destination holding one load (the small carbonbot file), and its complete content."""
    path = tmp_path_factory.mktemp("pristine") / "pristine.duckdb"
    load(path, carbonbot_dir / SMALL)
    content = snapshot(path)
    assert content is not None
    return path, content


# --------------------------------------------------------------------------------------------------------
# JSONL, reloading, layout


def test_carbonbot_jsonl_counts_reload_and_loads(tmp_path: Path, carbonbot_dir: Path) -> None:
    db = tmp_path / "c.duckdb"
    expected = expected_counts(carbonbot_dir)

    out, _ = load(db, carbonbot_dir / SMALL)
    assert "Loaded 348 new events" in out
    # the folder holds the small file again and the large one: only the large one's events are new
    out, _ = load(db, carbonbot_dir)
    assert "Loaded 666 new events" in out and "348 already loaded" in out

    assert type_counts(db) == dict(expected)
    assert query(db, "select count(*), count(distinct _record_hash) from rasa_event.event") == [(1014, 1014)]
    loads = query(db, "select load_id, status, schema_name from rasa_event._loads order by load_id")
    assert [(status, name) for _, status, name in loads] == [(0, "rasa_event"), (0, "rasa_event")]
    # each event row belongs to one of the two loads: 348 to the first, 666 to the second
    per_load = query(
        db,
        "select l.load_id, count(*) from rasa_event.event e join rasa_event._loads l on l.load_id = e._load_id"
        " group by 1 order by 1",
    )
    assert [n for _, n in per_load] == [348, 666]

    # loading everything again adds nothing: no rows, no load
    before = snapshot(db)
    code, out, _ = run_loader(
        "--destination", f"duckdb:{db}", "--schema-prefix", "rasa", *(carbonbot_dir / f for f in CARBON_FILES)
    )
    assert code == 0 and "Nothing new to load" in out
    assert snapshot(db) == before


def test_layout(reference_db: Path, carbonbot_dir: Path) -> None:
    db = reference_db
    schema_tables = tables(db, "rasa_event")
    assert "_loads" in schema_tables and "_version" in schema_tables and "event" in schema_tables
    assert not [t for t in schema_tables if "dlt" in t]
    everything = query(db, "select table_name, column_name from information_schema.columns")
    assert not [r for r in everything if "_dlt" in r[0] or "_dlt" in r[1]]

    common = [
        "_record_hash",
        "_root_hash",
        "_load_id",
        "_event_pos",
        "sender_id",
        "event",
        "timestamp",
        "model_id",
        "environment",
    ]
    assert columns(db, "rasa_event", "event") == common
    for table in schema_tables:
        if table.startswith("event_") and "__" not in table:
            assert columns(db, "rasa_event", table)[: len(common)] == common, table
    assert columns(db, "rasa_event", "_loads") == [
        "load_id",
        "schema_name",
        "status",
        "inserted_at",
        "schema_version_hash",
    ]
    assert columns(db, "rasa_event", "_version")[:6] == [
        "version",
        "engine_version",
        "inserted_at",
        "schema_name",
        "version_hash",
        "schema",
    ]
    types = dict(
        query(
            db,
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'rasa_event' and table_name = 'event'",
        )
    )
    assert types["timestamp"].startswith("TIMESTAMP") and types["_event_pos"] == "BIGINT"

    # columns the package reads
    for table, cols in {
        "event_user": [
            "text",
            "input_channel",
            "message_id",
            "parse_data__intent__name",
            "parse_data__intent__confidence",
        ],
        "event_bot": ["text", "metadata__utter_action"],
        "event_action": ["name", "policy", "confidence"],
        "event_slot": ["name", "value"],
        "event_active_loop": ["name"],
    }.items():
        assert set(cols) <= set(columns(db, "rasa_event", table)), table
    # filters: parse_data keeps intent/entities/message_id/text; bot data and slot-copies in metadata are dropped
    user_cols = columns(db, "rasa_event", "event_user")
    assert not [
        c
        for c in user_cols
        if c.startswith("parse_data__") and c.split("__")[1] not in ("intent", "entities", "message_id", "text")
    ]
    assert "event_user__parse_data__intent_ranking" not in schema_tables
    bot_cols = columns(db, "rasa_event", "event_bot")
    assert not [c for c in bot_cols if c.startswith("data__")]
    assert not [
        c
        for c in bot_cols
        if c.startswith("metadata__") and c != "metadata__utter_action" and not c.startswith("metadata__rasa_x_")
    ]

    # record hash = md5(sender_id + canonical JSON of the event without sender_id); position = line number
    first = read_events(carbonbot_dir / SMALL)[0]
    body = {k: v for k, v in first.items() if k != "sender_id"}
    expected_hash = hashlib.md5(
        (first["sender_id"] + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()
    ).hexdigest()
    assert record_hash(first["sender_id"], first) == expected_hash
    row = query(
        db,
        "select _record_hash, _root_hash, _event_pos, event, environment, model_id, epoch(timestamp)"
        f" from rasa_event.event where sender_id = '{first['sender_id']}' and _event_pos = 1",
    )
    assert row == [
        (
            expected_hash,
            expected_hash,
            1,
            "action",
            "production",
            None,
            pytest.approx(first["timestamp"]),
        )
    ]
    # event and event_<type> rows pair up one to one
    assert query(
        db,
        "select count(*) from rasa_event.event e join rasa_event.event_action a using (_record_hash)"
        " where e.event = 'action' and e._event_pos = a._event_pos and e.timestamp = a.timestamp",
    ) == [(339,)]
    assert query(db, "select count(*) from rasa_event.event where _root_hash <> _record_hash") == [(0,)]
    # child rows link to their event
    orphans = query(
        db,
        "select count(*) from rasa_event.event_user__parse_data__entities c"
        " left join rasa_event.event_user u on u._record_hash = c._parent_hash and u._record_hash = c._root_hash"
        " where u._record_hash is null",
    )
    assert orphans == [(0,)]
    assert query(db, "select count(*), min(_pos) from rasa_event.event_user__parse_data__entities") == [(76, 0)]
    # list-valued slots go to the child table, scalar ones stay in `value`
    assert query(db, "select count(*) from rasa_event.event_slot__value")[0][0] > 0


def test_environment_duplicates_and_unknown_types(tmp_path: Path, carbonbot_dir: Path) -> None:
    events = read_events(carbonbot_dir / SMALL)
    custom = {"event": "my_custom_event", "timestamp": 1586875800.0, "sender_id": events[0]["sender_id"], "x": 1}
    path = tmp_path / "dups.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events + events[:10] + [custom]) + "\n")
    db = tmp_path / "d.duckdb"

    code, _, err = run_loader("--destination", f"duckdb:{db}", "--schema-prefix", "rasa", path)
    assert code == 1 and f"{path}:{len(events) + 11}: unknown event type 'my_custom_event'" in err
    assert not db.exists()

    out, _ = load(db, path, extra=("--environment", "staging", "--allow-unknown-event-types"))
    assert "Loaded 349 new events" in out and "10 duplicates" in out
    assert query(db, "select count(*), min(environment), max(environment) from rasa_event.event") == [
        (349, "staging", "staging")
    ]
    assert query(db, "select x from rasa_event.event_my_custom_event") == [(1,)]


# --------------------------------------------------------------------------------------------------------
# other inputs reproduce the JSONL load


def test_sql_tracker_store_equals_jsonl(tmp_path: Path, carbonbot_dir: Path, reference_db: Path) -> None:
    store = tmp_path / "rasa.db"
    write_sqlite_tracker_store(store, [e for f in CARBON_FILES for e in read_events(carbonbot_dir / f)])
    db = tmp_path / "sql.duckdb"
    out, _ = load(db, f"sqlite:///{store}")
    assert "Loaded 1014 new events" in out
    assert dump(db, exclude=EXCLUDED_FROM_COMPARISON, data_only=True) == dump(
        reference_db, exclude=EXCLUDED_FROM_COMPARISON, data_only=True
    )
    # positions are the SQLTrackerStore row ids
    assert query(db, "select min(_event_pos), max(_event_pos), count(distinct _event_pos) from rasa_event.event") == [
        (1, 1014, 1014)
    ]
    # the JSONL files add nothing to it
    code, out, _ = run_loader("--destination", f"duckdb:{db}", "--schema-prefix", "rasa", carbonbot_dir)
    assert code == 0 and "Nothing new to load" in out


def test_tracker_documents_and_folder_equal_jsonl(tmp_path: Path, carbonbot_dir: Path, reference_db: Path) -> None:
    big, small = (read_events(carbonbot_dir / f) for f in CARBON_FILES)
    reference = dump(reference_db, exclude=EXCLUDED_FROM_COMPARISON, data_only=True)

    # a JSON array of tracker documents (the small tracker twice: counted once)
    array = tmp_path / "trackers.json"
    array.write_text(json.dumps([tracker_document(big), tracker_document(small), tracker_document(small)]))
    db = tmp_path / "array.duckdb"
    out, _ = load(db, array)
    assert "Loaded 1014 new events" in out and "348 duplicates" in out
    assert dump(db, exclude=EXCLUDED_FROM_COMPARISON, data_only=True) == reference
    positions = query(
        db, f"select min(_event_pos), max(_event_pos) from rasa_event.event where sender_id = '{small[0]['sender_id']}'"
    )
    assert positions == [(0, 347)]

    # a folder (recursively, sorted) with one tracker document and one JSONL file; other files are ignored
    folder = tmp_path / "export"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "big.json").write_text(json.dumps(tracker_document(big), indent=2))
    shutil.copy(carbonbot_dir / SMALL, folder / "small.jsonl")
    (folder / "notes.txt").write_text("not an input")
    db2 = tmp_path / "folder.duckdb"
    out, _ = load(db2, folder)
    assert "Loaded 1014 new events" in out
    assert dump(db2, exclude=EXCLUDED_FROM_COMPARISON, data_only=True) == reference

    # a single tracker document on top adds nothing
    single = tmp_path / "small.json"
    single.write_text(json.dumps(tracker_document(small)))
    code, out, _ = run_loader("--destination", f"duckdb:{db2}", "--schema-prefix", "rasa", single)
    assert code == 0 and "Nothing new to load" in out


# --------------------------------------------------------------------------------------------------------
# bad input: one clear message, the destination unchanged


def _lines(carbonbot_dir: Path, n: int = 6) -> list[str]:
    return (carbonbot_dir / SMALL).read_text().splitlines()[:n]


def _jsonl_with(carbonbot_dir: Path, line_no: int, replacement: str) -> str:
    lines = _lines(carbonbot_dir)
    lines[line_no - 1] = replacement
    return "\n".join(lines) + "\n"


def _event(carbonbot_dir: Path, line_no: int, **changes: Any) -> str:
    event = json.loads(_lines(carbonbot_dir)[line_no - 1])
    for key, value in changes.items():
        if value is None:
            event.pop(key)
        else:
            event[key] = value
    return json.dumps(event)


BAD_JSONL: dict[str, tuple[Callable[[Path], str], str]] = {
    "malformed line": (lambda d: _jsonl_with(d, 3, '{"event": "user", "timestamp": 1,'), r":3: invalid JSON"),
    "truncated file": (lambda d: "\n".join(_lines(d))[:-40], r":6: invalid JSON \(the file looks truncated\)"),
    "no timestamp": (lambda d: _jsonl_with(d, 4, _event(d, 4, timestamp=None)), r":4: event has no 'timestamp'"),
    "bad timestamp": (lambda d: _jsonl_with(d, 4, _event(d, 4, timestamp="yesterday")), r":4: 'timestamp' must be"),
    "no sender_id": (lambda d: _jsonl_with(d, 2, _event(d, 2, sender_id=None)), r":2: event has no 'sender_id'"),
    "no event type": (lambda d: _jsonl_with(d, 5, _event(d, 5, event=None)), r":5: event has no 'event'"),
    "unknown type": (lambda d: _jsonl_with(d, 5, _event(d, 5, event="usr")), r":5: unknown event type 'usr'"),
    "invalid type": (lambda d: _jsonl_with(d, 5, _event(d, 5, event=7)), r":5: invalid event type 7"),
    "not an object": (lambda d: _jsonl_with(d, 6, "[1, 2]"), r":6: expected an event \(a JSON object\)"),
}


@pytest.mark.parametrize("case", sorted(BAD_JSONL))
def test_bad_jsonl_leaves_destination_unchanged(
    case: str, tmp_path: Path, carbonbot_dir: Path, pristine_db: tuple[Path, dict[str, Any]]
) -> None:
    make, message = BAD_JSONL[case]
    db = tmp_path / "dest.duckdb"
    shutil.copy(pristine_db[0], db)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(make(carbonbot_dir))
    # a good input before the bad one is not loaded either: everything is checked first
    code, out, err = run_loader(
        "--destination", f"duckdb:{db}", "--schema-prefix", "rasa", carbonbot_dir / CARBON_FILES[0], bad
    )
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(re.escape(str(bad)) + message, lines[0]), lines[0]
    assert "Traceback" not in err and out == ""
    assert snapshot(db) == pristine_db[1]


def _sqlite_without_events(path: Path) -> str:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE other (id INTEGER)")
    con.close()
    return f"sqlite:///{path}"


def _sqlite_with_bad_row(path: Path, events: list[dict[str, Any]]) -> str:
    write_sqlite_tracker_store(path, events)
    con = sqlite3.connect(path)
    con.execute('UPDATE events SET data = \'{"event": "user", \' WHERE id = 3')
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_bad_inputs_of_other_kinds(
    tmp_path: Path, carbonbot_dir: Path, pristine_db: tuple[Path, dict[str, Any]]
) -> None:
    small = read_events(carbonbot_dir / SMALL)
    doc = tracker_document(small[:5])
    del doc["events"][2]["timestamp"]
    bad_doc = tmp_path / "bad_doc.json"
    bad_doc.write_text(json.dumps(doc))
    truncated_doc = tmp_path / "truncated.json"
    truncated_doc.write_text(json.dumps([tracker_document(small)], indent=1)[:5000])
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes((carbonbot_dir / SMALL).read_bytes()[:2000].split(b"\n")[0] + b"\n\xff\xfe\x00garbage\n")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    cases: list[tuple[str, str]] = [
        (str(bad_doc), re.escape(f"{bad_doc}: events[2]: event has no 'timestamp'")),
        (str(truncated_doc), re.escape(f"{truncated_doc}:") + r"\d+: invalid JSON \(the file looks truncated\)"),
        (str(binary), re.escape(f"{binary}:2: line is not UTF-8 text")),
        (str(tmp_path / "missing.jsonl"), re.escape(f"{tmp_path / 'missing.jsonl'}: no such file or folder")),
        (str(empty_dir), re.escape(f"{empty_dir}: folder contains no *.json or *.jsonl files")),
        (f"sqlite:///{tmp_path / 'nope.db'}", "no such database file"),
        (_sqlite_without_events(tmp_path / "other.db"), r"no 'events' table"),
        (_sqlite_with_bad_row(tmp_path / "badrow.db", small[:5]), r"events\.id=3: column 'data' is not valid JSON"),
        ("mysql+nodriver://u:pw@localhost/x", "database driver is not installed|cannot use this database URL"),
        ("postgresql://rasa:Sup3rSecret@127.0.0.1:1/rasa", r"cannot connect"),
    ]
    db = tmp_path / "dest.duckdb"
    shutil.copy(pristine_db[0], db)
    for spec, message in cases:
        code, out, err = run_loader("--destination", f"duckdb:{db}", "--schema-prefix", "rasa", spec)
        assert code == 1, (spec, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and re.search(message, lines[0]), (spec, err)
        assert "Traceback" not in err and "Sup3rSecret" not in err + out
    assert snapshot(db) == pristine_db[1]

    # a destination that does not exist yet is not created by a failed run
    fresh = tmp_path / "fresh.duckdb"
    code, _, _ = run_loader("--destination", f"duckdb:{fresh}", "--schema-prefix", "rasa", bad_doc)
    assert code == 1 and not fresh.exists()


def test_command_line_errors_and_masked_credentials(tmp_path: Path, carbonbot_dir: Path) -> None:
    small = carbonbot_dir / SMALL
    # unreachable PostgreSQL destination: message names it without the password
    code, out, err = run_loader(
        "--destination", "postgresql://loader:Pa55w0rdXYZ@127.0.0.1:1/analytics", "--schema-prefix", "rasa", small
    )
    assert code == 1 and "cannot use the destination" in err
    assert "Pa55w0rdXYZ" not in out + err and "postgresql://loader:***@127.0.0.1:1/analytics" in err
    for argv, message in [
        (["--destination", "mysql://u:Pa55w0rdXYZ@h/db", "--schema-prefix", "rasa", small], "expected duckdb:PATH"),
        (["--destination", f"duckdb:{tmp_path}/db.duckdb", "--schema-prefix", "Rasa-1", small], "--schema-prefix"),
        (
            ["--destination", f"duckdb:{tmp_path}/no/such/dir/db.duckdb", "--schema-prefix", "rasa", small],
            "does not exist",
        ),
    ]:
        code, out, err = run_loader(*argv)
        assert code == 1 and message in err and "Pa55w0rdXYZ" not in out + err, err
    assert not (tmp_path / "db.duckdb").exists()


def test_cli_subprocess_help_and_progress(tmp_path: Path, carbonbot_dir: Path) -> None:
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "rasa_tracker_loader", "--help"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    for needle in (
        "--destination",
        "--schema-prefix",
        "--environment",
        "--model",
        "SQLTrackerStore",
        "sqlite:///",
        "tracker",
        ".tar.gz",
        "domain.yml",
    ):
        assert needle in result.stdout, needle
    result = subprocess.run(
        [sys.executable, "-m", "rasa_tracker_loader", "--schema-prefix", "rasa", "x.jsonl"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "--destination" in result.stderr

    # --progress draws bars on stderr (stdout keeps the summary only)
    db = tmp_path / "p.duckdb"
    code, out, err = run_loader(
        "--destination", f"duckdb:{db}", "--schema-prefix", "rasa", "--progress", carbonbot_dir / SMALL
    )
    assert code == 0 and "reading events" in err and "extracting" in err and "reading" not in out


# --------------------------------------------------------------------------------------------------------
# bot model


DOMAIN = """\
version: "3.1"
intents:
  - greet
  - inform:
      use_entities: [city]
entities:
  - city
slots:
  city:
    type: text
    influence_conversation: false
    mappings:
      - type: from_entity
        entity: city
  done:
    type: bool
    initial_value: false
    mappings: [{type: custom}]
responses:
  utter_greet:
    - text: "Hello!"
    - text: "Hi there"
      channel: web
  utter_ask_city:
    - text: "Which city?"
actions:
  - action_check_city
  - utter_greet
forms:
  city_form:
    required_slots:
      - city
"""

STORIES = """\
version: "3.1"
stories:
  - story: happy path
    steps:
      - intent: greet
      - action: utter_greet
      - intent: inform
        entities:
          - city: Berlin
      - slot_was_set:
          - city: Berlin
      - action: action_check_city
"""

RULES = """\
version: "3.1"
rules:
  - rule: greet
    conversation_start: true
    steps:
      - intent: greet
      - action: utter_greet
  - rule: fill form
    condition:
      - active_loop: city_form
    steps:
      - action: city_form
      - active_loop: null
"""


def _project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "domain.yml").write_text(DOMAIN)
    (root / "config.yml").write_text("recipe: default.v1\nlanguage: en\nassistant_id: bold-owl\npipeline: []\n")
    (root / "data" / "stories.yml").write_text(STORIES)
    (root / "data" / "rules.yml").write_text(RULES)
    (root / "data" / "nlu.yml").write_text('version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n')
    return root


def _archive(path: Path, members: dict[str, str]) -> Path:
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            data = content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_model_from_project_folder(tmp_path: Path) -> None:
    project = _project(tmp_path / "my_bot")
    db = tmp_path / "m.duckdb"
    out, _ = load(db, prefix="rasa", extra=("--model", str(project), "--model-id", "m-2024-01"))
    assert "Loaded model 'm-2024-01'" in out
    assert query(
        db,
        "select model_id, name, sdk_version, language, assistant_id, stories_count, rules_count from rasa_model.model",
    ) == [("m-2024-01", "my_bot", None, "en", "bold-owl", 1, 2)]
    assert query(db, "select count(*) from rasa_model.model where timestamp is not null") == [(1,)]
    assert query(db, "select name from rasa_model.domain_intent order by name") == [("greet",), ("inform",)]
    assert query(db, "select name, type, initial_value from rasa_model.domain_slot order by name") == [
        ("city", "text", None),
        ("done", "bool", "false"),
    ]
    assert query(db, "select name, kind from rasa_model.domain_action order by name") == [
        ("action_check_city", "custom"),
        ("city_form", "form"),
        ("utter_ask_city", "response"),
        ("utter_greet", "response"),
    ]
    assert query(
        db,
        "select r.name, v._pos, v.text, v.channel from rasa_model.domain_response r"
        " join rasa_model.domain_response__variants v on v._parent_hash = r._record_hash order by 1, 2",
    ) == [
        ("utter_ask_city", 0, "Which city?", None),
        ("utter_greet", 0, "Hello!", None),
        ("utter_greet", 1, "Hi there", "web"),
    ]
    assert query(db, "select value from rasa_model.domain_form__required_slots") == [("city",)]
    steps = query(
        db,
        "select s._pos, s.kind, s.name from rasa_model.story__steps s join rasa_model.story t"
        " on s._parent_hash = t._record_hash where t.name = 'happy path' order by 1",
    )
    assert steps == [
        (0, "intent", "greet"),
        (1, "action", "utter_greet"),
        (2, "intent", "inform"),
        (3, "slot_was_set", None),
        (4, "action", "action_check_city"),
    ]
    assert query(db, "select name, conversation_start from rasa_model.rule order by name") == [
        ("fill form", None),
        ("greet", True),
    ]
    assert query(db, "select count(*) from rasa_model.rule__steps") == [(4,)]
    assert query(db, "select count(*), min(status) from rasa_model._loads") == [(1, 0)]
    assert not [t for t in tables(db, "rasa_model") if "dlt" in t]

    # the same model again: nothing is written
    before = snapshot(db)
    code, out, _ = run_loader(
        "--destination", f"duckdb:{db}", "--schema-prefix", "rasa", "--model", project, "--model-id", "m-2024-01"
    )
    assert code == 0 and "already" in out and snapshot(db) == before


def test_model_from_archives(tmp_path: Path) -> None:
    import yaml

    domain = yaml.safe_load(DOMAIN)
    rasa3 = _archive(
        tmp_path / "20240105-101500-brave-owl.tar.gz",
        {
            "metadata.json": json.dumps(
                {
                    "model_id": "3f1c0d2e9a8b4c7d",
                    "assistant_id": "brave-owl",
                    "trained_at": "2024-01-05T10:15:00+00:00",
                    "rasa_open_source_version": "3.6.20",
                    "domain": domain,
                    "language": "en",
                }
            ),
            "components/train_X/featurizer.pkl": "binary",
        },
    )
    rasa2 = _archive(
        tmp_path / "20210301-120000.tar.gz",
        {"fingerprint.json": json.dumps({"version": "2.8.1", "trained_at": 1614600000.0}), "core/domain.yml": DOMAIN},
    )
    db = tmp_path / "a.duckdb"
    load(db, extra=("--model", str(rasa3)))
    load(db, extra=("--model", str(rasa2), "--model-name", "old model"))
    rows = query(db, "select model_id, name, sdk_version, epoch(timestamp), source from rasa_model.model order by 4")
    assert rows == [
        ("20210301-120000", "old model", "2.8.1", 1614600000.0, "archive"),
        ("3f1c0d2e9a8b4c7d", "20240105-101500-brave-owl", "3.6.20", 1704449700.0, "archive"),
    ]
    assert query(db, "select count(*) from rasa_model.domain_intent where model_id = '3f1c0d2e9a8b4c7d'") == [(2,)]
    assert query(db, "select count(*) from rasa_model._loads where status = 0") == [(2,)]

    # a file that is not a model archive: error, nothing written
    before = snapshot(db)
    bogus = _archive(tmp_path / "bogus.tar.gz", {"readme.txt": "hello"})
    code, _, err = run_loader("--destination", f"duckdb:{db}", "--schema-prefix", "rasa", "--model", bogus)
    assert code == 1 and "bogus.tar.gz: no metadata.json or fingerprint.json" in err
    assert snapshot(db) == before


# --------------------------------------------------------------------------------------------------------
# PostgreSQL


def pg_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def test_postgres_destination_and_tracker_store(
    postgres_server: Any, tmp_path: Path, carbonbot_dir: Path, reference_db: Path
) -> None:
    url = postgres_server.create_database()
    out, _ = load(url, carbonbot_dir)
    assert "Loaded 1014 new events" in out
    counts = dict(
        pg_rows(
            url,
            "select table_name, (xpath('/row/c/text()', query_to_xml('select count(*) as c from rasa_event.'"
            " || quote_ident(table_name), false, true, '')))[1]::text::int from information_schema.tables"
            " where table_schema = 'rasa_event' and table_name like 'event\\_%' and table_name not like '%\\_\\_%'",
        )
    )
    assert {k.removeprefix("event_"): v for k, v in counts.items()} == dict(expected_counts(carbonbot_dir))
    assert pg_rows(url, "select count(*) from rasa_event.event") == [(1014,)]
    assert pg_rows(
        url,
        "select data_type from information_schema.columns where table_schema = 'rasa_event'"
        " and table_name = 'event' and column_name = 'timestamp'",
    ) == [("timestamp with time zone",)]
    assert not pg_rows(
        url,
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'rasa_event' and (table_name like '%dlt%' or column_name like '%dlt%')",
    )
    reference_hashes = {r[0] for r in query(reference_db, "select _record_hash from rasa_event.event")}
    assert {r[0] for r in pg_rows(url, "select _record_hash from rasa_event.event")} == reference_hashes

    # the same destination with a password in the URL (trust auth ignores it): never printed
    with_password = url.replace("postgresql://postgres@", "postgresql://postgres:Pw-Secret-42@")
    code, out, err = run_loader("--destination", with_password, "--schema-prefix", "rasa", carbonbot_dir)
    assert code == 0 and "Nothing new to load" in out
    assert "Pw-Secret-42" not in out + err and "postgres:***@" in out
    assert pg_rows(url, "select count(*), min(status), max(status) from rasa_event._loads") == [(1, 0, 0)]
    assert pg_rows(url, "select count(*) from rasa_event.event") == [(1014,)]

    # a SQLTrackerStore on PostgreSQL as input (Rasa's layout, written here with the same events)
    store_url = postgres_server.create_database()
    import psycopg2

    conn = psycopg2.connect(store_url)
    with conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        for event in read_events(carbonbot_dir / SMALL):
            data = {k: v for k, v in event.items() if k != "sender_id"}
            cur.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (%s, %s, %s, %s)",
                (event["sender_id"], event["event"], event["timestamp"], json.dumps(data)),
            )
    conn.close()
    db = tmp_path / "from_pg.duckdb"
    out, _ = load(db, store_url)
    assert "Loaded 348 new events" in out
    small_hashes = set(
        r[0]
        for r in query(
            reference_db,
            f"select _record_hash from rasa_event.event where sender_id = "
            f"'{read_events(carbonbot_dir / SMALL)[0]['sender_id']}'",
        )
    )
    assert {r[0] for r in query(db, "select _record_hash from rasa_event.event")} == small_hashes


def test_sample_bot_project_reads() -> None:
    """The repository's sample assistant (written for the generator) is a project folder the loader reads."""
    from rasa_tracker_loader.model import model_rows, read_model

    sample_bot = REPO_ROOT / "sample_bot"
    model = read_model(str(sample_bot), "sample-bot", None)
    rows = list(model_rows(model))
    tables_seen = Counter(table for table, _ in rows)
    assert tables_seen["model"] == 1 and tables_seen["domain_intent"] > 0 and tables_seen["domain_action"] > 0
    assert tables_seen["story"] + tables_seen["rule"] > 0
