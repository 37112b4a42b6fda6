"""Bad input, end to end: what the loader and the package do with input that is broken, unusual or foreign.

Every case ends in correct output or in a clear error that names the problem (file and line, or table and column),
never in a partial write: a loader error leaves the destination as it was (no new rows, no new `_loads` row), a
package error leaves the views as they were and marks no load. The docstring of each test states the decision.

Loader cases run the loader in-process (python only; one PostgreSQL-only case). The bad-input cases that
tests/test_loader.py already has (malformed line, truncated file, events without timestamp / sender_id / event,
unknown event types, a text timestamp, non-UTF-8 files, missing files, bad SQLTrackerStore databases, ...) are not
repeated here.

Package cases run on every warehouse kind (the `warehouses` fixture) on two sources:

* `shared`: one source written by the loader with one sender per case (sender ids `b-...`), plus what a source
  can hold that the loader never writes: a `_loads` row without data and a load whose `_loads` row is missing.
  Built once, then built again incrementally after that missing `_loads` row appears.
* `foreign`: a source written with SQL by someone else (sender ids `f-...`): only the required tables and columns,
  event times stored as unix seconds, as a timestamp without time zone and (first) as text, rows without sender or
  time, and the `_loads` table of the contract (`load_id, status, inserted_at`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbtkit import APP_VARS, VIEW_TABLES, DbtFailed, Warehouse, Warehouses, build, same_on_every_kind, snapshot
from dbtkit import run_loader as run_loader_argv

from rasa_tracker_loader.conversation import Conversation, write_jsonl
from rasa_tracker_loader.events import record_hash

VARS = APP_VARS  # user_id: metadata__user_id, external_session_id: metadata__external_session_id
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
T0_UNIX = 1709287200  # T0 as unix seconds
REPLACEMENT = "\ufffd"

# ---------------------------------------------------------------------------------------------------------------
# helpers


def run_loader(destination: str, *inputs: Path | str, extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """The loader in-process into `destination`, schema prefix rasa: (exit code, stdout, stderr)."""
    return run_loader_argv("--destination", destination, "--schema-prefix", "rasa", *extra, *inputs)


def duckdb_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def contents(wh: Warehouse) -> dict[str, list[Any]]:
    """Every table of the warehouse's non-system schemas: its columns (with types) and its rows, for equality."""
    out: dict[str, list[Any]] = {}
    with wh.session() as query:
        tables = query(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog', 'main', 'public') order by 1, 2"
        )
        for schema, table in tables:
            columns = query(
                "select column_name, data_type from information_schema.columns "
                f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
            )
            rows = query(f'select * from "{schema}"."{table}"')
            out[f"{schema}.{table}"] = [tuple(columns), *sorted(repr(r) for r in rows)]  # repr: NaN equals NaN
    return out


def jsonl(path: Path, *events: dict[str, Any] | str) -> Path:
    """A JSONL file of events (dicts are dumped, strings written as they are)."""
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    return path


def conversations_file(path: Path, conversations: list[Conversation]) -> Path:
    write_jsonl(path, conversations)
    return path


def action(sender_id: str, ts: Any, name: str = "action_listen", **extra: Any) -> dict[str, Any]:
    return {"sender_id": sender_id, "event": "action", "timestamp": ts, "name": name, **extra}


def rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return sorted(wh.query(sql), key=repr)


def at(seconds: float) -> datetime:
    """T0 + seconds as the views hold it: a timestamp without time zone, in UTC."""
    return (T0 + timedelta(seconds=seconds)).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------------------------
# loader: rejected input


