"""Faults during a run and concurrent runs (GitHub issue 5): no load is marked processed by a run that did not finish,
the next run produces exactly what an uninterrupted run would, and two runs at once cannot duplicate rows.

Every test starts from the same warehouse (`base`): a first load built, then two more loads committed and not yet
processed (`base.pending`). In them a sender's external user id changes (first seen without one, then with metadata
user_id), and another sender of its old user is not touched by the new loads: the old user must be recomputed
although nothing new arrived for it. The reference is a copy of `base` after one uninterrupted run; a test makes a
copy, injects its fault, recovers, and compares every view and KPI table and the `_loads` ledger with the reference.

The faults:
- a model fails mid-run, after `senders` was rewritten (a NOT NULL column without default added to its table makes
  its insert fail at run time);
- dbt killed with SIGKILL at several points of a run (a subprocess; killed when a chosen model starts or has been
  built, one of them picked at random with a fixed seed); the next run refuses because of the killed run's lock
  (macros/lifecycle/run_lock.sql), `dbt run-operation rasa_semantic_schema.release_run_lock` releases it;
- PostgreSQL: the run's connections terminated (pg_terminate_backend) while it runs;
- two runs at once: started together, then a second run started while the first one holds the lock.

dbt runs in-process (tests/dbtkit.py) where a fault needs no separate process, and as a subprocess (`dbt` of this
virtualenv) where it is killed, stopped or raced. A subprocess sees the warehouse where dbtkit puts it while dbt
runs (dbtkit._activated: the same DuckDB path or PostgreSQL database name for every warehouse of a kind) with the
same --vars and target folder, so that it reuses the partial parse of the in-process runs.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbtkit import (
    ACTIVE_PG_DATABASE,
    APP_VARS,
    ROOT,
    VIEW_TABLES,
    WAREHOUSE_KINDS,
    Warehouse,
    Warehouses,
    _activated,
    _environ,
    _pg_admin,
    _target_path,
    build,
    dbt,
    describe,
    load,
    snapshot,
)

from rasa_tracker_loader.conversation import Conversation, write_jsonl

VARS = APP_VARS
VARS_TEXT = yaml.safe_dump(dict(VARS), default_flow_style=True, width=10_000).strip()
DBT_BIN = Path(sys.executable).with_name("dbt")
KPI_TABLES = ("message_latency", "interaction_latency", "session_latency", "session_outcomes", "daily_kpis")
KPI_VIEWS = ("intent_transitions", "slot_funnel")
# the primary key of every table the runs write (README_SCHEMA.md, models/kpis/kpis.yml)
KEYS = {
    "event_sequence": "_record_hash",
    "interactions": "interaction_id",
    "sessions": "session_id",
    "senders": "sender_id",
    "users": "user_id",
    "user_messages": "user_message_record_hash",
    "bot_actions": "bot_record_hash",
    "actions": "action_record_hash",
    "slots": "slot_record_hash",
    "models": "model_id",
    "message_latency": "message_record_hash",
    "interaction_latency": "interaction_id",
    "session_latency": "session_id",
    "session_outcomes": "session_id",
    "daily_kpis": "kpi_date, input_channel, environment, model_id",
}
LOCK_TABLE = "rasa_event._run_lock"
REFUSED = "another dbt run holds the run lock of this destination"
RELEASE = "dbt run-operation rasa_semantic_schema.release_run_lock"
DUCKDB_FILE_LOCK = "Could not set lock on file"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
# senders of the scenario: PHONE is first seen without an external user id (its user is the sender itself), its
# second load brings metadata user_id "alice"; LAPTOP's user is "phone-7f3a" (metadata), the old user of PHONE,
# and the new loads do not touch it: its sessions are renumbered (1, 2 instead of 3, 4) only through PHONE.
PHONE, LAPTOP, CAROL, ANON = "phone-7f3a", "laptop-91c2", "carol-web", "anon-55"


# ------------------------------------------------------------------------------------------------ data


def scenario_loads() -> list[list[tuple[str, list[dict[str, Any]]]]]:
    """Three loads of (sender, events): the first is built before every test, the other two are pending."""
    phone = Conversation(PHONE, start=T0)
    phone.session_start()
    phone.user("greet", text="hi")
    phone.bot("utter_greet")
    phone.user("book_flight", after=20)
    phone.bot("utter_anything_else")
    phone.wait(hours=3)
    phone.session_start()
    phone.user("check_booking", text="my booking?")
    phone.bot("utter_anything_else")
    phone_first = len(phone.events)
    phone.wait(days=1)
    phone.session_start(metadata={"user_id": "alice"})
    phone.user("greet", metadata={"user_id": "alice"})
    phone.bot("utter_greet")
    phone.user("thankyou", after=30, metadata={"user_id": "alice"})
    phone.bot("utter_anything_else")

    laptop = Conversation(LAPTOP, start=datetime(2024, 5, 6, 15, 0, tzinfo=UTC))
    for hours in (0, 2):
        laptop.wait(hours=hours)
        laptop.session_start(metadata={"user_id": PHONE})
        laptop.user("greet", metadata={"user_id": PHONE})
        laptop.bot("utter_greet")
        laptop.user("out_of_scope", after=10, metadata={"user_id": PHONE})
        laptop.bot("utter_default")

    carol = Conversation(CAROL, start=datetime(2024, 5, 6, 11, 0, tzinfo=UTC))
    carol.session_start(metadata={"user_id": "carol"})
    carol.user("book_flight", metadata={"user_id": "carol"})
    carol.form_start("booking_form", ask="departure")
    carol_first = len(carol.events)
    carol.user("inform", text="Berlin", slots={"departure": "Berlin"}, after=15, metadata={"user_id": "carol"})
    carol.form_step(fill={"departure": "Berlin"}, ask="destination")
    carol.user("inform", text="Oslo", slots={"destination": "Oslo"}, after=15, metadata={"user_id": "carol"})
    carol.form_step(fill={"destination": "Oslo"})
    carol.form_end()
    carol.user("thankyou", after=5, metadata={"user_id": "carol"})

    anon = Conversation(ANON, start=datetime(2024, 5, 7, 8, 0, tzinfo=UTC))
    anon.session_start()
    anon.user("greet")
    anon.bot("utter_greet")
    anon.user("request_human", after=12)
    anon.handoff()

    return [
        [(PHONE, phone.events[:phone_first]), (LAPTOP, laptop.events), (CAROL, carol.events[:carol_first])],
        [(PHONE, phone.events[phone_first:]), (ANON, anon.events)],
        [(CAROL, carol.events[carol_first:])],
    ]


# ------------------------------------------------------------------------------------------------ warehouse state


@dataclass(frozen=True)
class Base:
    warehouse: Warehouse
    pending: tuple[str, ...]  # the load ids the next run processes


@dataclass(frozen=True)
class State:
    tables: dict[str, list[tuple[Any, ...]]]  # every table and view of rasa_views
    ledger: list[tuple[Any, ...]]  # (load_id, status) of every row of the ledger, sorted


def state(wh: Warehouse) -> State:
    """Every row of every table and view in rasa_views (dbtkit.snapshot: the views, the KPIs and whatever else the
    package keeps there), and the ledger."""
    names = wh.query("select table_name from information_schema.tables where table_schema = 'rasa_views'")
    ledger = sorted(wh.query("select load_id, status from rasa_event._loads"), key=str)
    return State(snapshot(wh, "rasa", tables=sorted(n[0] for n in names)), ledger)


def assert_as_reference(wh: Warehouse, reference: State, context: str) -> None:
    got = state(wh)
    assert sorted(got.tables) == sorted(reference.tables), context
    for table in reference.tables:
        mine, theirs = got.tables[table], reference.tables[table]
        only_mine = [r for r in mine if r not in theirs][:3]
        only_theirs = [r for r in theirs if r not in mine][:3]
        assert mine == theirs, (
            f"{context}: rasa_views.{table} differs from an uninterrupted run: "
            f"{len(mine)} rows vs {len(theirs)}; only here {only_mine}; only in the reference {only_theirs}"
        )
    assert got.ledger == reference.ledger, f"{context}: the ledger differs: {got.ledger} vs {reference.ledger}"


def marked(wh: Warehouse, loads: Sequence[str]) -> dict[str, int]:
    """How many status-1 rows each load has in the ledger."""
    ids = ", ".join(f"'{i}'" for i in loads)
    rows = wh.query(
        f"select load_id, count(*) from rasa_event._loads where status = 1 and load_id in ({ids}) group by load_id"
    )
    counts = {str(r[0]): int(r[1]) for r in rows}
    return {i: counts.get(i, 0) for i in loads}


def assert_no_duplicates(wh: Warehouse, context: str) -> None:
    with wh.session() as query:
        for table, key in KEYS.items():
            dup = query(f"select {key}, count(*) from rasa_views.{table} group by {key} having count(*) > 1")
            assert not dup, f"{context}: duplicated rows in rasa_views.{table}: {dup[:3]}"
        dup = query("select load_id, status, count(*) from rasa_event._loads group by 1, 2 having count(*) > 1")
        assert not dup, f"{context}: loads marked more than once: {dup}"


def lock_rows(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(f"select run_id, command from {LOCK_TABLE} order by started_at")


# ------------------------------------------------------------------------------------------------ dbt as a process


@dataclass
class DbtProcess:
    """`dbt <args>` in a subprocess; its output is collected line by line as it comes."""

    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 120) -> bool:
        """Wait until a line matches `pattern` (True) or the process ends without one (False)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            while seen < len(self.lines):
                if regex.search(self.lines[seen]):
                    return True
                seen += 1
            if self.popen.poll() is not None and self.reader is not None and not self.reader.is_alive():
                return any(regex.search(line) for line in self.lines[seen:])
            time.sleep(0.005)
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{self.output[-3000:]}")

    def finish(self, timeout: float = 180) -> int:
        code = self.popen.wait(timeout=timeout)
        if self.reader is not None:
            self.reader.join(timeout=10)
        return code

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.finish()


