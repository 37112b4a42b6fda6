"""The prerequisite gate: `dbt test -s tag:prerequisites` fails naming what is missing, passes on a loaded source."""

from __future__ import annotations

from typing import Any

import pytest
from dbtkit import CARBONBOT, Warehouse, Warehouses, dbt, describe, load


def gate(wh: Warehouse, expect_success: bool, vars: dict[str, Any] | None = None) -> str:
    result = dbt(["test", "-s", "tag:prerequisites"], wh, vars=vars, expect_success=expect_success)
    return describe(result)


@pytest.fixture(scope="module")
def loaded(warehouses: Warehouses) -> Warehouse:
    """The real tracker logs loaded, nothing built; tests that break the source work on a copy."""
    wh = warehouses.new("gate")
    load(wh, "rasa", CARBONBOT)
    return wh


def test_gate_on_empty_database_names_the_schema(warehouses: Warehouses) -> None:
    wh = warehouses.new("empty")
    message = gate(wh, expect_success=False)
    assert "schema rasa_event does not exist" in message
    assert "source_schema_prefix" in message


def test_gate_passes_on_a_loaded_source(loaded: Warehouse) -> None:
    assert gate(loaded, expect_success=True) == "(no message)"


def test_gate_without_event_user_names_the_table(warehouses: Warehouses, loaded: Warehouse) -> None:
    wh = warehouses.copy(loaded, "no_user")
    wh.execute("drop table rasa_event.event_user")
    message = gate(wh, expect_success=False)
    assert "required table rasa_event.event_user does not exist" in message
    # the run itself fails the same way, before anything is built or marked
    result = dbt(["run"], wh, expect_success=False)
    assert "rasa_event" in describe(result) and "event_user" in describe(result)
    assert wh.query("select count(*) from rasa_event._loads where status <> 0") == [(0,)]


def test_gate_names_a_missing_column(warehouses: Warehouses, loaded: Warehouse) -> None:
    wh = warehouses.copy(loaded, "no_column")
    wh.execute("alter table rasa_event.event_action drop column name")
    message = gate(wh, expect_success=False)
    assert "rasa_event.event_action lacks the required column(s) name" in message


def test_gate_with_wrong_prefix(loaded: Warehouse) -> None:
    message = gate(loaded, expect_success=False, vars={"source_schema_prefix": "carbon"})
    assert "schema carbon_event does not exist" in message