@pytest.fixture(scope="module")
def loaded_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB destination with one committed load (the state every failing loader run must leave unchanged)."""
    folder = tmp_path_factory.mktemp("loaded")
    c = Conversation("l-base", start=T0)
    c.session_start()
    c.user("greet")
    c.bot("utter_greet")
    db = folder / "base.duckdb"
    code, out, err = run_loader(f"duckdb:{db}", conversations_file(folder / "base.jsonl", [c]))
    assert code == 0, (out, err)
    return db


BAD_TIMESTAMPS: dict[str, tuple[str, str]] = {
    # case: (the JSON text of the timestamp, the expected message after "FILE:3: ")
    "numeric text": ('"1709287200.5"', "'timestamp' must be unix time in seconds (a number), got '1709287200.5'"),
    "ISO text": (
        '"2024-03-01T10:00:00+00:00"',
        "'timestamp' must be unix time in seconds (a number), got '2024-03-01T10:00:00+00:00'",
    ),
    "boolean": ("true", "'timestamp' must be unix time in seconds (a number), got True"),
    "NaN": ("NaN", "invalid JSON: NaN is not valid JSON"),
    "Infinity": ("Infinity", "invalid JSON: Infinity is not valid JSON"),
    "negative": ("-1.5", "'timestamp' -1.5 is out of range for unix time in seconds (1970 to 2200)"),
    "milliseconds (far future)": (
        "1709287200123",
        "'timestamp' 1709287200123 is out of range for unix time in seconds (1970 to 2200)"
        " (milliseconds? Rasa writes seconds)",
    ),
    "year 3000 (far future)": (
        "32503680000",
        "'timestamp' 32503680000 is out of range for unix time in seconds (1970 to 2200)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TIMESTAMPS))
def test_loader_rejects_timestamps_that_are_no_unix_seconds(case: str, loaded_duckdb: Path, tmp_path: Path) -> None:
    """A timestamp must be unix time in seconds, as Rasa writes it (a JSON number from 1970 to 2200). Text (also
    numeric or ISO 8601 text), booleans, NaN / Infinity (not JSON), negative values and values past 2200 (usually
    milliseconds) are rejected, not guessed: a guess could shift or reorder events silently, and the record hash of
    the same event would differ with its spelling. The error names the file, the line and the value; the good
    input before the bad line is not loaded either, and the destination is unchanged."""
    spelled, message = BAD_TIMESTAMPS[case]
    db = tmp_path / "dest.duckdb"
    shutil.copy(loaded_duckdb, db)
    wh = Warehouse("duckdb", duckdb_path=db)
    before = contents(wh)
    bad = jsonl(
        tmp_path / "bad.jsonl",
        action("l-ts", T0_UNIX, "action_session_start"),
        action("l-ts", T0_UNIX + 1),
        f'{{"sender_id": "l-ts", "event": "user", "timestamp": {spelled}, "text": "hi"}}',
    )
    code, out, err = run_loader(f"duckdb:{db}", bad)
    assert code == 1 and out == ""
    assert err.strip() == f"error: {bad}:3: {message}"
    assert contents(wh) == before


def test_loader_postgres_table_too_wide_is_a_clear_error_and_writes_nothing(
    postgres_server: Any, tmp_path: Path
) -> None:
    """User-message metadata becomes columns (metadata__*). A PostgreSQL table holds at most 1600 columns, so
    metadata with 1700 distinct keys cannot be loaded there: the loader stops with PostgreSQL's reason, and since
    dlt changes the tables in one transaction before it loads rows, nothing of the load is written. (DuckDB takes
    such a table.)"""
    url = postgres_server.create_database()
    good = jsonl(tmp_path / "good.jsonl", action("l-pg", T0_UNIX, "action_session_start"))
    assert run_loader(url, good)[0] == 0
    wh = Warehouse("postgres", pg_url=url, pg_env=postgres_server.env(url.rsplit("/", 1)[1]))
    before = contents(wh)
    wide = {"sender_id": "l-pg", "event": "user", "timestamp": T0_UNIX + 1, "text": "hi"}
    wide["metadata"] = {f"field_{i}": i for i in range(1700)}
    code, out, err = run_loader(url, jsonl(tmp_path / "wide.jsonl", wide))
    assert code == 1 and out == ""
    assert re.fullmatch(r"error: .*load failed in step 'load': .*tables can have at most 1600 columns\n", err), err
    assert contents(wh) == before


# ---------------------------------------------------------------------------------------------------------------
# loader: unusual input that loads


def test_loader_integer_float_and_far_future_timestamps_load_exactly(tmp_path: Path) -> None:
    """Integer seconds (`1709287200`), fractional seconds to the microsecond, 0 (1970-01-01) and a time in 2150 are
    all unix seconds: each is stored as that instant, exactly."""
    db = tmp_path / "ts.duckdb"
    events = [
        action("l-int", T0_UNIX, "action_session_start"),
        action("l-float", T0_UNIX + 0.123456, "action_session_start"),
        action("l-zero", 0, "action_session_start"),
        action("l-2150", 5680281600.5, "action_session_start"),
    ]
    code, out, err = run_loader(f"duckdb:{db}", jsonl(tmp_path / "ts.jsonl", *events))
    assert code == 0, (out, err)
    stored = duckdb_rows(
        db, "select sender_id, cast(timezone('UTC', \"timestamp\") as varchar) from rasa_event.event order by 1"
    )
    assert stored == [
        ("l-2150", "2150-01-01 00:00:00.5"),
        ("l-float", "2024-03-01 10:00:00.123456"),
        ("l-int", "2024-03-01 10:00:00"),
        ("l-zero", "1970-01-01 00:00:00"),
    ]


@pytest.fixture(scope="module")
def empty_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("empty_inputs")
    empty_file = folder / "empty.jsonl"
    empty_file.write_text("")
    blank_lines = folder / "blank.jsonl"
    blank_lines.write_text("\n  \n\n")
    empty_tracker = folder / "empty_tracker.json"
    empty_tracker.write_text(json.dumps({"sender_id": "l-empty", "events": []}))
    no_trackers = folder / "no_trackers.json"
    no_trackers.write_text("[]")
    return [empty_file, blank_lines, empty_tracker, no_trackers]


def test_loader_empty_inputs_write_nothing(empty_inputs: list[Path], loaded_duckdb: Path, tmp_path: Path) -> None:
    """An empty tracker (`{"sender_id": ..., "events": []}`), an empty JSONL file, one of blank lines and an empty
    array of trackers are valid input with no events: the run succeeds (exit 0), says so, and writes nothing (no
    empty load, no new table; a destination file that did not exist is not created)."""
    db = tmp_path / "dest.duckdb"
    shutil.copy(loaded_duckdb, db)
    wh = Warehouse("duckdb", duckdb_path=db)
    before = contents(wh)
    for path in empty_inputs:
        code, out, err = run_loader(f"duckdb:{db}", path)
        assert (code, err) == (0, ""), (path, out, err)
        assert out == "No events in the input (empty files or trackers); no load was written.\n"
    assert contents(wh) == before
    fresh = tmp_path / "fresh.duckdb"
    assert run_loader(f"duckdb:{fresh}", *empty_inputs)[0] == 0
    assert not fresh.exists()


def unstorable_events() -> list[dict[str, Any]]:
    """A NUL character, a lone surrogate (half an emoji, as a JavaScript client may cut it) and an integer beyond
    64 bits: valid JSON that Rasa stores, but no destination can store as it is."""
    user = {"sender_id": "l-odd\u0000id", "event": "user", "timestamp": T0_UNIX + 1, "text": "a\u0000b"}
    user["parse_data"] = {"intent": {"name": "greet", "confidence": 1.0}}
    user["metadata"] = {"phone": 2**70, "note": "x\ud83d"}
    bot = {"sender_id": "l-odd\u0000id", "event": "bot", "timestamp": T0_UNIX + 2, "text": "half \ud83d emoji"}
    return [action("l-odd\u0000id", T0_UNIX), user, bot]


def check_unstorable_load(wh: Warehouse, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "odd.jsonl", *unstorable_events())
    code, out, err = run_loader(wh.loader_destination, path)
    assert code == 0 and "Loaded 3 new events" in out, (out, err)
    sender = f"l-odd{REPLACEMENT}id"
    assert wh.query('select sender_id, text, metadata__phone, metadata__note from "rasa_event"."event_user"') == [
        (sender, f"a{REPLACEMENT}b", str(2**70), f"x{REPLACEMENT}")
    ]
    assert wh.query('select text from "rasa_event"."event_bot"') == [(f"half {REPLACEMENT} emoji",)]
    # the record hash is that of the event as Rasa wrote it
    expected = sorted(record_hash(e["sender_id"], e) for e in unstorable_events())
    assert sorted(r[0] for r in wh.query('select _record_hash from "rasa_event"."event"')) == expected
    code, out, _ = run_loader(wh.loader_destination, path)
    assert code == 0 and out.startswith("Nothing new to load: all 3 events"), out


def test_loader_stores_what_destinations_cannot_hold_as_it_is_duckdb(tmp_path: Path) -> None:
    """NUL characters and lone surrogates in strings (also in sender ids and metadata) are stored as U+FFFD, an
    integer beyond 64 bits as its decimal text: the event loads instead of failing half-way in dlt (which named no
    file or line, and on PostgreSQL had already written part of the load). The record hash is computed on the event
    as Rasa wrote it, so loading the same file again adds nothing. (DuckDB.)"""
    check_unstorable_load(Warehouse("duckdb", duckdb_path=tmp_path / "odd.duckdb"), tmp_path)


def test_loader_stores_what_destinations_cannot_hold_as_it_is_postgres(postgres_server: Any, tmp_path: Path) -> None:
    """As above, on PostgreSQL, whose text type cannot hold a NUL character at all."""
    url = postgres_server.create_database()
    check_unstorable_load(
        Warehouse("postgres", pg_url=url, pg_env=postgres_server.env(url.rsplit("/", 1)[1])), tmp_path
    )


# ---------------------------------------------------------------------------------------------------------------
# the shared source: one sender per case, written by the loader


def conversation(sender_id: str, **kwargs: Any) -> Conversation:
    return Conversation(sender_id, start=T0, **kwargs)


def shared_conversations() -> list[Conversation]:
    out: list[Conversation] = []

    # external user id: a number first (metadata__user_id becomes bigint), then text (dlt variant column
    # metadata__user_id__v_text). This sender's user message must be the first one of the load.
    c = conversation("b-uid-number")
    c.session_start()
    c.user("greet", metadata={"user_id": 7, "external_session_id": 70})
    out.append(c)
    c = conversation("b-uid-text")
    c.session_start()
    c.user("greet", metadata={"user_id": "u-text", "external_session_id": "web-1"})
    out.append(c)

    # a slot set to a string, an object, a number, a list, then reset
    c = conversation("b-slot-types")
    c.session_start()
    c.user("inform")
    c.action("action_set_city", slots={"city": "Berlin"})
    c.action("action_set_city", slots={"city": {"name": "Berlin", "country": "DE"}})
    c.action("action_set_city", slots={"city": 3})
    c.action("action_set_city", slots={"city": ["Berlin", "Rome"]})
    c.action("action_set_city", slots={"city": None})
    out.append(c)

    # events of types the package does not interpret, and one of a type the loader does not know
    c = conversation("b-other-types")
    c.session_start()
    c.user("nlu_fallback", text="asdf")  # user_featurization follows
    c.fallback()  # rewind
    c.event("reminder", name="remind_me", intent="EXTERNAL_reminder", entities=None, date_time="2024-03-01T11:00:00")
    c.event("pause")
    c.event("resume")
    c.event("followup", name="utter_greet")
    c.event("action_execution_rejected", name="booking_form", policy=None, confidence=None)
    c.event("loop_interrupted", is_interrupted=True)
    c.event("my_custom_event", payload={"anything": [1, 2]})
    c.user("restart")
    c.restart(form="old")  # action_restart, restart, action_listen: a new session
    c.user("greet")
    out.append(c)

    # 100 kB of bot metadata (dropped by the loader) and a 100 kB bot message (kept whole)
    c = conversation("b-big")
    c.session_start()
    c.user("tell_story")
    c.action_executed("utter_story")
    c.utter("utter_story", text=BIG_TEXT)
    c.events[-1]["metadata"]["attachment"] = {"blob": "z" * 100_000, "parts": list(range(100))}
    out.append(c)

    # non-ASCII and emoji everywhere: sender id, texts, intent, action and slot names and values
    c = conversation(UNICODE_SENDER)
    c.session_start()
    c.user("grüßen_👋", text="Grüße 👋🏽 你好 — ça va?")
    c.action("action_wetter_☀", say=[("utter_wetter", "Sonnig ☀️ in Zürich")], slots={"städt_🏙": "Zürich 🇨🇭"})
    out.append(c)

    # quotes and backslashes in the sender id, intent, action and slot names and values
    c = conversation(QUOTE_SENDER)
    c.session_start()
    c.user(QUOTE_INTENT, text='it\'s "fine" \\o/')
    c.action(QUOTE_ACTION, say=[("utter_x'", "can't \\ won't")], slots={QUOTE_SLOT: "'; drop table x; --\\"})
    out.append(c)

    # a tracker that holds only action_listen
    c = conversation("b-listen-only")
    c.listen(policy=None, confidence=None)
    out.append(c)

    # a sender that never writes: two sessions with bot messages only
    c = conversation("b-no-user")
    c.session_start()
    c.bot("utter_greet")
    c.wait(hours=2)
    c.session_start()
    c.bot("utter_anything_else")
    out.append(c)

    # a conversation in 2150
    c = Conversation("b-2150", start=datetime(2150, 1, 1, tzinfo=UTC))
    c.session_start()
    c.user("greet")
    c.bot("utter_greet")
    out.append(c)

    # a conversation that goes on in the load whose _loads row is missing (see orphan_conversations)
    c = conversation("b-grows")
    c.session_start()
    c.user("greet")
    out.append(c)
    return out


def with_integer_timestamps(sender_id: str) -> list[dict[str, Any]]:
    """A conversation whose timestamps are JSON integers (whole seconds)."""
    c = Conversation(sender_id, start=T0, tick=1.0)
    c.session_start()
    c.user("greet")
    c.bot("utter_greet")
    events = [{"sender_id": sender_id, **e} for e in c.events]
    for e in events:
        e["timestamp"] = int(e["timestamp"])
        assert isinstance(e["timestamp"], int)
    return events


def with_microsecond_timestamps(sender_id: str) -> list[dict[str, Any]]:
    """A conversation whose timestamps have six decimals, 1 µs apart."""
    c = Conversation(sender_id, start=T0_UNIX + 0.123456, tick=0.000001)
    c.session_start()
    c.user("greet")
    return [{"sender_id": sender_id, **e} for e in c.events]


def orphan_conversations() -> list[Conversation]:
    c = conversation("b-orphan")
    c.session_start()
    c.user("greet")
    c.bot("utter_greet")
    grows = conversation("b-grows").at(T0 + timedelta(minutes=5))
    grows.user("thankyou")
    grows.bot("utter_youre_welcome")
    return [c, grows]


BIG_TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog.\n" for i in range(2000))[:100_000]
UNICODE_SENDER = "b-ünï-👋"
QUOTE_SENDER = "b-q'\"\\"
QUOTE_INTENT = 'it\'s_"quoted"_\\back'
QUOTE_ACTION = "action_'q\"\\"
QUOTE_SLOT = "slot_'\"\\"
EMPTY_LOAD = "1700000000.000001"


@dataclass
class Shared:
    wh: Warehouse
    first: dict[str, list[tuple[Any, ...]]]  # the views after the first build
    orphan_load: str


@pytest.fixture(scope="module")
def shared(warehouses: Warehouses, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """The loader writes every case into one source; SQL adds a `_loads` row without data, and removes the
    `_loads` row of a second load (as if it had failed before committing). Built once; then that `_loads` row
    is written and the source is built again, incrementally."""
    folder = tmp_path_factory.mktemp(f"shared_{warehouses.kind}")
    inputs = folder / "inputs"
    inputs.mkdir()
    write_jsonl(inputs / "a_conversations.jsonl", shared_conversations())
    jsonl(inputs / "b_timestamps.jsonl", *with_integer_timestamps("b-int-ts"), *with_microsecond_timestamps("b-us-ts"))
    unstorable = [{**e, "sender_id": "b-odd"} for e in unstorable_events()]
    jsonl(inputs / "c_unstorable.jsonl", *unstorable)
    (inputs / "d_empty_tracker.json").write_text(json.dumps({"sender_id": "b-empty", "events": []}))

    wh = warehouses.new("bad_input_shared")
    code, out, err = run_loader(wh.loader_destination, inputs, extra=("--allow-unknown-event-types",))
    assert code == 0, (out, err)
    code, out, err = run_loader(
        wh.loader_destination, conversations_file(folder / "orphan.jsonl", orphan_conversations())
    )
    assert code == 0, (out, err)
    orphan_load = re.search(r"load id ([0-9.]+)", out)
    assert orphan_load is not None, out
    loads = '"rasa_event"."_loads"'
    saved = wh.query(
        f"select load_id, schema_name, status, schema_version_hash from {loads} where load_id = '{orphan_load[1]}'"
    )
    assert len(saved) == 1
    wh.execute(f"delete from {loads} where load_id = '{orphan_load[1]}'")
    wh.execute(
        f"insert into {loads} (load_id, schema_name, status, inserted_at, schema_version_hash) "
        f"values ('{EMPTY_LOAD}', 'rasa_event', 0, current_timestamp, '{saved[0][3]}')"
    )
    build(wh, VARS)
    first = snapshot(wh, "rasa")
    load_id, schema_name, status, version_hash = saved[0]
    wh.execute(
        f"insert into {loads} (load_id, schema_name, status, inserted_at, schema_version_hash) "
        f"values ('{load_id}', '{schema_name}', {status}, current_timestamp, '{version_hash}')"
    )
    build(wh, VARS)
    yield Shared(wh, first, orphan_load[1])


def sessions(wh: Warehouse, sender: str) -> list[tuple[Any, ...]]:
    """(session_id, user_id, interactions_count, events_count, is_bounced, initiation, end) of a sender's sessions."""
    return rows(
        wh,
        "select session_id, user_id, interactions_count, events_count, is_bounced, session_initiation_timestamp, "
        f"session_end_timestamp from rasa_views.sessions where sender_id = {literal(sender)}",
    )


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sequence(wh: Warehouse, sender: str) -> list[tuple[Any, ...]]:
    """(sender_event_nr, session_id, interaction_nr, event, value, timestamp) of a sender's events, in order."""
    return wh.query(
        'select sender_event_nr, session_id, interaction_nr, event, value, "timestamp" from rasa_views.event_sequence '
        f"where sender_id = {literal(sender)} order by sender_event_nr"
    )


