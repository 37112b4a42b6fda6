"""The prerequisite gate: `dbt test -s tag:prerequisites` fails naming what is missing, passes on a loaded source."""

from __future__ import annotations

from pathlib import Path

from dbtkit import CARBONBOT, dbt, describe, fresh_duckdb, load


def gate(wh, expect_success: bool, vars=None) -> str:  # type: ignore[no-untyped-def]
    result = dbt(["test", "-s", "tag:prerequisites"], wh, vars=vars, expect_success=expect_success)
    return describe(result)


def test_gate_on_empty_database_names_the_schema(tmp_path: Path) -> None:
    wh = fresh_duckdb(tmp_path / "empty.duckdb")
    message = gate(wh, expect_success=False)
    assert "schema rasa_event does not exist" in message
    assert "source_schema_prefix" in message


def test_gate_without_event_user_names_the_table(tmp_path: Path) -> None:
    wh = fresh_duckdb(tmp_path / "gate.duckdb")
    load(wh, "rasa", CARBONBOT)
    assert gate(wh, expect_success=True) == "(no message)"
    wh.execute("drop table rasa_event.event_user")
    message = gate(wh, expect_success=False)
    assert "required table rasa_event.event_user does not exist" in message
    # the run itself fails the same way, before anything is built or marked
    result = dbt(["run"], wh, expect_success=False)
    assert "rasa_event" in describe(result) and "event_user" in describe(result)
    assert wh.query("select count(*) from rasa_event._loads where status <> 0") == [(0,)]


def test_gate_names_a_missing_column(tmp_path: Path) -> None:
    wh = fresh_duckdb(tmp_path / "column.duckdb")
    load(wh, "rasa", CARBONBOT)
    wh.execute("alter table rasa_event.event_action drop column name")
    message = gate(wh, expect_success=False)
    assert "rasa_event.event_action lacks the required column(s) name" in message


def test_gate_with_wrong_prefix(tmp_path: Path) -> None:
    wh = fresh_duckdb(tmp_path / "prefix.duckdb")
    load(wh, "rasa", CARBONBOT)
    message = gate(wh, expect_success=False, vars={"source_schema_prefix": "carbon"})
    assert "schema carbon_event does not exist" in message