def start_dbt(wh: Warehouse, args: Sequence[str], target: Path | None = None) -> DbtProcess:
    """Start dbt on `wh`, which must be activated (see `active`)."""
    target = target or _target_path(wh.kind, ROOT, VARS_TEXT)
    cmd = [str(DBT_BIN), *args, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT), "--profile", wh.profile]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs"), "--no-write-json", "--no-use-colors"]
    cmd += ["--vars", VARS_TEXT]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    popen = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
    )
    process = DbtProcess(popen)
    process.reader = threading.Thread(target=process._read, daemon=True)
    process.reader.start()
    _STARTED.append(process)
    return process


# the dbt processes started by start_dbt; `active` ends those still running when it exits (a failed assertion)
_STARTED: list[DbtProcess] = []


@contextmanager
def active(wh: Warehouse) -> Iterator[None]:
    """The warehouse where dbtkit puts it while dbt runs, the environment of its profile set: for subprocesses."""
    with _environ(wh.env()), _activated(wh):
        try:
            yield
        finally:
            while _STARTED:
                process = _STARTED.pop()
                if process.popen.poll() is None:
                    process.popen.send_signal(signal.SIGCONT)
                    process.kill()


def while_active(wh: Warehouse) -> Warehouse:
    """PostgreSQL: `wh` under the name dbtkit gives its database while dbt runs (see `active`), to query meanwhile."""
    assert wh.kind == "postgres"
    return Warehouse("postgres", pg_env={**wh.pg_env, "PG_DATABASE_NAME": ACTIVE_PG_DATABASE})