def test_shared_loader_layout_of_variant_columns(shared: Shared) -> None:
    """Loader: a user metadata field that is a number in one event and text in the next is loaded as dlt does it,
    into the column (bigint) and a variant column (`metadata__user_id__v_text`); a slot value that is a string,
    an object, a number and a list is loaded into `value` (every scalar as text), `value__*` columns (the object's
    fields) and the child table `event_slot__value` (the list)."""
    wh = shared.wh
    types = dict(
        wh.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'rasa_event' and table_name = 'event_user' and column_name like 'metadata__user_id%'"
        )
    )
    assert set(types) == {"metadata__user_id", "metadata__user_id__v_text"}
    assert types["metadata__user_id"].lower() == "bigint"
    slots = wh.query(
        "select value, value__name, value__country from rasa_event.event_slot "
        "where sender_id = 'b-slot-types' and name = 'city' order by \"timestamp\""
    )
    assert slots == [("Berlin", None, None), (None, "Berlin", "DE"), ("3", None, None)] + [(None, None, None)] * 2
    assert rows(
        wh,
        "select c.value from rasa_event.event_slot__value c join rasa_event.event_slot s "
        "on s._record_hash = c._root_hash where s.sender_id = 'b-slot-types'",
    ) == [("Berlin",), ("Rome",)]


