"""Conversation KPIs end to end: readable conversations → loader → dbt → the KPI models (models/kpis).

Every conversation runs on a clock of one second per event (``tick=1``), so each event's time is its position in
the conversation plus the waits written below; the expected latencies, outcomes, funnels and daily figures are
worked out by hand in the comments ("@n": the event is stamped n seconds after the conversation's start).

The data arrives in two loads. The second one continues a session of the first (k-abandon), adds a sender of an
existing user on an earlier day (k-m0: the user's first session moves from 1 March to 29 February, so the new-user
count of 1 March changes although the load has no event on that day) and comes from another environment. After it
the incremental run must equal a full refresh, and the hand-computed values hold for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dbtkit import Warehouse, build, copy_duckdb, dbt, fresh_duckdb, load, snapshot

from rasa_tracker_loader.conversation import UTC, Conversation, Event, write_jsonl

DAY0 = datetime(2024, 2, 29, 10, 0, tzinfo=UTC)
DAY1 = DAY0 + timedelta(days=1)
DAY2 = DAY0 + timedelta(days=2)
VARS = {"user_id": "metadata__user_id"}
KPI_TABLES = (
    "message_latency",
    "interaction_latency",
    "session_latency",
    "session_outcomes",
    "daily_kpis",
    "slot_funnel",
    "intent_transitions",
)
Loads = tuple[list[tuple[str, list[Event]]], list[tuple[str, list[Event]]]]


def conv(sender: str, start: datetime, channel: str = "rest") -> Conversation:
    return Conversation(sender, start=start, tick=1.0, input_channel=channel)


def multi(sender: str, start: datetime, channel: str) -> Conversation:
    """User u-multi (external user id in metadata): greet and goodbye, both answered."""
    md = {"user_id": "u-multi"}
    c = conv(sender, start, channel)
    # slot session_started_metadata @0, action_session_start @1, session_started @2, the metadata slot carried
    # over into the new session @3 (Rasa re-sets the slots set before), action_listen @4
    c.session_start(metadata=md)
    c.user("greet", metadata=md, after=1)  # @6 (featurization @7)
    c.bot("utter_greet")  # action @8, bot @9: bot latency 3
    c.user("goodbye", metadata=md, after=4)  # @15: user latency 15 - 9 = 6
    c.bot("utter_goodbye")  # bot @18: bot latency 3; action_listen @19: the session lasts 19 s
    return c


def conversations() -> Loads:
    first: list[tuple[str, list[Event]]] = []
    second: list[tuple[str, list[Event]]] = []

    # k-contained (1 March, rest): a form with a rejected value, completed; engaged, contained, not abandoned
    c = conv("k-contained", DAY1)
    c.session_start()  # action_session_start @0, session_started @1, action_listen @2
    c.user("greet", after=10)  # @13
    c.bot("utter_greet")  # bot @16: bot 3
    c.user("book_flight", after=20)  # @38: user 38 - 16 = 22
    c.form_start("booking_form", ask="departure")  # requested_slot @42, utter_ask_departure @43: bot 5
    c.user("inform", text="Atlantis", after=5)  # @50: user 7
    c.form_step(fill={"departure": None}, ask="departure")  # rejected @53, requested_slot @54, ask @55: bot 5
    c.user("inform", text="Berlin", after=4)  # @61: user 6
    c.form_step(fill={"departure": "Berlin"})  # filled @64, requested_slot null @65, active_loop null @66
    c.bot("utter_booking_confirmed")  # bot @68: bot 7
    c.user("thankyou", after=8)  # @78: user 10
    c.bot("utter_youre_welcome")  # bot @81: bot 3; action_listen @82: the session lasts 82 s
    first.append((c.sender_id, c.events))

    # k-handoff (1 March 11:00, facebook): handed over
    c = conv("k-handoff", DAY1 + timedelta(hours=1), "facebook")
    c.session_start()
    c.user("request_human", after=3)  # @6
    c.handoff()  # action_human_handoff @8, utter_handoff @9: bot 3; action_listen @10
    first.append((c.sender_id, c.events))

    # k-abandon (1 March 12:00, socketio): the bot asks, the user leaves ... and comes back in the second load
    c = conv("k-abandon", DAY1 + timedelta(hours=2), "socketio")
    c.session_start()
    c.user("book_flight", after=4)  # @7
    c.form_start("booking_form", ask="departure")  # requested_slot @11, utter_ask_departure @12: bot 5; listen @13
    cut = len(c.events)
    c.user("inform", text="Berlin", after=30)  # @44: user 44 - 12 = 32
    c.form_step(fill={"departure": "Berlin"}, ask="destination")  # filled @47, request @48, utter_ask @49: bot 5
    first.append((c.sender_id, c.events[:cut]))  # listen @50: the session lasts 50 s
    second.append((c.sender_id, c.events[cut:]))

    # k-abandon-slot (1 March 13:00, rest): a slot request without a question utterance, never answered
    c = conv("k-abandon-slot", DAY1 + timedelta(hours=3))
    c.session_start()
    c.user("check_booking", after=2)  # @5
    c.form_start("booking_lookup_form")  # action @7, active_loop @8
    c.request_slot("booking_reference", ask=None)  # requested_slot @9, action_listen @10; no bot message at all
    first.append((c.sender_id, c.events))

    # k-m1 (1 March 14:00, rest): user u-multi's first session ... until k-m0 arrives in the second load
    c = multi("k-m1", DAY1 + timedelta(hours=4), "rest")
    first.append((c.sender_id, c.events))

    # k-bounce (2 March, no user message, so no channel): bounced
    c = conv("k-bounce", DAY2)
    c.session_start()
    c.bot("utter_greet")  # action @3, bot @4, action_listen @5
    first.append((c.sender_id, c.events))

    # k-greet (2 March 12:00, rest): only a start intent: not engaged
    c = conv("k-greet", DAY2 + timedelta(hours=2))
    c.session_start()
    c.user("greet", after=2)  # @5
    c.bot("utter_greet")  # bot @8: bot 3; action_listen @9
    first.append((c.sender_id, c.events))

    # second load (environment staging) --------------------------------------------------------------------
    # k-fallback (2 March 11:00, rest): NLU fallback
    c = conv("k-fallback", DAY2 + timedelta(hours=1))
    c.session_start()
    c.user("nlu_fallback", text="asdf", after=6)  # @9
    c.fallback()  # action_default_fallback @11, utter_default @12: bot 3; rewind @13, action_listen @14
    c.user("greet", after=7)  # @22: user 22 - 12 = 10
    c.bot("utter_greet")  # bot @25: bot 3; action_listen @26
    second.append((c.sender_id, c.events))

    # k-m2 (2 March 14:00, rest) and k-m0 (29 February 14:00, socketio): u-multi's other senders
    c = multi("k-m2", DAY2 + timedelta(hours=4), "rest")
    second.append((c.sender_id, c.events))
    c = multi("k-m0", DAY0 + timedelta(hours=4), "socketio")
    second.append((c.sender_id, c.events))
    return first, second


@dataclass
class Built:
    wh: Warehouse
    after_first: dict[str, list[tuple[Any, ...]]]
    incremental: dict[str, list[tuple[Any, ...]]]
    full: dict[str, list[tuple[Any, ...]]]


FIRST_LOAD_QUERIES = {
    "k-abandon": "select is_abandoned, abandoned_question, user_messages_count from rasa_views.session_outcomes "
    "where sender_id = 'k-abandon'",
    "departure": "select requests_count, requested_count, attempted_count, filled_count, abandoned_count "
    "from rasa_views.slot_funnel where slot_name = 'departure'",
    "new users": "select kpi_date, input_channel, new_users_count from rasa_views.daily_kpis order by 1, 2",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("kpis")
    first, second = conversations()
    write_jsonl(tmp / "load1.jsonl", first)
    write_jsonl(tmp / "load2.jsonl", second)
    wh = fresh_duckdb(tmp / "kpis.duckdb")
    load(wh, "rasa", tmp / "load1.jsonl")
    build(wh, VARS)
    after_first = {name: wh.query(sql) for name, sql in FIRST_LOAD_QUERIES.items()}
    load(wh, "rasa", tmp / "load2.jsonl", environment="staging")
    dbt(["run"], wh, vars=VARS)
    incremental = snapshot(wh, "rasa", KPI_TABLES)
    dbt(["run", "--full-refresh"], wh, vars=VARS)
    return Built(wh, after_first, incremental, snapshot(wh, "rasa", KPI_TABLES))


def q(b: Built, sql: str) -> list[tuple[Any, ...]]:
    return b.wh.query(sql)


def test_incremental_equals_full_refresh(built: Built) -> None:
    for table in KPI_TABLES:
        assert built.full[table], f"{table} is empty"
        assert built.incremental[table] == built.full[table], f"{table}: incremental run differs from a full refresh"


def test_first_load(built: Built) -> None:
    # after the first load k-abandon ended on the departure question; k-m1 was u-multi's first session (1 March)
    assert built.after_first["k-abandon"] == [(True, "utter_ask_departure", 1)]
    # departure: k-contained asked twice (one instance: attempted, filled), k-abandon once (abandoned)
    assert built.after_first["departure"] == [(3, 2, 1, 1, 1)]
    new_users = {(str(d), ch): n for d, ch, n in built.after_first["new users"]}
    assert new_users[("2024-03-01", "rest")] == 3


def test_message_latency(built: Built) -> None:
    got = q(
        built,
        "select speaker, message_name, interaction_nr, is_response, response_seconds, seconds_since_previous_message "
        "from rasa_views.message_latency where sender_id = 'k-fallback' order by sequence_nr",
    )
    assert got == [
        ("user", "nlu_fallback", 1, False, None, None),  # the session's first message
        ("bot", "utter_default", 1, True, 3.0, 3.0),
        ("user", "greet", 2, True, 10.0, 10.0),
        ("bot", "utter_greet", 2, True, 3.0, 3.0),
    ]


def test_interaction_latency(built: Built) -> None:
    got = q(
        built,
        "select interaction_nr, intent_name, user_response_seconds, bot_response_seconds, bot_turn_seconds, "
        "bot_messages_count from rasa_views.interaction_latency where sender_id = 'k-contained' order by 1",
    )
    assert got == [
        (1, "greet", None, 3.0, 3.0, 1),
        (2, "book_flight", 22.0, 5.0, 5.0, 1),
        (3, "inform", 7.0, 5.0, 5.0, 1),
        (4, "inform", 6.0, 7.0, 7.0, 1),
        (5, "thankyou", 10.0, 3.0, 3.0, 1),
    ]
    # the bot never answered k-abandon-slot's message
    assert q(
        built,
        "select bot_response_seconds, bot_messages_count from rasa_views.interaction_latency "
        "where sender_id = 'k-abandon-slot'",
    ) == [(None, 0)]


def test_session_latency(built: Built) -> None:
    got = q(
        built,
        "select sender_id, bot_replies_count, median_bot_response_seconds, max_bot_response_seconds, "
        "user_replies_count, median_user_response_seconds, max_user_response_seconds "
        "from rasa_views.session_latency where sender_id in ('k-contained', 'k-abandon', 'k-bounce') order by 1",
    )
    assert got == [
        # bot replies 5, 3, 5, 7, 3 (median 5, max 7); user replies 22, 7, 6, 10 (median (7 + 10) / 2)
        ("k-abandon", 2, 5.0, 5.0, 1, 32.0, 32.0),
        ("k-bounce", 0, None, None, 0, None, None),
        ("k-contained", 5, 5.0, 7.0, 4, 8.5, 22.0),
    ]


OUTCOME_COLUMNS = (
    "sender_id, session_id, cast(session_date as varchar), input_channel, environment, session_duration_seconds, "
    "user_messages_count, first_intent, exit_intent, last_bot_utterance, is_new_user, is_bounced, is_engaged, "
    "is_contained, is_handover, is_fallback_session, is_abandoned, abandoned_question"
)


def test_session_outcomes(built: Built) -> None:
    got = q(built, f"select {OUTCOME_COLUMNS} from rasa_views.session_outcomes order by session_date, sender_id")
    p, s = "production", "staging"
    assert got == [
        # sender, session, day, channel, environment, duration, user messages, first, exit, last bot message,
        # new user, bounced, engaged, contained, handover, fallback, abandoned, abandoned question
        ("k-m0", "u-multi/1", "2024-02-29", "socketio", s, 19, 2, "greet", "goodbye", "utter_goodbye",
         True, False, True, True, False, False, False, None),
        ("k-abandon", "k-abandon/1", "2024-03-01", "socketio", p, 50, 2, "book_flight", "inform",
         "utter_ask_destination", True, False, True, True, False, False, True, "utter_ask_destination"),
        ("k-abandon-slot", "k-abandon-slot/1", "2024-03-01", "rest", p, 10, 1, "check_booking", "check_booking",
         None, True, False, True, True, False, False, True, "requested_slot:booking_reference"),
        ("k-contained", "k-contained/1", "2024-03-01", "rest", p, 82, 5, "greet", "thankyou",
         "utter_youre_welcome", True, False, True, True, False, False, False, None),
        ("k-handoff", "k-handoff/1", "2024-03-01", "facebook", p, 10, 1, "request_human", "request_human",
         "utter_handoff", True, False, True, False, True, False, False, None),
        ("k-m1", "u-multi/2", "2024-03-01", "rest", p, 19, 2, "greet", "goodbye", "utter_goodbye",
         False, False, True, True, False, False, False, None),
        ("k-bounce", "k-bounce/1", "2024-03-02", None, p, 5, 0, None, None, "utter_greet",
         True, True, False, True, False, False, False, None),
        ("k-fallback", "k-fallback/1", "2024-03-02", "rest", s, 26, 2, "nlu_fallback", "greet", "utter_greet",
         True, False, True, True, False, True, False, None),
        ("k-greet", "k-greet/1", "2024-03-02", "rest", p, 9, 1, "greet", "greet", "utter_greet",
         True, False, False, True, False, False, False, None),
        ("k-m2", "u-multi/3", "2024-03-02", "rest", s, 19, 2, "greet", "goodbye", "utter_goodbye",
         False, False, True, True, False, False, False, None),
    ]  # fmt: skip


DAILY_COLUMNS = (
    "cast(kpi_date as varchar), input_channel, environment, sessions_count, users_count, new_users_count, "
    "engaged_sessions_count, bounced_sessions_count, contained_sessions_count, handover_sessions_count, "
    "fallback_sessions_count, abandoned_sessions_count, user_messages_count, median_session_duration_seconds, "
    "bot_replies_count, median_bot_response_seconds, max_bot_response_seconds"
)


def test_daily_kpis(built: Built) -> None:
    got = q(built, f"select {DAILY_COLUMNS} from rasa_views.daily_kpis order by 1, 2, 3")
    p, s = "production", "staging"
    assert got == [
        # day, channel, environment, sessions, users, new users, engaged, bounced, contained, handover, fallback,
        # abandoned, user messages, median duration, bot replies, median bot latency, max bot latency
        ("2024-02-29", "socketio", s, 1, 1, 1, 1, 0, 1, 0, 0, 0, 2, 19.0, 2, 3.0, 3.0),  # k-m0
        ("2024-03-01", "facebook", p, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 10.0, 1, 3.0, 3.0),  # k-handoff
        # k-abandon-slot, k-contained, k-m1 (no longer u-multi's first session): durations 10, 82, 19;
        # bot latencies 3, 5, 5, 7, 3 (k-contained) and 3, 3 (k-m1): median 3
        ("2024-03-01", "rest", p, 3, 3, 2, 3, 0, 3, 0, 0, 1, 8, 19.0, 7, 3.0, 7.0),
        ("2024-03-01", "socketio", p, 1, 1, 1, 1, 0, 1, 0, 0, 1, 2, 50.0, 2, 5.0, 5.0),  # k-abandon
        ("2024-03-02", "(none)", p, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 5.0, 0, None, None),  # k-bounce
        ("2024-03-02", "rest", p, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 9.0, 1, 3.0, 3.0),  # k-greet
        # k-fallback and k-m2: durations 26 and 19
        ("2024-03-02", "rest", s, 2, 2, 1, 2, 0, 2, 0, 1, 0, 4, 22.5, 4, 3.0, 3.0),
    ]
    rates = q(
        built,
        "select engagement_rate, bounce_rate, containment_rate, handover_rate, fallback_rate, abandonment_rate, "
        "interactions_per_session from rasa_views.daily_kpis where kpi_date = date '2024-03-01' "
        "and input_channel = 'rest'",
    )
    assert rates == [(1.0, 0.0, 1.0, 0.0, 0.0, 1 / 3, 8 / 3)]


def test_slot_funnel(built: Built) -> None:
    got = q(
        built,
        "select form_name, slot_name, requests_count, requested_count, attempted_count, filled_count, "
        "abandoned_count, fill_rate, abandonment_rate from rasa_views.slot_funnel order by 1, 2",
    )
    assert got == [
        ("booking_form", "departure", 3, 2, 2, 2, 0, 1.0, 0.0),  # k-abandon filled it in the second load
        ("booking_form", "destination", 1, 1, 0, 0, 1, 0.0, 1.0),  # ... and left at the next question
        ("booking_lookup_form", "booking_reference", 1, 1, 0, 0, 1, 0.0, 1.0),
    ]


def test_intent_transitions(built: Built) -> None:
    got = q(
        built,
        "select step, from_intent, to_intent, transitions_count from rasa_views.intent_transitions order by 1, 2, 3",
    )
    assert got == [
        (1, "(start)", "book_flight", 1),  # k-abandon
        (1, "(start)", "check_booking", 1),  # k-abandon-slot
        (1, "(start)", "greet", 5),  # k-contained, k-greet, k-m0, k-m1, k-m2
        (1, "(start)", "nlu_fallback", 1),  # k-fallback
        (1, "(start)", "request_human", 1),  # k-handoff
        (2, "book_flight", "inform", 1),
        (2, "check_booking", "(end)", 1),
        (2, "greet", "(end)", 1),
        (2, "greet", "book_flight", 1),
        (2, "greet", "goodbye", 3),
        (2, "nlu_fallback", "greet", 1),
        (2, "request_human", "(end)", 1),
        (3, "book_flight", "inform", 1),
        (3, "goodbye", "(end)", 3),
        (3, "greet", "(end)", 1),
        (3, "inform", "(end)", 1),
        (4, "inform", "inform", 1),
        (5, "inform", "thankyou", 1),
        (6, "thankyou", "(end)", 1),
    ]


def test_data_tests_pass(built: Built) -> None:
    dbt(["test", "-s", "tag:kpis"], built.wh, vars=VARS)


def test_configuration_by_vars_and_seed(built: Built, tmp_path: Path) -> None:
    """Start intents from a var and the seed, question utterances from a var, a fallback metric from the seed;
    a metric name that does not exist fails with a message that names it (here from the seed, read at run time)."""
    wh = copy_duckdb(built.wh, tmp_path / "custom.duckdb")
    seed = "rasa_staging.rasa_kpi_settings"  # the package's (empty) seed, filled as a user's values would fill it

    def fill_seed(*rows: tuple[str, str]) -> None:
        values = ", ".join(f"('{a}', '{b}')" for a, b in rows)
        wh.execute(f"create or replace table {seed} as select * from (values {values}) t(setting, value)")

    custom = {
        **VARS,
        "kpi_start_intents": ["greet"],  # + goodbye from the seed: u-multi's sessions say nothing else
        "kpi_question_utterances": ["utter_ask_departure"],  # no longer utter_ask_destination
        "kpi_fallback_metrics": [],  # only intent_out_of_scope, from the seed
    }
    fill_seed(("start_intent", "goodbye"), ("fallback_metric", "intent_out_of_scope"))
    dbt(["run", "-s", "session_outcomes", "--full-refresh"], wh, vars=custom)
    got = wh.query(
        "select sender_id, is_engaged, is_abandoned, abandoned_question, is_fallback_session "
        "from rasa_views.session_outcomes where sender_id in ('k-m1', 'k-abandon', 'k-fallback') order by 1"
    )
    assert got == [
        # the request of destination (requested_slot) is still a question
        ("k-abandon", True, True, "requested_slot:destination", False),
        ("k-fallback", True, False, None, False),
        ("k-m1", False, False, None, False),
    ]
    fill_seed(("fallback_metric", "no_such_metric"))
    failed = dbt(["run", "-s", "session_outcomes"], wh, vars=custom, expect_success=False)
    messages = [str(failed.exception or "")]
    messages += [str(getattr(r, "message", "")) for r in (getattr(failed.result, "results", None) or [])]
    assert any("kpi_fallback_metrics" in m and "no_such_metric" in m for m in messages), messages