def model_line(phase: str, model: str) -> str:
    """The stdout line of dbt when `model` starts (phase START) or has been built (phase OK)."""
    word = "START" if phase == "START" else "OK created"
    return rf"\d+ of \d+ {word} sql \w+ model rasa_\w+\.{re.escape(model)} "


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def base(warehouses: Warehouses, tmp_path_factory: pytest.TempPathFactory) -> Base:
    tmp = tmp_path_factory.mktemp("faults")
    wh = warehouses.new("faults_base")
    paths = []
    for i, part in enumerate(scenario_loads()):
        path = tmp / f"load{i}.jsonl"
        write_jsonl(path, part)
        paths.append(path)
    load(wh, "rasa", paths[0])
    build(wh, VARS)
    assert lock_rows(wh) == [], "a finished build leaves no lock"
    load(wh, "rasa", paths[1])
    load(wh, "rasa", paths[2])
    pending = tuple(
        sorted(
            str(r[0])
            for r in wh.query(
                "select load_id from rasa_event._loads l where status = 0 and not exists "
                "(select 1 from rasa_event._loads p where p.load_id = l.load_id and p.status = 1)"
            )
        )
    )
    assert len(pending) == 2
    return Base(wh, pending)


@pytest.fixture(scope="module")
def reference(warehouses: Warehouses, base: Base) -> State:
    """`base` after one uninterrupted run."""
    wh = warehouses.copy(base.warehouse, "reference")
    dbt(["run"], wh, vars=VARS)
    ref = state(wh)
    assert set(VIEW_TABLES + KPI_TABLES + KPI_VIEWS) <= set(ref.tables), sorted(ref.tables)
    # the scenario is there: PHONE moved to user alice, its old user keeps LAPTOP, renumbered from 1
    users = {r[0]: r[1] for r in wh.query("select sender_id, user_id from rasa_views.senders")}
    assert users[PHONE] == "alice" and users[LAPTOP] == PHONE and users[CAROL] == "carol"
    assert wh.query(f"select session_nr from rasa_views.sessions where sender_id = '{LAPTOP}' order by 1") == [
        (1,),
        (2,),
    ]
    assert marked(wh, base.pending) == dict.fromkeys(base.pending, 1)
    assert_no_duplicates(wh, "reference")
    return ref