def test_shared_external_ids_from_variant_columns(shared: Shared) -> None:
    """Package: external user and session ids are read from the column the var names and from its dlt variant
    columns, so a user id that arrived as text after numbers is not lost (the sender would become its own user)."""
    wh = shared.wh
    assert rows(
        wh,
        "select sender_id, user_id, external_session_id from rasa_views.sessions "
        "where sender_id in ('b-uid-number', 'b-uid-text')",
    ) == [("b-uid-number", "7", "70"), ("b-uid-text", "u-text", "web-1")]
    assert rows(wh, "select user_id from rasa_views.users where user_id in ('7', 'u-text')") == [("7",), ("u-text",)]


def test_shared_slot_value_string_then_object(shared: Shared) -> None:
    """Package: the slot's value as text whatever its JSON type: the string, `'{}'` for the object (its fields
    are in the source's value__* columns), the number's JSON spelling, NULL for the list and for the reset."""
    got = shared.wh.query(
        "select value from rasa_views.slots where sender_id = 'b-slot-types' and name = 'city' order by sequence_nr"
    )
    assert got == [("Berlin",), ("{}",), ("3",), (None,), (None,)]


def test_shared_events_of_other_types(shared: Shared) -> None:
    """Package: events of types it does not interpret (user_featurization, rewind, reminder, pause, resume,
    followup, action_execution_rejected, loop_interrupted, restart) and of a type the loader did not know
    (`my_custom_event`, loaded with --allow-unknown-event-types) are kept in event_sequence, in order, and change
    nothing else: the restart opens the second session (it is action_restart that does), no event opens an
    interaction but the user messages."""
    events = [(r[1], r[2], r[3]) for r in sequence(shared.wh, "b-other-types")]
    others = [e for e in events if e[2] not in ("user", "bot", "action", "slot", "session_started")]
    assert others == [
        ("b-other-types/1", 1, "user_featurization"),
        ("b-other-types/1", 1, "rewind"),
        ("b-other-types/1", 1, "reminder"),
        ("b-other-types/1", 1, "pause"),
        ("b-other-types/1", 1, "resume"),
        ("b-other-types/1", 1, "followup"),
        ("b-other-types/1", 1, "action_execution_rejected"),
        ("b-other-types/1", 1, "loop_interrupted"),
        ("b-other-types/1", 1, "my_custom_event"),
        ("b-other-types/1", 2, "user_featurization"),
        ("b-other-types/2", 0, "restart"),
        ("b-other-types/2", 1, "user_featurization"),
    ]
    got = sessions(shared.wh, "b-other-types")
    assert [(s[0], s[2]) for s in got] == [("b-other-types/1", 2), ("b-other-types/2", 1)]


