"""The customization project in integration_tests/ (how users consume the package) builds on the sample data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dbtkit import ROOT, Warehouse, Warehouses, dbt, load

from rasa_tracker_loader.conversation import write_jsonl
from rasa_tracker_loader.generator import generate

PROJECT = ROOT / "integration_tests"


@pytest.fixture(scope="module")
def custom(warehouses: Warehouses, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    tmp = tmp_path_factory.mktemp("custom")
    data = tmp / "trackers.jsonl"
    write_jsonl(data, generate(n_conversations=40, seed=5))
    wh = warehouses.new("custom")
    load(wh, "rasa", data)
    load(wh, "rasa", "--model", ROOT / "sample_bot")
    dbt(["deps"], wh, project_dir=PROJECT)
    dbt(["seed"], wh, project_dir=PROJECT)
    dbt(["test", "-s", "tag:prerequisites"], wh, project_dir=PROJECT)
    dbt(["run"], wh, project_dir=PROJECT)
    # the package's unit tests do not depend on the project: test_scenarios runs them
    dbt(["test", "--exclude", "tag:prerequisites", "test_type:unit"], wh, project_dir=PROJECT)
    return wh


def test_builds_into_its_own_destination(custom: Warehouse) -> None:
    assert custom.query("select count(*) from custom_views.sessions")[0][0] > 40
    # another destination prefix never writes into the source schemas
    assert custom.query("select count(*) from rasa_event._loads where status <> 0") == [(0,)]
    assert custom.query("select count(distinct load_id) from custom_event._loads where status = 1") == custom.query(
        "select count(distinct load_id) from rasa_event._loads"
    )


def test_metrics_from_vars_and_seed(custom: Warehouse) -> None:
    cols = set(custom.columns("custom_views", "sessions"))
    # var count_metrics (both forms) and the seed my_metric_intents
    for metric in (
        "intents_frustrated",
        "actions_agent_handoff",
        "faq_answers",
        "intent_out_of_scope",
        "intent_nlu_fallback",
        "action_default_fallback",
    ):
        assert f"{metric}_count" in cols and f"{metric}_session_id" in cols, metric
    # the package defaults are replaced, not added to
    assert "intents_happy_count" not in cols
    faq = custom.query("select sum(faq_answers_count) from custom_views.interactions")[0][0]
    utterances = custom.query("select count(*) from custom_views.bot_actions where utter_action like 'utter_faq/%'")[0][
        0
    ]
    assert faq == utterances and faq > 0
    fallback = custom.query("select sum(intent_nlu_fallback_count) from custom_views.sessions")[0][0]
    assert (
        fallback
        == custom.query("select count(*) from custom_views.user_messages where intent_name = 'nlu_fallback'")[0][0]
    )


def test_story_intents_from_var_and_seed(custom: Warehouse) -> None:
    got = {
        r[0]
        for r in custom.query(
            "select distinct story_intent from custom_views.interactions where story_intent is not null"
        )
    }
    assert "book_flight" in got  # var story_intents
    assert got & {"check_booking", "cancel_booking", "offset_emissions"}  # seed my_story_intents
    assert got <= {"book_flight", "check_booking", "cancel_booking", "offset_emissions"}


def test_external_user_ids_span_senders(custom: Warehouse) -> None:
    multi = custom.query("select count(*) from custom_views.users where senders_count > 1")[0][0]
    assert multi > 0


def test_models_table_from_sample_bot(custom: Warehouse) -> None:
    names = custom.query("select model_name_custom from custom_views.models")
    assert names and all(n[0] for n in names)


def as_utc(value: datetime) -> datetime:
    """A timestamp without zone is UTC (the package's rule); one with zone is converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_ledger_marks_at_the_time_of_the_run(custom: Warehouse) -> None:
    """The ledger's inserted_at (status 1, written by the run) is a few minutes after the load's (status 0, written
    by the loader), not shifted by a time zone (the PostgreSQL test server's is +05:30)."""
    loaded = custom.query("select max(inserted_at) from rasa_event._loads where status = 0")[0][0]
    marked = custom.query("select max(inserted_at) from custom_event._loads where status = 1")[0][0]
    assert timedelta(0) <= as_utc(marked) - as_utc(loaded) < timedelta(minutes=30)