# ------------------------------------------------------------------------------------------------ a model fails


def test_failing_model_marks_nothing_and_the_next_run_catches_up(
    warehouses: Warehouses, base: Base, reference: State
) -> None:
    """A model fails at run time after `senders` was rewritten (session_outcomes runs next to senders, and the ledger
    after it): the run fails, no load is marked, its lock is released (on-run-end), and the next run equals an
    uninterrupted one. (tests/test_lifecycle.py fails `slots`, which runs before senders.)"""
    wh = warehouses.copy(base.warehouse, "fail")
    # session_outcomes gets a NOT NULL column without default: the run's insert, which does not fill it, fails
    table = "rasa_views.session_outcomes"
    wh.execute(f"alter table {table} add column rss_injected_fault integer default 0")
    wh.execute(f"alter table {table} alter column rss_injected_fault set not null")
    wh.execute(f"alter table {table} alter column rss_injected_fault drop default")
    result = dbt(["run"], wh, vars=VARS, expect_success=False)
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    assert statuses["session_outcomes"] == "error", describe(result)
    assert statuses["senders"] == "success", "the fault comes after senders was rewritten"
    assert statuses["_loads"] == "skipped", statuses
    assert marked(wh, base.pending) == dict.fromkeys(base.pending, 0), "a failed run must not mark its loads"
    assert lock_rows(wh) == [], "on-run-end releases the lock of a failed run"
    wh.execute(f"alter table {table} drop column rss_injected_fault")
    dbt(["run"], wh, vars=VARS)
    assert_as_reference(wh, reference, "run after session_outcomes failed")
    assert_no_duplicates(wh, "run after session_outcomes failed")


# ------------------------------------------------------------------------------------------------ dbt killed

MODELS = sorted(p.stem for p in (ROOT / "models").rglob("*.sql"))
# where the runs are killed, one after the other on the same warehouse: when a model starts or has been built. One
# point picked at random (fixed seed), then `senders` built (while the KPIs of its sessions are not), then the ledger
# starting (its insert may or may not be committed when the kill lands).
_RNG = random.Random(20240506)
KILL_POINTS = [(_RNG.choice(["START", "OK"]), _RNG.choice(MODELS)), ("OK", "senders"), ("START", "_loads")]