def test_shared_big_bot_message(shared: Shared) -> None:
    """Loader and package: 100 kB of bot metadata is dropped by the loader (only utter_action, template_name,
    model_id and rasa_x_* are kept), a 100 kB bot message is stored and reported whole."""
    wh = shared.wh
    columns = wh.columns("rasa_event", "event_bot")
    assert not [c for c in columns if c.startswith("metadata__attachment")]
    assert wh.query("select text, utter_action from rasa_views.bot_actions where sender_id = 'b-big'") == [
        (BIG_TEXT, "utter_story")
    ]


def test_shared_non_ascii_and_emoji(shared: Shared) -> None:
    """Loader and package: non-ASCII text and emoji (also in the sender id, the intent, action and slot names)
    arrive unchanged in every view, and in ids built from the sender id."""
    wh, s = shared.wh, literal(UNICODE_SENDER)
    assert wh.query(f"select session_id from rasa_views.sessions where sender_id = {s}") == [(f"{UNICODE_SENDER}/1",)]
    assert wh.query(f"select text, intent_name from rasa_views.user_messages where sender_id = {s}") == [
        ("Grüße 👋🏽 你好 — ça va?", "grüßen_👋")
    ]
    assert ("action_wetter_☀",) in wh.query(f"select action_name from rasa_views.actions where sender_id = {s}")
    assert wh.query(f"select text from rasa_views.bot_actions where sender_id = {s}") == [("Sonnig ☀️ in Zürich",)]
    assert wh.query(f"select name, value from rasa_views.slots where sender_id = {s}") == [("städt_🏙", "Zürich 🇨🇭")]


