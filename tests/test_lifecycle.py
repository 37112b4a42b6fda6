"""Load lifecycle (contract §3): loads are marked processed only after every consuming model succeeded."""

from __future__ import annotations

from pathlib import Path

from dbtkit import CARBONBOT, build, dbt, describe, fresh_duckdb, load, snapshot

FILES = sorted(CARBONBOT.glob("*.jsonl"))


def test_failing_model_marks_nothing_and_rerun_catches_up(tmp_path: Path) -> None:
    wh = fresh_duckdb(tmp_path / "fail.duckdb")
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
    wh.execute("create table rasa_views.slots_saved as select * from rasa_views.slots")
    wh.execute("drop table rasa_views.slots")
    wh.execute("create table rasa_views.slots as select cast(1 as integer) as slot_record_hash where false")
    result = dbt(["run"], wh, expect_success=False)
    assert "slots" in describe(result)
    statuses = wh.query(f"select status from rasa_event._loads where load_id = '{new_load[0][0]}'")
    assert statuses == [(0,)], "a failed run must not mark its load processed"
    # repair the table and run again: the same load is processed, with the result of an uninterrupted run
    wh.execute("drop table rasa_views.slots")
    wh.execute("create table rasa_views.slots as select * from rasa_views.slots_saved")
    wh.execute("drop table rasa_views.slots_saved")
    assert wh.query("select count(*) from rasa_views.slots")[0][0] == saved
    dbt(["run"], wh)
    assert wh.query(f"select status from rasa_event._loads where load_id = '{new_load[0][0]}' order by 1") == [
        (0,),
        (1,),
    ]
    after = snapshot(wh, "rasa")
    reference = fresh_duckdb(tmp_path / "reference.duckdb")
    load(reference, "rasa", *FILES)
    build(reference)
    assert snapshot(reference, "rasa", exclude=("_load_id", "_event_pos")) == snapshot(
        wh, "rasa", exclude=("_load_id", "_event_pos")
    )
    assert len(after["sessions"]) == 13


def test_no_new_loads_is_a_no_op(tmp_path: Path) -> None:
    wh = fresh_duckdb(tmp_path / "noop.duckdb")
    load(wh, "rasa", *FILES)
    build(wh)
    before = snapshot(wh, "rasa")
    dbt(["run"], wh)
    assert wh.query("select count(*) from rasa_staging.stg_sender_ids") == [(0,)]
    assert snapshot(wh, "rasa") == before
    assert wh.query("select count(*) from rasa_event._loads where status = 1") == [(1,)]
