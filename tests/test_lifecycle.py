"""Load lifecycle (contract §3): loads are marked processed only after every consuming model succeeded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dbtkit import CARBONBOT, Warehouse, Warehouses, build, dbt, describe, load, snapshot

FILES = sorted(CARBONBOT.glob("*.jsonl"))


@pytest.fixture(scope="module")
def reference(warehouses: Warehouses) -> Warehouse:
    """Both files in one load, built once: what any sequence of runs over them must end up with."""
    wh = warehouses.new("reference")
    load(wh, "rasa", *FILES)
    build(wh)
    return wh


def test_failing_model_marks_nothing_and_rerun_catches_up(warehouses: Warehouses, reference: Warehouse) -> None:
    wh = warehouses.new("fail")
    load(wh, "rasa", FILES[0])
    build(wh)
    load(wh, "rasa", FILES[1])
    new_load = wh.query(
        "select load_id from rasa_event._loads l where not exists "
        "(select 1 from rasa_event._loads p where p.load_id = l.load_id and p.status = 1)"
    )
    assert len(new_load) == 1
    # make one view fail at run time: its key column can no longer take the recomputed rows
    saved = wh.query("select count(*) from rasa_views.slots")[0][0]
    # (renamed, not copied and dropped: on PostgreSQL, views of other models depend on the table)
    wh.execute("alter table rasa_views.slots rename to slots_saved")
    wh.execute("create table rasa_views.slots as select cast(1 as integer) as slot_record_hash where false")
    result = dbt(["run"], wh, expect_success=False)
    assert "slots" in describe(result)
    statuses = wh.query(f"select status from rasa_event._loads where load_id = '{new_load[0][0]}'")
    assert statuses == [(0,)], "a failed run must not mark its load processed"
    # repair the table and run again: the same load is processed, with the result of an uninterrupted run
    wh.execute("drop table rasa_views.slots")
    wh.execute("alter table rasa_views.slots_saved rename to slots")
    assert wh.query("select count(*) from rasa_views.slots")[0][0] == saved
    dbt(["run"], wh)
    assert wh.query(f"select status from rasa_event._loads where load_id = '{new_load[0][0]}' order by 1") == [
        (0,),
        (1,),
    ]
    after = snapshot(wh, "rasa")
    assert snapshot(reference, "rasa", exclude=("_load_id", "_event_pos")) == snapshot(
        wh, "rasa", exclude=("_load_id", "_event_pos")
    )
    assert len(after["sessions"]) == 13


def test_no_new_loads_is_a_no_op(warehouses: Warehouses, reference: Warehouse) -> None:
    wh = warehouses.copy(reference, "noop")
    before = snapshot(wh, "rasa")
    dbt(["run"], wh)
    assert wh.query("select count(*) from rasa_staging.stg_sender_ids") == [(0,)]
    assert snapshot(wh, "rasa") == before
    assert wh.query("select count(*) from rasa_event._loads where status = 1") == [(1,)]


def test_marked_at_the_time_of_the_run(reference: Warehouse) -> None:
    """The status 1 row the run appends to the source `_loads` (a timestamp with time zone, written by dlt) is a few
    minutes after the load's status 0 row, not shifted by a time zone (the PostgreSQL test server's is +05:30)."""
    (loaded,), (marked,) = reference.query("select inserted_at from rasa_event._loads order by status")
    assert timedelta(0) <= marked - loaded < timedelta(minutes=30)