def test_shared_quotes_and_backslashes(shared: Shared) -> None:
    """Loader and package: quotes and backslashes in the sender id, intent, action and slot names and values are
    data, never SQL: they arrive unchanged, also in the ids built from the sender id (and the incremental run's
    deletes, which select these ids, work on them)."""
    wh, s = shared.wh, literal(QUOTE_SENDER)
    assert wh.query(f"select session_id, first_intent from rasa_views.sessions where sender_id = {s}") == [
        (f"{QUOTE_SENDER}/1", QUOTE_INTENT)
    ]
    assert wh.query(f"select text, intent_name from rasa_views.user_messages where sender_id = {s}") == [
        ('it\'s "fine" \\o/', QUOTE_INTENT)
    ]
    assert (QUOTE_ACTION,) in wh.query(f"select action_name from rasa_views.actions where sender_id = {s}")
    assert wh.query(f"select text, utter_action from rasa_views.bot_actions where sender_id = {s}") == [
        ("can't \\ won't", "utter_x'")
    ]
    assert wh.query(f"select name, value from rasa_views.slots where sender_id = {s}") == [
        (QUOTE_SLOT, "'; drop table x; --\\")
    ]


def test_shared_tracker_with_only_action_listen(shared: Shared) -> None:
    """Package: a tracker with one `action_listen` is a sender with one bounced session of one event, interaction
    0 only."""
    wh = shared.wh
    assert sessions(wh, "b-listen-only") == [("b-listen-only/1", "b-listen-only", 0, 1, True, at(0), at(0))]
    assert [(r[1], r[2], r[3], r[4]) for r in sequence(wh, "b-listen-only")] == [
        ("b-listen-only/1", 0, "action", "action_listen")
    ]
    assert wh.query("select sessions_count from rasa_views.senders where sender_id = 'b-listen-only'") == [(1,)]


def test_shared_sender_without_user_messages(shared: Shared) -> None:
    """Package: a sender that never writes has its sessions (here two, two hours apart), each bounced, with
    interaction 0 only; its user exists with those sessions and no user message."""
    wh = shared.wh
    got = sessions(wh, "b-no-user")
    assert [(s[0], s[2], s[4]) for s in got] == [("b-no-user/1", 0, True), ("b-no-user/2", 0, True)]
    assert wh.query("select distinct interaction_nr from rasa_views.event_sequence where sender_id = 'b-no-user'") == [
        (0,)
    ]
    assert wh.query("select sessions_count, interactions_count from rasa_views.users where user_id = 'b-no-user'") == [
        (2, 0)
    ]
    assert wh.query("select count(*) from rasa_views.user_messages where sender_id = 'b-no-user'") == [(0,)]


def test_shared_integer_microsecond_and_far_future_timestamps(shared: Shared) -> None:
    """Package: integer timestamps, timestamps 1 µs apart and a conversation in 2150 keep their exact times and
    order."""
    wh = shared.wh
    got = [(r[3], r[4], r[5]) for r in sequence(wh, "b-int-ts")]
    assert [t for _, _, t in got] == [at(i) for i in range(len(got))]
    assert got[0][:2] == ("action", "action_session_start")
    micro = [r[5] for r in sequence(wh, "b-us-ts")]
    assert micro == [at(0.123456 + i / 1_000_000) for i in range(len(micro))]
    assert sessions(wh, "b-2150")[0][5] == datetime(2150, 1, 1)


def test_shared_unstorable_values(shared: Shared) -> None:
    """Package: the NUL character, lone surrogate and >64-bit integer of a sender's events (stored by the loader
    as U+FFFD and text) reach the views like any other text."""
    wh = shared.wh
    assert wh.query("select text from rasa_views.user_messages where sender_id = 'b-odd'") == [(f"a{REPLACEMENT}b",)]
    assert wh.query("select text from rasa_views.bot_actions where sender_id = 'b-odd'") == [
        (f"half {REPLACEMENT} emoji",)
    ]


def test_shared_empty_tracker(shared: Shared) -> None:
    """Loader and package: an empty tracker document writes nothing, so its sender appears nowhere."""
    assert shared.wh.query("select count(*) from rasa_event.event where sender_id = 'b-empty'") == [(0,)]
    assert shared.wh.query("select count(*) from rasa_views.senders where sender_id = 'b-empty'") == [(0,)]


def test_shared_loads_row_without_data(shared: Shared) -> None:
    """Package: a `_loads` row of a load that wrote no rows is processed like any other: it changes nothing and
    is marked processed (one status-1 row), so it is not looked at again."""
    assert shared.wh.query(
        f"select status, count(*) from rasa_event._loads where load_id = '{EMPTY_LOAD}' group by status order by 1"
    ) == [(0, 1), (1, 1)]


def test_shared_load_without_loads_row_waits_for_it(shared: Shared) -> None:
    """Package: rows whose load has no `_loads` row are not committed (the load failed or is still running): the
    first run ignores them, both of a new sender and of a sender it knows, and does not mark that load. When the
    `_loads` row appears, the next (incremental) run picks the load up, the sender it extends is recomputed whole,
    and no other sender's rows change."""
    wh, first = shared.wh, shared.first
    assert not [r for r in first["senders"] if r[0] == "b-orphan"]
    grows_first = [r for r in first["event_sequence"] if r[1] == "b-grows"]
    assert {r[4] for r in grows_first} == {"action", "session_started", "user", "user_featurization"}

    assert [(s[0], s[2]) for s in sessions(wh, "b-orphan")] == [("b-orphan/1", 1)]
    grows = sessions(wh, "b-grows")
    assert [(s[0], s[2], s[6]) for s in grows] == [("b-grows/1", 2, grows[0][6])]
    assert grows[0][6] > at(300)
    assert wh.query(
        f"select status, count(*) from rasa_event._loads where load_id = '{shared.orphan_load}' "
        "group by status order by 1"
    ) == [(0, 1), (1, 1)]

    second = snapshot(wh, "rasa")
    for table, before in first.items():
        assert unrelated(second[table]) == unrelated(before), table