def test_killed_runs(warehouses: Warehouses, base: Base, reference: State) -> None:
    """dbt killed (SIGKILL) in the middle of a run, three times in a row at different points: each time the loads are
    marked only if the whole run's output is there, and the next run refuses because of the killed run's lock
    (released with the run-operation). Then a run equals an uninterrupted one, with every load marked once."""
    wh = warehouses.copy(base.warehouse, "killed")
    for i, (phase, model) in enumerate(KILL_POINTS):
        context = f"kill {i + 1} at {phase} {model}"
        with active(wh):
            run = start_dbt(wh, ["run"])
            assert run.wait_for(model_line(phase, model)), f"{context}: dbt ended first:\n{run.output[-3000:]}"
            run.kill()
        assert run.popen.returncode == -signal.SIGKILL, context
        holders = lock_rows(wh)
        assert len(holders) == 1 and holders[0][1] == "run", f"{context}: the killed run's lock stays: {holders}"
        counts = marked(wh, base.pending)
        if set(counts.values()) != {0}:
            # killed after the ledger's insert was committed: every load is marked once and the views are complete
            assert counts == dict.fromkeys(base.pending, 1), f"{context}: {counts}"
            assert state(wh).tables == reference.tables, f"{context}: loads marked, yet the output is incomplete"
        if i == 0:
            # the next run refuses, naming the killed run, the lock table and the way out
            message = describe(dbt(["run"], wh, vars=VARS, expect_success=False))
            assert REFUSED in message and RELEASE in message and LOCK_TABLE.split(".")[1] in message, message
            assert f"run {holders[0][0]} (dbt run, started at " in message, message
            assert lock_rows(wh) == holders, "a refused run leaves the lock as it was"
        dbt(["run-operation", "rasa_semantic_schema.release_run_lock"], wh, vars=VARS)
        assert lock_rows(wh) == [], context
    dbt(["run"], wh, vars=VARS)
    assert lock_rows(wh) == [], "a finished run leaves no lock"
    assert_as_reference(wh, reference, f"run after {len(KILL_POINTS)} killed runs")
    assert_no_duplicates(wh, "after the killed runs")


def test_stale_lock_expires(warehouses: Warehouses, base: Base, reference: State) -> None:
    """A lock left by a run that died long ago (older than var `run_lock_timeout_minutes`) no longer holds: the next
    run deletes it and runs. A younger one refuses the run, which changes nothing."""
    wh = warehouses.copy(base.warehouse, "stale")
    wh.execute(f"insert into {LOCK_TABLE} values ('dead-run', timestamp '2000-01-01 00:00:00', 'run')")
    century = {**VARS, "run_lock_timeout_minutes": 60 * 24 * 365 * 100}
    message = describe(dbt(["run"], wh, vars=century, expect_success=False))
    assert REFUSED in message and "run dead-run (dbt run, started at 2000-01-01 00:00:00 UTC)" in message, message
    assert marked(wh, base.pending) == dict.fromkeys(base.pending, 0), "a refused run marks nothing"
    dbt(["run"], wh, vars=VARS)
    assert lock_rows(wh) == [], "the stale lock was deleted, and the run released its own"
    assert_as_reference(wh, reference, "run after a stale lock")
    assert_no_duplicates(wh, "run after a stale lock")


# ------------------------------------------------------------------------------------------------ connection lost


# PostgreSQL only: DuckDB is embedded, it has no connection that can drop, only a process that can die (above)
@pytest.mark.parametrize("warehouses", [k for k in WAREHOUSE_KINDS if k == "postgres"], indirect=True)
def test_connections_terminated_mid_run(warehouses: Warehouses, base: Base, reference: State) -> None:
    """PostgreSQL: every connection of the run is terminated (pg_terminate_backend, as a server restart or a network
    cut would) after `senders` was rewritten: the models still running fail, the ledger is skipped, nothing is
    marked, on-run-end (on a new connection) releases the lock, and the next run equals an uninterrupted one."""
    wh = warehouses.copy(base.warehouse, "dropped")
    with active(wh):
        run = start_dbt(wh, ["run"])
        assert run.wait_for(model_line("OK", "senders"))
        terminated = _pg_admin(
            wh.pg_env,
            "select pid, pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = %s and pid <> pg_backend_pid()",
            (ACTIVE_PG_DATABASE,),
        )
        code = run.finish()
    assert terminated, "the run had connections to terminate"
    assert code != 0 and "server closed the connection unexpectedly" in run.output, run.output[-3000:]
    assert marked(wh, base.pending) == dict.fromkeys(base.pending, 0), "a failed run must not mark its loads"
    # dbt closes a connection when a node or hook is done with it: on-run-end opens a new one and releases the lock
    assert lock_rows(wh) == [], run.output[-3000:]
    dbt(["run"], wh, vars=VARS)
    assert_as_reference(wh, reference, "run after the connections were terminated")
    assert_no_duplicates(wh, "after the connections were terminated")


