"""The data-quality tests the package ships (tests/singular, tag `data_quality`): what a user runs after every
scheduled run, `dbt test -s tag:data_quality`, to catch on their own warehouse a broken invariant the package relies
on. They pass on a fresh build; each one fails on the corruption it exists for, and only that one fails.

One build per warehouse kind (generated conversations: several sessions per sender, forms, handoffs); each corruption
is made in a copy of it (a DuckDB file copy, a PostgreSQL database made from it as a template).
"""

from __future__ import annotations

from typing import Any

import pytest
from dbtkit import Warehouse, Warehouses, build, dbt, load

from rasa_tracker_loader.conversation import write_jsonl
from rasa_tracker_loader.generator import generate

DQ_TESTS = {
    "rss_all_processed_events_in_event_sequence",
    "rss_dq_event_sequence_events_once",
    "rss_dq_event_counts_match_source",
    "rss_dq_event_tables_match_event_sequence",
    "rss_dq_events_and_interactions_match",
    "rss_dq_interactions_and_sessions_match",
    "rss_dq_sessions_users_senders_match",
    "rss_loads_marked_once",
}

V = "rasa_views"


def one(wh: Warehouse, sql: str) -> Any:
    rows = wh.query(sql)
    assert rows, sql
    return rows[0][0]


# the corruptions: each one breaks one invariant in a copy of the build
def corrupt_event_missing(wh: Warehouse) -> None:
    """an event is lost and another appears in its place (same type, same load): only the missing one shows"""
    h = one(wh, f"select min(_record_hash) from {V}.event_sequence where event = 'session_started'")
    wh.execute(f"update {V}.event_sequence set _record_hash = 'no-such-event' where _record_hash = '{h}'")


def corrupt_event_twice(wh: Warehouse) -> None:
    h = one(wh, f"select min(_record_hash) from {V}.event_sequence where event = 'action'")
    wh.execute(f"insert into {V}.event_sequence select * from {V}.event_sequence where _record_hash = '{h}'")


def corrupt_event_type(wh: Warehouse) -> None:
    """an event filed under another type (types that no event table holds)"""
    h = one(wh, f"select min(_record_hash) from {V}.event_sequence where event = 'session_started'")
    wh.execute(f"update {V}.event_sequence set event = 'restart' where _record_hash = '{h}'")


def corrupt_event_table_row_missing(wh: Warehouse) -> None:
    h = one(wh, f"select min(bot_record_hash) from {V}.bot_actions")
    wh.execute(f"delete from {V}.bot_actions where bot_record_hash = '{h}'")


def corrupt_interaction_missing(wh: Warehouse) -> None:
    """an interaction row is lost (in a session that keeps others): its events point nowhere"""
    i = one(
        wh,
        f"select min(interaction_id) from {V}.interactions where interaction_nr = 1 and session_id in "
        f"(select session_id from {V}.interactions group by session_id having count(*) > 2)",
    )
    wh.execute(f"delete from {V}.interactions where interaction_id = '{i}'")


def corrupt_interaction_orphaned(wh: Warehouse) -> None:
    """an interaction points to a session that does not exist"""
    i = one(wh, f"select min(interaction_id) from {V}.interactions")
    wh.execute(f"update {V}.interactions set session_id = 'nobody/99' where interaction_id = '{i}'")


def corrupt_user_missing(wh: Warehouse) -> None:
    u = one(wh, f"select min(user_id) from {V}.users")
    wh.execute(f"delete from {V}.users where user_id = '{u}'")


def corrupt_load_marked_twice(wh: Warehouse) -> None:
    load_id = one(wh, "select min(load_id) from rasa_event._loads where status = 1")
    wh.execute(
        f"insert into rasa_event._loads select * from rasa_event._loads where status = 1 and load_id = '{load_id}'"
    )


CORRUPTIONS = [
    (corrupt_event_missing, "rss_all_processed_events_in_event_sequence"),
    (corrupt_event_twice, "rss_dq_event_sequence_events_once"),
    (corrupt_event_type, "rss_dq_event_counts_match_source"),
    (corrupt_event_table_row_missing, "rss_dq_event_tables_match_event_sequence"),
    (corrupt_interaction_missing, "rss_dq_events_and_interactions_match"),
    (corrupt_interaction_orphaned, "rss_dq_interactions_and_sessions_match"),
    (corrupt_user_missing, "rss_dq_sessions_users_senders_match"),
    (corrupt_load_marked_twice, "rss_loads_marked_once"),
]


def data_quality(wh: Warehouse, expect_success: bool) -> dict[str, str]:
    """`dbt test -s tag:data_quality`: the status of each test (pass / fail)."""
    result = dbt(["test", "-s", "tag:data_quality"], wh, expect_success=expect_success)
    return {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type == "test"}


@pytest.fixture(scope="module")
def built(warehouses: Warehouses, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    tmp = tmp_path_factory.mktemp("dq")
    first, second = tmp / "first.jsonl", tmp / "second.jsonl"
    conversations = list(generate(n_conversations=30, seed=11))
    # every sender's conversation in two loads: the second run recomputes senders of the first
    write_jsonl(first, [(sender, events[: len(events) * 3 // 5]) for sender, events in conversations])
    write_jsonl(second, [(sender, events[len(events) * 3 // 5 :]) for sender, events in conversations])
    wh = warehouses.new("dq")
    load(wh, "rasa", first)
    build(wh)
    load(wh, "rasa", second)
    dbt(["run"], wh)  # incremental
    return wh


def test_every_test_is_shipped_with_the_tag(built: Warehouse) -> None:
    listed = dbt(["ls", "-s", "tag:data_quality", "--resource-type", "test", "--output", "name"], built)
    assert set(listed.result) == DQ_TESTS


def test_data_quality_passes_on_a_fresh_build(built: Warehouse) -> None:
    assert built.query("select count(distinct load_id) from rasa_event._loads where status = 1") == [(2,)]
    assert data_quality(built, True) == dict.fromkeys(DQ_TESTS, "pass")


@pytest.mark.parametrize(("corrupt", "fails"), CORRUPTIONS, ids=[f for _, f in CORRUPTIONS])
def test_each_corruption_fails_exactly_its_test(
    built: Warehouse, warehouses: Warehouses, corrupt: Any, fails: str
) -> None:
    wh = warehouses.copy(built, fails)
    corrupt(wh)
    assert data_quality(wh, False) == {name: "fail" if name == fails else "pass" for name in DQ_TESTS}