def unrelated(table_rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows that belong neither to b-orphan nor to b-grows (as sender or user)."""
    return [r for r in table_rows if not {"b-orphan", "b-grows"} & {str(v) for v in r}]


def test_shared_same_views_on_every_warehouse(shared: Shared) -> None:
    """Contract §4.1 on this source: the views are the same on every warehouse kind."""
    same_on_every_kind("bad_input_shared", shared.wh)


# ---------------------------------------------------------------------------------------------------------------
# a foreign source: written with SQL


FOREIGN_DDL = [
    "create schema rasa_event",
    # the contract's _loads: load_id, status, inserted_at (no schema_name, no schema_version_hash)
    "create table rasa_event._loads (load_id varchar, status bigint, inserted_at timestamptz)",
    "insert into rasa_event._loads values ('f1', 0, timestamptz '2024-03-01 12:00:00+00')",
    # only the required columns; the event time as a timestamp with time zone
    "create table rasa_event.event_user (_record_hash varchar, _load_id varchar, sender_id varchar, "
    '"timestamp" timestamptz, parse_data__intent__name varchar)',
    # the event time as unix seconds, a float (as a Rasa SQLTrackerStore keeps it)
    "create table rasa_event.event_action (_record_hash varchar, _load_id varchar, sender_id varchar, "
    '"timestamp" double precision, name varchar)',
    # the event time as unix seconds, an integer; slot values as another dlt pipeline may leave them: a bigint
    # column and a variant column for the text values
    "create table rasa_event.event_slot (_record_hash varchar, _load_id varchar, sender_id varchar, "
    '"timestamp" bigint, name varchar, value bigint, value__v_text varchar)',
    # the event time as text: rejected (the table is re-created below with a timestamp without time zone)
    "create table rasa_event.event_bot (_record_hash varchar, _load_id varchar, sender_id varchar, "
    '"timestamp" varchar, text varchar)',
    # the common table, for events of other types
    "create table rasa_event.event (_record_hash varchar, _load_id varchar, sender_id varchar, "
    '"timestamp" timestamptz, event varchar)',
]
FOREIGN_BOT_FIXED = [
    "drop table rasa_event.event_bot",
    "create table rasa_event.event_bot (_record_hash varchar, _load_id varchar, sender_id varchar, "
    '"timestamp" timestamp, text varchar)',
]


def foreign_rows(bot_time: Callable[[float], str]) -> list[str]:
    """The rows of the foreign source; `bot_time` spells a bot event's time (seconds after T0) for its column."""

    def tz(seconds: float) -> str:
        return f"timestamptz '{at(seconds).isoformat(sep=' ')}+00'"

    def user(h: str, sender: str, seconds: float | None, intent: str) -> str:
        time = tz(seconds) if seconds is not None else "null"
        return f"insert into rasa_event.event_user values ('{h}', 'f1', {sender}, {time}, '{intent}')"

    def act(h: str, sender: str, seconds: str, name: str) -> str:
        return f"insert into rasa_event.event_action values ('{h}', 'f1', {sender}, {seconds}, '{name}')"

    u = T0_UNIX
    return [
        # f-conv: one conversation over four tables whose times are stored four ways
        act("a1", "'f-conv'", f"{u}.0", "action_session_start"),
        act("a2", "'f-conv'", f"{u}.5", "action_listen"),
        user("u1", "'f-conv'", 10, "greet"),
        act("a3", "'f-conv'", f"{u + 11}.25", "utter_greet"),
        f"insert into rasa_event.event_bot values ('b1', 'f1', 'f-conv', {bot_time(11.5)}, 'Hi!')",
        f"insert into rasa_event.event_slot values ('s1', 'f1', 'f-conv', {u + 12}, 'mood', null, 'happy')",
        # the same time as s1: without positions (_event_pos), the record hash orders them
        f"insert into rasa_event.event_slot values ('s2', 'f1', 'f-conv', {u + 12}, 'count', 3, null)",
        act("a4", "'f-conv'", f"{u + 12}.5", "action_listen"),
        f"insert into rasa_event.event values ('e1', 'f1', 'f-conv', {tz(13)}, 'restart')",
        user("u2", "'f-conv'", 20, "goodbye"),
        # rows that cannot be placed: no sender, no time, no event type
        user("u3", "null", 5, "greet"),
        act("a5", "null", f"{u + 5}", "action_listen"),
        user("u4", "'f-null-time'", None, "greet"),
        act("a6", "'f-null-time'", f"{u + 1}", "action_listen"),
        f"insert into rasa_event.event values ('e2', 'f1', 'f-conv', {tz(14)}, null)",
        # no identity: without a _record_hash, duplicates could not be told apart
        f"insert into rasa_event.event_action values (null, 'f1', 'f-null-time', {u + 2}, 'no_record_hash')",
        # f-bad-time: numbers that are no unix seconds
        act("a7", "'f-bad-time'", f"{u}", "action_listen"),
        act("a8", "'f-bad-time'", "cast('NaN' as double precision)", "nan_time"),
        act("a9", "'f-bad-time'", "cast('Infinity' as double precision)", "infinite_time"),
        act("a10", "'f-bad-time'", "-5", "negative_time"),
        act("a11", "'f-bad-time'", f"{u}000", "millisecond_time"),
    ]


@dataclass
class Foreign:
    wh: Warehouse
    text_error: str  # the message of the build on text timestamps
    after_text_error: dict[str, list[Any]]  # the warehouse after it
    before_build: dict[str, list[Any]]  # the warehouse before it
    final_error: str  # the message of the second build ('' when it succeeded)


@pytest.fixture(scope="module")
def foreign(warehouses: Warehouses) -> Foreign:
    """A source written with SQL. Built first with bot times stored as text (an error), then with that table
    re-created with a timestamp without time zone."""
    wh = warehouses.new("bad_input_foreign")
    for sql in FOREIGN_DDL + foreign_rows(lambda s: f"'{at(s).isoformat(sep=' ')}'"):
        wh.execute(sql)
    before = contents(wh)
    try:
        build(wh, VARS)
        text_error = ""
    except DbtFailed as ex:
        text_error = str(ex)
    after = contents(wh)
    for sql in FOREIGN_BOT_FIXED + [
        r for r in foreign_rows(lambda s: f"timestamp '{at(s).isoformat(sep=' ')}'") if "event_bot" in r
    ]:
        wh.execute(sql)
    try:
        build(wh, VARS)
        final_error = ""
    except DbtFailed as ex:
        final_error = str(ex)
    return Foreign(wh, text_error, after, before, final_error)


def test_foreign_text_timestamps_are_a_clear_error(foreign: Foreign) -> None:
    """Package: an event time stored as text (here in event_bot) has no defined format or time zone, so the
    package does not guess: the run stops before it reads any event, with a message that names the table, the
    column and its type, and what to store instead. The source is unchanged (no processed-load mark) and no view
    that depends on the events is written."""
    message = foreign.text_error
    assert re.search(
        r'column "timestamp" of source table \S*"rasa_event"\."event_bot" has type (varchar|character '
        r"varying)\b",
        message,
    ), message
    assert "a timestamp column (with time zone, or without one in UTC) or from unix seconds" in message
    after = foreign.after_text_error
    assert {t: after.get(t) for t in foreign.before_build} == foreign.before_build
    # (the bot models do not depend on the events: that view is complete, and empty: no _model schema)
    assert not [t for t in VIEW_TABLES if t != "models" and f"rasa_views.{t}" in after]


def test_foreign_missing_optional_tables_and_columns(foreign: Foreign) -> None:
    """Package: a source with only the required tables and columns (no event_active_loop, event_session_started,
    _version; no model_id, environment, _event_pos, _root_hash, event, text, policy, confidence, metadata columns)
    builds: the missing parts read as NULL / empty. Without metadata__user_id the sender is its own user."""
    wh = foreign.wh
    assert sessions(wh, "f-conv") == [("f-conv/1", "f-conv", 2, 10, False, at(0), at(20))]
    assert wh.query(
        "select intent_name, text, intent_confidence, input_channel, model_id, environment "
        "from rasa_views.user_messages where sender_id = 'f-conv' order by \"timestamp\""
    ) == [("greet", None, None, None, None, None), ("goodbye", None, None, None, None, None)]
    assert wh.query("select distinct policy, confidence from rasa_views.actions where sender_id = 'f-conv'") == [
        (None, None)
    ]


def test_foreign_slot_values_in_variant_columns(foreign: Foreign) -> None:
    """Package: a slot value column whose type is a number, with the text values in a dlt variant column
    (`value__v_text`), as a dlt pipeline that does not turn slot values into text leaves it: each slot's value is
    read from whichever of them holds it, as text."""
    assert foreign.wh.query(
        "select name, value from rasa_views.slots where sender_id = 'f-conv' order by sequence_nr"
    ) == [("mood", "happy"), ("count", "3")]


def test_foreign_timestamps_stored_as_numbers_and_without_time_zone(foreign: Foreign) -> None:
    """Package: an event time stored as unix seconds (a float or an integer, as a SQLTrackerStore keeps it) is
    converted; a timestamp without time zone is taken as UTC as it is (the PostgreSQL test server runs in
    Asia/Kolkata: a conversion through the session's time zone would move it by 5:30 and reorder the events)."""
    assert [(r[3], r[4], r[5]) for r in sequence(foreign.wh, "f-conv")] == [
        ("action", "action_session_start", at(0)),
        ("action", "action_listen", at(0.5)),
        ("user", "greet", at(10)),
        ("action", "utter_greet", at(11.25)),
        ("bot", None, at(11.5)),
        ("slot", "mood", at(12)),
        ("slot", "count", at(12)),
        ("action", "action_listen", at(12.5)),
        ("restart", None, at(13)),
        ("user", "goodbye", at(20)),
    ]


def test_foreign_rows_without_sender_time_or_type_are_left_out(foreign: Foreign) -> None:
    """Package: rows that cannot be placed in a conversation are left out: no sender_id, no timestamp, an event
    time that is no unix time from 1970 to 2200 (NaN, infinite, negative, milliseconds; reading them would stop
    the run on PostgreSQL), rows of the common `event` table without an event type, and rows without a
    _record_hash (f-null-time's `no_record_hash` action). The sender's other events are kept."""
    wh = foreign.wh
    for view in ("event_sequence", "sessions", "interactions", "senders", "user_messages", "actions"):
        assert wh.query(f"select count(*) from rasa_views.{view} where sender_id is null") == [(0,)], view
    assert wh.query("select count(*) from rasa_views.users where user_id is null") == [(0,)]
    assert [(r[3], r[4], r[5]) for r in sequence(wh, "f-null-time")] == [("action", "action_listen", at(1))]
    assert [(r[3], r[4], r[5]) for r in sequence(wh, "f-bad-time")] == [("action", "action_listen", at(0))]
    hashes = {r[0] for r in wh.query("select _record_hash from rasa_views.event_sequence")}
    assert not hashes & {"u3", "a5", "u4", "e2", "a8", "a9", "a10", "a11"}


def test_foreign_loads_table_of_the_contract_is_marked(foreign: Foreign) -> None:
    """Package: the contract's `_loads(load_id, status, inserted_at)` (the prerequisite gate asks only for
    load_id and status) is enough: the run succeeds and marks the load processed."""
    assert foreign.final_error == ""
    assert foreign.wh.query("select status from rasa_event._loads where load_id = 'f1' order by 1") == [(0,), (1,)]


def test_foreign_same_views_on_every_warehouse(foreign: Foreign) -> None:
    """Contract §4.1 on the foreign source: the views are the same on every warehouse kind."""
    same_on_every_kind("bad_input_foreign", foreign.wh)
