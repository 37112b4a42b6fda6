"""End-to-end scenarios: readable conversations → loader → dbt → assertions on the views.

Every conversation below is written with the builder of `rasa_tracker_loader.conversation` (the events Rasa 3.x
writes); the expected sessions, interactions, ids, metric counts and keys are worked out by hand in the comments.
Every scenario runs on each warehouse kind (DuckDB, PostgreSQL: the `warehouses` fixture). All scenarios of a kind
share one build (module fixture); scenarios that need another var or several loads build their own copy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dbtkit import APP_VARS, Warehouse, Warehouses, build, dbt, load, same_on_every_kind, snapshot

from rasa_tracker_loader.conversation import UTC, Conversation, write_jsonl

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
VARS = APP_VARS  # user_id metadata__user_id, external_session_id metadata__external_session_id, story intents


def meta(user: str, **extra: Any) -> dict[str, Any]:
    return {"user_id": user, **extra}


def conversations() -> list[Conversation]:
    out = []

    # metadata slot written just before action_session_start: it belongs to the new session
    c = Conversation("s-meta", start=T0)
    c.session_start(metadata=meta("u-meta"))
    c.user("greet", metadata=meta("u-meta"))
    c.bot("utter_greet")
    c.wait(minutes=90)
    c.session_start(metadata=meta("u-meta"))
    c.user("book_flight", metadata=meta("u-meta"))
    c.bot("utter_anything_else")
    out.append(c)

    # the same with identical timestamps for slot, action_session_start and session_started
    c = Conversation("s-same", start=T0)
    c.session_start(metadata=meta("u-same"), same_time=True)
    c.user("greet", metadata=meta("u-same"))
    c.wait(minutes=90)
    c.session_start(metadata=meta("u-same"), same_time=True)
    c.user("goodbye", metadata=meta("u-same"))
    out.append(c)

    # restart, old form (action_restart, utter_restart, restart, action_listen): 2 sessions
    c = Conversation("s-rold", start=T0)
    c.session_start()
    c.user("greet")
    c.bot("utter_greet")
    c.user("restart")
    c.restart(form="old", reply="utter_restart")
    c.user("greet")
    c.bot("utter_greet")
    out.append(c)

    # restart, new form (… restart, action_session_start, session_started, action_listen), one timestamp: 2 sessions
    c = Conversation("s-rnew", start=T0)
    c.session_start()
    c.user("greet")
    c.bot("utter_greet")
    c.user("restart")
    c.restart(form="new", reply="utter_restart", same_time=True)
    c.user("greet")
    c.bot("utter_greet")
    out.append(c)

    # a tracker that begins mid-conversation: its first events form a session of their own
    c = Conversation("s-pre", start=T0)
    c.user("greet")
    c.bot("utter_greet")
    c.wait(minutes=120)
    c.session_start()
    c.user("thankyou")
    c.bot("utter_youre_welcome")
    out.append(c)

    # a form with a failed fill, a repeated request and completion
    c = Conversation("s-form", start=T0)
    c.session_start()
    c.user("book_flight")  # interaction 1
    c.form_start("booking_form", ask="departure")  # request 1 (departure)
    c.user("inform", text="Berlln")  # interaction 2
    c.form_step(fill={"departure": None}, ask="departure")  # failed fill, request 2 (departure)
    c.user("inform", text="Berlin")  # interaction 3
    c.form_step(fill={"departure": "Berlin"}, ask="destination")  # fill, request 3 (destination)
    c.user("inform", text="Rome")  # interaction 4
    c.form_step(fill={"destination": "Rome"})  # fill, form completed
    c.bot("utter_booking_confirmed")
    out.append(c)

    # one user on two senders whose sessions interleave: A 10:00 -> /1, B 10:05 -> /2, A 11:00 -> /3
    a = Conversation("s-ma", start=T0)
    a.session_start(metadata=meta("u-multi"))
    a.user("greet", metadata=meta("u-multi"))
    a.bot("utter_greet")
    a.at(T0 + timedelta(minutes=60))
    a.session_start(metadata=meta("u-multi"))
    a.user("thankyou", metadata=meta("u-multi"))
    out.append(a)
    b = Conversation("s-mb", start=T0 + timedelta(minutes=5))
    b.session_start(metadata=meta("u-multi"))
    b.user("greet", metadata=meta("u-multi"))
    b.bot("utter_greet")
    out.append(b)

    # handoff to a human agent
    c = Conversation("s-hand", start=T0)
    c.session_start()
    c.user("request_human")
    c.handoff()
    out.append(c)

    # NLU fallback
    c = Conversation("s-fall", start=T0)
    c.session_start()
    c.user("nlu_fallback", text="asdf")
    c.fallback()
    c.user("react_frustrated")
    c.bot("utter_sorry_frustrated")
    out.append(c)

    # bounce: the session starts, the bot greets, the user never writes
    c = Conversation("s-bounce", start=T0)
    c.session_start()
    c.bot("utter_greet")
    out.append(c)

    # external session id in the user message metadata
    c = Conversation("s-ext", start=T0)
    c.session_start()
    c.user("greet", metadata=meta("u-ext", external_session_id="web-42"))
    c.bot("utter_greet")
    out.append(c)

    # external user id only in session_started metadata (SDKs before 2.8)
    c = Conversation("s-legacy", start=T0)
    c.session_start(metadata=meta("u-legacy"), legacy=True)
    c.user("greet")
    c.bot("utter_greet")
    out.append(c)

    # an old SDK without session starts and a 2-hour pause (the inactivity-gap var)
    c = Conversation("s-gap", start=T0)
    c.user("greet")
    c.bot("utter_greet")
    c.wait(minutes=120)
    c.user("greet")
    c.bot("utter_greet")
    out.append(c)
    return out


@pytest.fixture(scope="module")
def built(warehouses: Warehouses, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    tmp = tmp_path_factory.mktemp("scenarios")
    files = []
    for conv in conversations():
        path = tmp / f"{conv.sender_id}.jsonl"
        write_jsonl(path, [conv])
        files.append(path)
    wh = warehouses.new("scenarios")
    load(wh, "rasa", *files)
    build(wh, VARS)
    return wh


def rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return wh.query(sql)


def sessions_of(wh: Warehouse, sender: str) -> list[tuple[Any, ...]]:
    return rows(
        wh,
        "select session_id, interactions_count from rasa_views.sessions "
        f"where sender_id = '{sender}' order by session_nr",
    )


def interactions_of(wh: Warehouse, session_id: str) -> list[int]:
    return [
        r[0]
        for r in rows(
            wh, f"select interaction_nr from rasa_views.interactions where session_id = '{session_id}' order by 1"
        )
    ]


def test_same_views_on_every_warehouse(built: Warehouse) -> None:
    same_on_every_kind("scenarios", built)


def test_metadata_slot_opens_the_new_session(built: Warehouse) -> None:
    assert sessions_of(built, "s-meta") == [("u-meta/1", 1), ("u-meta/2", 1)]
    # each session opens with the metadata slot, then action_session_start (the slot carried over later stays put)
    firsts = rows(
        built,
        "select session_id, event, value from rasa_views.event_sequence "
        "where sender_id = 's-meta' and sequence_nr <= 2 order by sender_event_nr",
    )
    assert firsts == [
        ("u-meta/1", "slot", "session_started_metadata"),
        ("u-meta/1", "action", "action_session_start"),
        ("u-meta/2", "slot", "session_started_metadata"),
        ("u-meta/2", "action", "action_session_start"),
    ]
    assert interactions_of(built, "u-meta/1") == [0, 1]


def test_identical_timestamps_follow_tracker_order(built: Warehouse) -> None:
    assert sessions_of(built, "s-same") == [("u-same/1", 1), ("u-same/2", 1)]
    seq = rows(
        built,
        "select event, value, session_nr from rasa_views.event_sequence where sender_id = 's-same' "
        "and session_nr = 2 order by sequence_nr limit 3",
    )
    assert seq == [
        ("slot", "session_started_metadata", 2),
        ("action", "action_session_start", 2),
        ("session_started", None, 2),
    ]


def test_restart_old_form(built: Warehouse) -> None:
    # session 1: interaction 0 (start), 1 (greet), 2 (/restart message); session 2 opens at action_restart
    assert sessions_of(built, "s-rold") == [("s-rold/1", 2), ("s-rold/2", 1)]
    first = rows(
        built,
        "select event, value from rasa_views.event_sequence where session_id = 's-rold/2' and sequence_nr = 1",
    )
    assert first == [("action", "action_restart")]


def test_restart_new_form_opens_one_session(built: Warehouse) -> None:
    assert sessions_of(built, "s-rnew") == [("s-rnew/1", 2), ("s-rnew/2", 1)]
    second = rows(
        built,
        "select event, coalesce(value, '') from rasa_views.event_sequence where session_id = 's-rnew/2' "
        "and interaction_nr = 0 order by sequence_nr",
    )
    assert [v for _, v in second][:2] == ["action_restart", "utter_restart"]
    assert ("action", "action_session_start") in second


def test_events_before_first_session_start(built: Warehouse) -> None:
    assert sessions_of(built, "s-pre") == [("s-pre/1", 1), ("s-pre/2", 1)]
    assert interactions_of(built, "s-pre/1") == [1]
    assert interactions_of(built, "s-pre/2") == [0, 1]


def test_inactivity_gap(built: Warehouse, warehouses: Warehouses) -> None:
    assert sessions_of(built, "s-gap") == [("s-gap/1", 2)]
    wh = warehouses.copy(built, "gap")
    dbt(["run", "--full-refresh"], wh, vars={**VARS, "compat_old_session_gap_minutes": 60})
    assert sessions_of(wh, "s-gap") == [("s-gap/1", 1), ("s-gap/2", 1)]
    # a gap of 90 minutes also splits s-meta's sessions, which its session start splits anyway
    assert sessions_of(wh, "s-meta") == [("u-meta/1", 1), ("u-meta/2", 1)]


def test_form_and_slot_requests(built: Warehouse) -> None:
    slots = rows(
        built,
        "select s.name, s.value, s.slot_name_normalised, s.slot_action_normalised, s.interaction_nr, "
        "f.value, s.fill_event_interaction_id, a.value, s.fill_attempt_event_interaction_id "
        "from rasa_views.slots s "
        "left join rasa_views.slots f on f.slot_record_hash = s.next_slot_fill_record_hash "
        "left join rasa_views.slots a on a.slot_record_hash = s.next_slot_fill_attempt_record_hash "
        "where s.sender_id = 's-form' and s.slot_action_normalised = 'requested_slot' "
        "and s.value is not null order by s.sequence_nr",
    )
    assert slots == [
        # request 1: the next attempt failed (NULL); it is asked again before a value arrives
        ("requested_slot", "departure", "departure", "requested_slot", 1, None, None, None, "s-form/1/2"),
        # request 2 (repeated): filled by the next attempt
        (
            "requested_slot",
            "departure",
            "departure",
            "requested_slot",
            2,
            "Berlin",
            "s-form/1/3",
            "Berlin",
            "s-form/1/3",
        ),
        (
            "requested_slot",
            "destination",
            "destination",
            "requested_slot",
            3,
            "Rome",
            "s-form/1/4",
            "Rome",
            "s-form/1/4",
        ),
    ]
    forms = rows(
        built,
        "select interaction_nr, interaction_active_form from rasa_views.interactions "
        "where session_id = 's-form/1' order by 1",
    )
    assert forms == [(0, None), (1, "booking_form"), (2, "booking_form"), (3, "booking_form"), (4, "booking_form")]
    nrs = rows(
        built,
        "select distinct active_form_nr from rasa_views.event_sequence "
        "where sender_id = 's-form' and active_form is not null",
    )
    assert nrs == [(1,)]
    last = rows(
        built,
        "select active_form from rasa_views.event_sequence "
        "where sender_id = 's-form' order by sender_event_nr desc limit 1",
    )
    assert last == [(None,)]
    assert rows(
        built,
        "select distinct_forms_activated, first_story_intent from rasa_views.sessions where session_id = 's-form/1'",
    ) == [(1, "book_flight")]


def test_user_on_two_interleaving_senders(built: Warehouse) -> None:
    got = rows(
        built,
        "select session_id, sender_id, sender_session_nr from "
        "(select distinct session_id, sender_id, sender_session_nr, session_nr from rasa_views.event_sequence "
        "where user_id = 'u-multi') s order by session_nr",
    )
    assert got == [("u-multi/1", "s-ma", 1), ("u-multi/2", "s-mb", 1), ("u-multi/3", "s-ma", 2)]
    assert rows(
        built, "select sender_id, sessions_count from rasa_views.senders where user_id = 'u-multi' order by 1"
    ) == [
        ("s-ma", 2),
        ("s-mb", 1),
    ]
    user = rows(
        built,
        "select sessions_count, senders_count, first_session_id, last_session_id, first_sender_id, last_sender_id "
        "from rasa_views.users where user_id = 'u-multi'",
    )
    assert user == [(3, 2, "u-multi/1", "u-multi/3", "s-ma", "s-ma")]
    assert rows(
        built, "select new_returning_session from rasa_views.sessions where user_id = 'u-multi' order by session_nr"
    ) == [
        ("new",),
        ("returning",),
        ("returning",),
    ]


def test_handoff_metric(built: Warehouse) -> None:
    got = rows(
        built,
        "select interaction_nr, actions_agent_handoff_count, story_intent from rasa_views.interactions "
        "where sender_id = 's-hand' order by 1",
    )
    assert got == [(0, 0, None), (1, 1, "request_human")]
    session = rows(
        built,
        "select actions_agent_handoff_count, actions_agent_handoff_session_id, is_bounced, first_story_intent "
        "from rasa_views.sessions where sender_id = 's-hand'",
    )
    assert session == [(1, "s-hand/1", False, "request_human")]


def test_fallback_and_frustration_metrics(built: Warehouse) -> None:
    got = rows(
        built,
        "select intent_nlu_fallback_count, action_default_fallback_count, intents_frustrated_count, "
        "intent_nlu_fallback_session_id, intents_frustrated_session_id, actions_agent_handoff_session_id, "
        "first_intent, last_intent from rasa_views.sessions where sender_id = 's-fall'",
    )
    assert got == [(1, 1, 1, "s-fall/1", "s-fall/1", None, "nlu_fallback", "react_frustrated")]


def test_bounced_session(built: Warehouse) -> None:
    got = rows(
        built,
        "select session_id, interactions_count, is_bounced, bounced_session_id, session_start_timestamp "
        "from rasa_views.sessions where sender_id = 's-bounce'",
    )
    assert got == [("s-bounce/1", 0, True, "s-bounce/1", None)]


def test_timestamps_are_utc_without_time_zone(built: Warehouse) -> None:
    """The loader writes timestamps with time zone; the views hold the UTC time without zone, whatever the session's
    time zone (the PostgreSQL test server's is +05:30)."""
    got = rows(
        built,
        "select session_initiation_timestamp from rasa_views.sessions where sender_id = 's-meta' order by session_nr",
    )
    naive = T0.replace(tzinfo=None)
    assert got[0][0] == naive and naive + timedelta(minutes=90) < got[1][0] < naive + timedelta(minutes=91)
    first = rows(built, "select min(timestamp) from rasa_views.event_sequence where sender_id = 's-hand'")
    assert first == [(T0.replace(tzinfo=None),)]


def test_external_ids(built: Warehouse) -> None:
    assert rows(built, "select user_id, external_session_id from rasa_views.sessions where sender_id = 's-ext'") == [
        ("u-ext", "web-42")
    ]
    assert rows(built, "select distinct user_id from rasa_views.event_sequence where sender_id = 's-legacy'") == [
        ("u-legacy",)
    ]


def test_foreign_keys_between_event_tables(built: Warehouse) -> None:
    # the user's reply to the bot's greeting in s-meta session 1 is interaction 1 (there is no second message)
    got = rows(
        built,
        "select utter_action, interaction_id, next_user_interaction_fk from rasa_views.bot_actions "
        "where sender_id = 's-rold' order by sequence_nr, session_nr",
    )
    assert ("utter_greet", "s-rold/1/1", "s-rold/1/2") in got
    msgs = rows(
        built,
        "select intent_name, interaction_id, previous_bot_interaction_fk, session_id from rasa_views.user_messages "
        "where sender_id = 's-rold' order by timestamp",
    )
    assert msgs == [
        ("greet", "s-rold/1/1", None, "s-rold/1"),
        ("restart", "s-rold/1/2", "s-rold/1/1", "s-rold/1"),
        ("greet", "s-rold/2/1", None, "s-rold/2"),
    ]


def test_user_id_first_seen_in_a_later_load(warehouses: Warehouses, tmp_path: Path) -> None:
    """A sender's user id arrives only in the second load: its rows move to that user, none stay behind."""
    first = Conversation("s-late", start=T0)
    first.session_start()
    first.user("greet")
    first.bot("utter_greet")
    n = len(first.events)
    first.user("book_flight", metadata=meta("u-late"))
    first.bot("utter_anything_else")
    load1, load2 = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    write_jsonl(load1, [("s-late", first.events[:n])])
    write_jsonl(load2, [("s-late", first.events[n:])])
    wh = warehouses.new("late")
    load(wh, "rasa", load1)
    build(wh, VARS)
    assert sessions_of(wh, "s-late") == [("s-late/1", 1)]
    load(wh, "rasa", load2)
    dbt(["run"], wh, vars=VARS)
    assert sessions_of(wh, "s-late") == [("u-late/1", 2)]
    for table in ("event_sequence", "interactions", "sessions", "users", "user_messages", "bot_actions", "actions"):
        assert rows(wh, f"select count(*) from rasa_views.{table} where user_id = 's-late'") == [(0,)], table
    incremental = snapshot(wh, "rasa")
    dbt(["run", "--full-refresh"], wh, vars=VARS)
    assert snapshot(wh, "rasa") == incremental


def test_dbt_data_tests_pass_on_scenarios(built: Warehouse) -> None:
    dbt(["test", "--exclude", "tag:prerequisites"], built, vars=VARS)
