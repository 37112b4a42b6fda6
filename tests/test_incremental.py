"""Incremental runs equal a full refresh (contract §4 item 2), property-based over random load schedules.

A schedule takes the generated conversations of the demo assistant and delivers them as several loads: split by
sender, by points in time (late events continue existing sessions) or event by event (sessions scattered over
loads), applied in a random order (loads arriving out of time order), with part of the rows delivered a second
time under another load id (a pipeline re-delivery, written straight into the source tables as a pipeline
would), into the source prefix or another destination prefix. After every load the package runs incrementally;
at the end every view must equal, row for row and column for column, what `--full-refresh` produces.

It runs on each warehouse kind: RSS_HYPOTHESIS_EXAMPLES schedules on DuckDB (default 6), RSS_HYPOTHESIS_EXAMPLES_PG on
PostgreSQL (default 3; each schedule there costs more dbt and loader time).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbtkit import APP_VARS, Warehouse, Warehouses, build, dbt, load, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasa_tracker_loader.conversation import write_jsonl
from rasa_tracker_loader.generator import generate, generate_scenario_set

EXAMPLES = {
    "duckdb": int(os.environ.get("RSS_HYPOTHESIS_EXAMPLES", "6")),
    "postgres": int(os.environ.get("RSS_HYPOTHESIS_EXAMPLES_PG", "3")),
}
# the named scenarios (restarts of both forms, metadata slots, forms, users on several senders, ...) plus a
# generated deployment of the demo assistant
CONVERSATIONS = [(s.sender_id, s.events) for s in generate_scenario_set()] + list(generate(n_conversations=14, seed=11))
VARS = APP_VARS


@dataclass(frozen=True)
class Schedule:
    n_loads: int
    mode: str  # by_sender | by_time | by_event
    order: tuple[int, ...]
    seed: int
    redeliver_after: int | None  # index in `order` after which part of the data is delivered again
    dest: str


@st.composite
def schedules(draw: Any) -> Schedule:
    n = draw(st.integers(min_value=2, max_value=3))
    return Schedule(
        n_loads=n,
        mode=draw(st.sampled_from(["by_sender", "by_time", "by_event"])),
        order=tuple(draw(st.permutations(list(range(n))))),
        seed=draw(st.integers(min_value=0, max_value=2**16)),
        redeliver_after=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=n - 1))),
        dest=draw(st.sampled_from(["rasa", "rasa_copy"])),
    )


def split(schedule: Schedule) -> list[list[tuple[str, list[dict[str, Any]]]]]:
    """The conversations cut into `n_loads` parts, each a list of (sender_id, events in tracker order)."""
    rng = random.Random(schedule.seed)
    parts: list[dict[str, list[dict[str, Any]]]] = [{} for _ in range(schedule.n_loads)]
    times = sorted(e["timestamp"] for _, events in CONVERSATIONS for e in events)
    cuts = sorted(rng.choice(times) for _ in range(schedule.n_loads - 1))
    for sender, events in CONVERSATIONS:
        sender_part = rng.randrange(schedule.n_loads)
        for event in events:
            if schedule.mode == "by_sender":
                i = sender_part
            elif schedule.mode == "by_time":
                i = sum(event["timestamp"] >= c for c in cuts)
            else:
                i = rng.randrange(schedule.n_loads)
            parts[i].setdefault(sender, []).append(event)
    return [list(p.items()) for p in parts]


def redeliver(wh: Warehouse, prefix: str, load_id: str) -> int:
    """Copy about 1/8 of the committed rows of every event table under a new load id, then commit that load."""
    schema = f"{prefix}_event"
    tables = [
        r[0]
        for r in wh.query(
            "select table_name from information_schema.tables "
            f"where table_schema = '{schema}' and (table_name = 'event' or table_name like 'event\\_%' escape '\\') "
            "and table_name not like '%\\_\\_%' escape '\\'"
        )
    ]
    copied = 0
    for table in tables:
        cols = wh.columns(schema, table)
        select = ", ".join(f"'{load_id}'" if c == "_load_id" else f'"{c}"' for c in cols)
        names = ", ".join(f'"{c}"' for c in cols)
        sample = "substr(_record_hash, 1, 1) in ('0', '1')"
        copied += wh.query(f'select count(*) from "{schema}"."{table}" where {sample}')[0][0]
        wh.execute(
            f'insert into "{schema}"."{table}" ({names}) select {select} from "{schema}"."{table}" where {sample}'
        )
    wh.execute(
        f'insert into "{schema}"."_loads" (load_id, schema_name, status, inserted_at) '
        f"values ('{load_id}', '{schema}', 0, current_timestamp)"
    )
    return copied


def run_schedule(wh: Warehouse, schedule: Schedule, tmp: Path) -> None:
    parts = split(schedule)
    # (the default destination as the default var, so that these runs share dbt's parse with test_scenarios)
    vars = VARS if schedule.dest == "rasa" else {**VARS, "dest_schema_prefix": schedule.dest}
    first = True
    for step, index in enumerate(schedule.order):
        path = tmp / f"load{index}.jsonl"
        write_jsonl(path, parts[index])
        if parts[index]:
            load(wh, "rasa", path)
        if schedule.redeliver_after == step:
            redeliver(wh, "rasa", f"redelivery{step}")
        if first:
            build(wh, vars)
            first = False
        else:
            dbt(["run"], wh, vars=vars)
    incremental = snapshot(wh, schedule.dest)
    dbt(["run", "--full-refresh"], wh, vars=vars)
    full = snapshot(wh, schedule.dest)
    for table in full:
        assert incremental[table] == full[table], f"{table} differs after {schedule}"
    # every committed source event is in event_sequence exactly once
    distinct = wh.query('select count(distinct _record_hash) from "rasa_event"."event"')[0][0]
    assert len(full["event_sequence"]) == distinct
    if schedule.dest != "rasa":
        # another destination keeps its own ledger and never writes into the source schemas
        assert wh.query('select count(*) from "rasa_event"."_loads" where status <> 0') == [(0,)]
        ledger = wh.query(f'select count(distinct load_id) from "{schedule.dest}_event"."_loads" where status = 1')
        assert ledger == wh.query('select count(distinct load_id) from "rasa_event"."_loads"')
    else:
        pending = wh.query(
            'select count(*) from "rasa_event"."_loads" l where status = 0 and not exists '
            '(select 1 from "rasa_event"."_loads" p where p.load_id = l.load_id and p.status = 1)'
        )
        assert pending == [(0,)]


def test_incremental_equals_full_refresh(warehouses: Warehouses, tmp_path_factory: pytest.TempPathFactory) -> None:
    # the number of examples depends on the warehouse kind, a fixture: the property is defined here
    @settings(
        max_examples=EXAMPLES[warehouses.kind],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(schedule=schedules())
    def incremental_equals_full_refresh(schedule: Schedule) -> None:
        tmp = tmp_path_factory.mktemp("schedule")
        run_schedule(warehouses.new("incremental"), schedule, tmp)

    incremental_equals_full_refresh()


def test_generated_data_is_big_enough_to_matter() -> None:
    """The property test is only as good as its data: several users with several senders, restarts, forms."""
    events = [e for _, evs in CONVERSATIONS for e in evs]
    assert len(CONVERSATIONS) > 20 and len(events) > 500
    names = {e.get("name") for e in events}
    assert {"action_restart", "action_session_start"} <= names
    assert any(e["event"] == "active_loop" for e in events)