# ------------------------------------------------------------------------------------------------ two runs at once


def assert_refused(kind: str, output: str, holder: str | None = None) -> None:
    """A run that lost the race: refused by the run lock, or (DuckDB) by the engine's lock on the database file."""
    if kind == "duckdb" and DUCKDB_FILE_LOCK in output:
        return
    assert REFUSED in output, output[-3000:]
    if holder is not None:
        assert f"run {holder} (dbt run, started at " in output, output[-3000:]


def test_concurrent_runs(warehouses: Warehouses, base: Base, reference: State) -> None:
    """Two runs started at the same moment on the same warehouse: whichever way the race goes (one refused, both
    refused, or one after the other), no row is duplicated and no load is marked twice. Then one more run, and a
    second run started while that one is in the middle of its models (held there with SIGSTOP): the second refuses
    and changes nothing, the first completes as if alone, and the views equal an uninterrupted run's.
    On DuckDB the engine itself refuses a second process (its lock on the database file); on PostgreSQL the run lock
    does, naming the run that holds it."""
    wh = warehouses.copy(base.warehouse, "concurrent")
    with active(wh):
        race = [start_dbt(wh, ["run"]), start_dbt(wh, ["run"], target=private_target(wh))]
        codes = [run.finish() for run in race]
    outcome = f"two runs at once, exit codes {codes}"
    for run, code in zip(race, codes, strict=True):
        if code != 0:
            assert_refused(wh.kind, run.output)
    if wh.kind == "duckdb":
        # one process at a time has the database file: the other fails to open it, or runs after the first one
        assert 0 in codes, [run.output[-2000:] for run in race]
    assert lock_rows(wh) == [], outcome
    assert_no_duplicates(wh, outcome)
    counts = marked(wh, base.pending)
    assert len(set(counts.values())) == 1 and set(counts.values()) <= {0, 1}, f"{outcome}: {counts}"
    if set(counts.values()) == {1}:
        assert_as_reference(wh, reference, f"{outcome}: the run that won")

    with active(wh):
        first = start_dbt(wh, ["run"])
        assert first.wait_for(model_line("START", "stg_events"))
        first.popen.send_signal(signal.SIGSTOP)
        try:
            # (DuckDB: the stopped run has the database file; PostgreSQL: its database is renamed while dbt runs)
            holder = lock_rows(while_active(wh))[0][0] if wh.kind == "postgres" else None
            second = start_dbt(wh, ["run"], target=private_target(wh))
            assert second.finish() != 0, second.output[-3000:]
        finally:
            first.popen.send_signal(signal.SIGCONT)
        assert first.finish() == 0, first.output[-3000:]
    if wh.kind == "duckdb":
        assert DUCKDB_FILE_LOCK in second.output, second.output[-3000:]
    else:
        assert_refused(wh.kind, second.output, holder)
    assert lock_rows(wh) == []
    assert_as_reference(wh, reference, f"{outcome}, then a run with a second one refused")
    assert_no_duplicates(wh, f"{outcome}, then a run with a second one refused")


def private_target(wh: Warehouse) -> Path:
    """A copy of the shared target folder (its partial parse), for a second dbt process running at the same time."""
    shared = _target_path(wh.kind, ROOT, VARS_TEXT)
    private = shared.with_name(shared.name + "_second")
    if not private.exists():
        shutil.copytree(shared, private, ignore=shutil.ignore_patterns("logs"))
    return private
