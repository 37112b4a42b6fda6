"""The real Rasa tracker logs in ../shared/data/carbonbot (two senders, 1014 events) through loader and package.

Expected values, derived by reading the two logs (README.md of that folder has the per-type counts):

2888158124550630 (666 events). The log starts with `action_listen` (2019-11-07), not with a session start:
that first event opens session 1. After it, every `action_restart` (5 of them, each right after a `/restart`
user message) opens a session, and so does every `action_session_start` (lines 336, 557, 564, 612) except the
one on line 564, which follows the `action_restart` of line 561 with no `action_listen` in between (the Rasa 2.x
restart form: action_restart, bot, restart, action_session_start, session_started, action_listen).
Sessions: 1 + 5 + 3 = 9.
8629c904-0c26-4f0b-927b-14d48db43c28 (348 events). The log starts with `action_session_start` (session 1), then 3
`action_restart`s (old form: restart, then action_listen): 1 + 3 = 4 sessions.

Every session begins with a non-user event, so each has an interaction 0 besides one interaction per user
message: 13 + (90 + 45) = 148 interactions.
"""

from __future__ import annotations

import re

import pytest
from dbtkit import CARBONBOT, Warehouse, Warehouses, build, dbt, load, same_on_every_kind, snapshot

SENDER_A = "2888158124550630"
SENDER_B = "8629c904-0c26-4f0b-927b-14d48db43c28"


def readme_counts() -> dict[str, int]:
    """Per-type event counts of both files, summed, from the data folder's README."""
    counts: dict[str, int] = {}
    for event, n in re.findall(r"^\| (\w+) \| (\d+) \|$", (CARBONBOT / "README.md").read_text(), re.M):
        counts[event] = counts.get(event, 0) + int(n)
    return counts


@pytest.fixture(scope="module")
def carbonbot(warehouses: Warehouses) -> Warehouse:
    wh = warehouses.new("carbonbot")
    load(wh, "rasa", CARBONBOT)
    build(wh)
    return wh


def test_every_source_event_once_in_event_sequence(carbonbot: Warehouse) -> None:
    expected = readme_counts()
    assert sum(expected.values()) == 1014
    got = dict(carbonbot.query("select event, count(*) from rasa_views.event_sequence group by event"))
    assert got == expected
    missing = carbonbot.query(
        "select count(*) from rasa_event.event e where not exists "
        "(select 1 from rasa_views.event_sequence s where s._record_hash = e._record_hash)"
    )
    assert missing == [(0,)]
    assert carbonbot.query("select count(distinct _record_hash) from rasa_views.event_sequence") == [(1014,)]


def test_sessions_and_interactions(carbonbot: Warehouse) -> None:
    sessions = dict(carbonbot.query("select sender_id, count(*) from rasa_views.sessions group by sender_id"))
    assert sessions == {SENDER_A: 9, SENDER_B: 4}
    assert carbonbot.query("select count(*) from rasa_views.interactions") == [(148,)]
    assert carbonbot.query("select count(*) from rasa_views.interactions where interaction_nr = 0") == [(13,)]
    assert carbonbot.query("select sum(interactions_count) from rasa_views.sessions") == [(135,)]
    senders = dict(carbonbot.query("select sender_id, sessions_count from rasa_views.senders"))
    assert senders == {SENDER_A: 9, SENDER_B: 4}
    # the first session of A holds the events before any session start, from 2019-11-07
    first = carbonbot.query(
        f"select event, value from rasa_views.event_sequence where session_id = '{SENDER_A}/1' and sequence_nr = 1"
    )
    assert first == [("action", "action_listen")]
    # the restart of 2021-11-19 (Rasa 2.x form) opens one session: action_session_start stays in it
    restart = carbonbot.query(
        f"select session_nr, event, value from rasa_views.event_sequence where sender_id = '{SENDER_A}' "
        "and sender_event_nr between 561 and 566 order by sender_event_nr"
    )
    assert {r[0] for r in restart} == {8}
    assert [r[2] for r in restart][:1] == ["action_restart"]


def test_same_views_on_every_warehouse(carbonbot: Warehouse) -> None:
    same_on_every_kind("carbonbot", carbonbot)


def test_loading_again_adds_nothing_and_second_run_changes_nothing(carbonbot: Warehouse) -> None:
    before = snapshot(carbonbot, "rasa")
    loads_before = carbonbot.query("select count(*) from rasa_event._loads")
    load(carbonbot, "rasa", CARBONBOT)
    assert carbonbot.query("select count(*) from rasa_event.event") == [(1014,)]
    dbt(["run"], carbonbot)
    assert snapshot(carbonbot, "rasa") == before
    assert carbonbot.query("select count(*) from rasa_event._loads") == loads_before
    assert carbonbot.query("select status, count(*) from rasa_event._loads group by status order by 1") == [
        (0, 1),
        (1, 1),
    ]


def test_split_into_one_load_per_file_equals_one_load(warehouses: Warehouses) -> None:
    wh = warehouses.new("split")
    files = sorted(CARBONBOT.glob("*.jsonl"))
    load(wh, "rasa", files[1])
    build(wh)
    load(wh, "rasa", files[0])
    dbt(["run"], wh)
    incremental = snapshot(wh, "rasa", exclude=("_load_id", "_event_pos"))
    dbt(["run", "--full-refresh"], wh)
    assert snapshot(wh, "rasa", exclude=("_load_id", "_event_pos")) == incremental
    assert len(incremental["sessions"]) == 13


def test_dbt_data_tests_pass_on_carbonbot(carbonbot: Warehouse) -> None:
    # the unit tests do not depend on the data: test_scenarios runs them on every warehouse kind
    dbt(["test", "--exclude", "test_type:unit"], carbonbot)
