"""Hostile configuration (contract §4.6): no var, and no row of a configuration seed, can inject SQL.

Every var that reaches SQL gets values full of SQL syntax: a quote, a semicolon, `--`, a closing parenthesis, a
double quote, a backslash, a newline (and `/*`, Jinja braces). Two outcomes are allowed, and each var has one:

* the value is data (intent, action and response names: `story_intents`, `count_metrics` values in both forms, the
  seeds rasa_count_metrics / rasa_story_intents / rasa_kpi_settings, `kpi_start_intents`,
  `kpi_question_utterances`): it is matched literally; the conversations below use exactly these names, and the
  views show them, counted and labelled, character for character;
* the value is an identifier or a number (`source_schema_prefix`, `dest_schema_prefix`, `user_id`,
  `external_session_id`, metric names, the `*_seeds` lists, `kpi_handoff_metric`, `kpi_fallback_metrics`,
  `compat_old_session_gap_minutes`, `run_lock_timeout_minutes`): dbt stops with a compile error that names the var.

Never as SQL: every hostile value carries a statement against a canary (`drop table rss_canary.keep`,
`create table rss_canary.created`, each followed by `commit`), and after every run the canary table is intact and
the other one was never created. On PostgreSQL the warehouse database runs with standard_conforming_strings = off, so
that a backslash escapes a quote there unless the package quotes for it.

One warehouse per kind: loaded and built once with every literal var and seed at its hostile value; the refusals are a
few `dbt run` invocations that must stop while dbt parses the project (one of them with every identifier and number
var hostile at once), and the seed refusal compiles one model of a copy. test_customization.py and test_kpis.py prove
the same vars with ordinary values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from dbtkit import Warehouse, Warehouses, dbt, describe, load

from rasa_tracker_loader.conversation import Conversation, write_jsonl

CANARY_SCHEMA = "rss_canary"
DROP = f"drop table {CANARY_SCHEMA}.keep; commit; --"
CREATE = f"create table {CANARY_SCHEMA}.created as select 1 as i; commit; --"

# one value per dangerous piece of SQL syntax; each also tries a statement against the canary
HOSTILE: dict[str, str] = {
    "quote": f"it's'; {DROP}",
    "semicolon": f"a; {CREATE}",
    "comment": "a -- rest of the line",
    "paren": f"x') or (1 = 1); {DROP}",
    "double_quote": f'say "hi"; {CREATE}',
    "backslash": f"back\\'; {CREATE}\\",
    "newline": f"two\nlines'); {DROP}\n--",
    "block_comment": "open /* comment",
    "jinja": "{{ 6 * 7 }} {% if true %}",
}
INTENTS = list(HOSTILE.values())
UTTERANCES = [f"utter_{v}" for v in INTENTS]
ACTIONS = [f"action_{v}" for v in INTENTS]
SEED_STORY_INTENT = 'seed\'s story \\ "x"; -- )\n' + DROP
START_INTENT = HOSTILE["quote"]
QUESTION_PREFIX = 'utter_ask_it\'s "q" \\'  # a kpi_question_utterances prefix (ends with *)
PREFIX_QUESTION = QUESTION_PREFIX + "; drop --"
EXACT_QUESTION = "utter_ask) \\'; " + CREATE

# the vars of the literal build: every value-type var at once
LITERAL_VARS: dict[str, Any] = {
    "story_intents": INTENTS,
    "count_metrics": [
        {"intent_hostile": INTENTS},  # 1.x form: the kind from the name
        {"name": "utter_hostile", "kind": "utterance", "values": UTTERANCES},
        {"name": "action_hostile", "kind": "action", "values": ACTIONS},
    ],
    "kpi_handoff_metric": "action_hostile",
    "kpi_fallback_metrics": ["seed_hostile"],
    "kpi_start_intents": [START_INTENT],
    "kpi_question_utterances": [QUESTION_PREFIX + "*", EXACT_QUESTION],
}

# a value that is refused wherever an identifier or a number is expected: all of the syntax above in one
ALL_IN_ONE = f"x'\"); {DROP}\\\n{CREATE} /*"


def conversations() -> list[Conversation]:
    out = []
    c = Conversation("h-intents")  # one interaction per hostile intent
    c.session_start()
    for intent in INTENTS:
        c.user(intent)
        c.bot("utter_ok")
    out.append(c)
    c = Conversation("h-bot")  # the hostile responses
    c.session_start()
    c.user("greet")
    for utterance in UTTERANCES:
        c.bot(utterance, text="hello", listen=False)
    c.listen()
    out.append(c)
    c = Conversation("h-action")  # the hostile actions
    c.session_start()
    c.user("greet")
    for action in ACTIONS:
        c.action(action, listen=False)
    c.listen()
    out.append(c)
    c = Conversation("h-seed")  # a story intent that only the seed names
    c.session_start()
    c.user(SEED_STORY_INTENT)
    out.append(c)
    c = Conversation("h-start")  # only a start intent, then a question by prefix: not engaged, abandoned
    c.session_start()
    c.user(START_INTENT)
    c.bot(PREFIX_QUESTION, text="?")
    out.append(c)
    c = Conversation("h-ask")  # the question by its exact name
    c.session_start()
    c.user("greet")
    c.bot(EXACT_QUESTION, text="?")
    out.append(c)
    return out


def sql_text(value: str) -> str:
    """A string literal for the set-up statements (run before the PostgreSQL database goes non-standard)."""
    return "'" + value.replace("'", "''") + "'"


def canary_state(wh: Warehouse) -> tuple[list[tuple[Any, ...]], bool]:
    """The canary's rows, and whether the table the hostile values try to create exists."""
    return wh.query(f"select v from {CANARY_SCHEMA}.keep"), wh.table_exists(CANARY_SCHEMA, "created")


def assert_canary_intact(wh: Warehouse) -> None:
    assert canary_state(wh) == ([("intact",)], False)


def fill_seeds(
    wh: Warehouse,
    metrics: list[tuple[str, str, str]],
    story_intents: list[str],
    kpi_settings: Sequence[tuple[str, str]] = (),
) -> None:
    """The seed tables as `dbt seed` leaves them (the package reads them, whatever wrote them)."""
    wh.execute("create schema if not exists rasa_staging")
    for table in ("rasa_count_metrics", "rasa_story_intents", "rasa_kpi_settings"):
        wh.execute(f"drop table if exists rasa_staging.{table}")
    wh.execute("create table rasa_staging.rasa_count_metrics (metric_name varchar, kind varchar, value varchar)")
    wh.execute("create table rasa_staging.rasa_story_intents (intent varchar)")
    wh.execute("create table rasa_staging.rasa_kpi_settings (setting varchar, value varchar)")
    for row in metrics:
        wh.execute(f"insert into rasa_staging.rasa_count_metrics values ({', '.join(sql_text(v) for v in row)})")
    for intent in story_intents:
        wh.execute(f"insert into rasa_staging.rasa_story_intents values ({sql_text(intent)})")
    for setting in kpi_settings:
        wh.execute(f"insert into rasa_staging.rasa_kpi_settings values ({', '.join(sql_text(v) for v in setting)})")


@pytest.fixture(scope="module")
def hostile(warehouses: Warehouses, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    tmp = tmp_path_factory.mktemp("hostile")
    data = tmp / "hostile.jsonl"
    write_jsonl(data, conversations())
    wh = warehouses.new("hostile")
    load(wh, "rasa", data)
    wh.execute(f"create schema {CANARY_SCHEMA}")
    wh.execute(f"create table {CANARY_SCHEMA}.keep (v varchar)")
    wh.execute(f"insert into {CANARY_SCHEMA}.keep values ('intact')")
    fill_seeds(
        wh,
        [("seed_hostile", "intent", v) for v in INTENTS] + [("seed_hostile", "intent", SEED_STORY_INTENT)],
        [SEED_STORY_INTENT],
        # h-seed's only message is a start intent too, by the seed rasa_kpi_settings
        [("start_intent", SEED_STORY_INTENT)],
    )
    if wh.kind == "postgres":
        # a backslash in a plain '...' literal now escapes the next character, as on servers configured this way
        wh.execute(f'alter database "{wh.pg_database}" set standard_conforming_strings = off')
    # `dbt run`, not build: a seed build would replace the seed tables written above
    dbt(["run"], wh, vars=LITERAL_VARS)
    yield wh


# ---------------------------------------------------------------------------------------------- values are data


def test_canary_intact_after_the_literal_build(hostile: Warehouse) -> None:
    assert_canary_intact(hostile)
    if hostile.kind == "postgres":
        assert hostile.query("show standard_conforming_strings") == [("off",)]


def test_loaded_names_are_the_hostile_ones(hostile: Warehouse) -> None:
    got = hostile.query("select intent_name from rasa_views.user_messages where sender_id = 'h-intents'")
    assert sorted(r[0] for r in got) == sorted(INTENTS)


def test_story_intents_match_literally(hostile: Warehouse) -> None:
    got = hostile.query(
        "select interaction_nr, intent, story_intent from rasa_views.interactions "
        "where sender_id = 'h-intents' and interaction_nr > 0 order by interaction_nr"
    )
    assert [(nr, intent) for nr, intent, _ in got] == list(enumerate(INTENTS, start=1))
    assert [story for _, _, story in got] == INTENTS
    first = hostile.query(
        "select first_story_intent, distinct_story_intent_count from rasa_views.sessions where sender_id = 'h-intents'"
    )
    assert first == [(INTENTS[0], len(INTENTS))]
    # a story intent from the seed rasa_story_intents
    assert hostile.query(
        "select story_intent from rasa_views.interactions where sender_id = 'h-seed' and interaction_nr = 1"
    ) == [(SEED_STORY_INTENT,)]


def test_count_metrics_count_literally(hostile: Warehouse) -> None:
    per_interaction = hostile.query(
        "select intent_hostile_count, seed_hostile_count from rasa_views.interactions "
        "where sender_id = 'h-intents' and interaction_nr > 0"
    )
    assert len(per_interaction) == len(INTENTS)
    assert {(int(a), int(b)) for a, b in per_interaction} == {(1, 1)}
    sessions = hostile.query(
        "select sender_id, intent_hostile_count, seed_hostile_count, utter_hostile_count, action_hostile_count, "
        "intent_hostile_session_id from rasa_views.sessions order by sender_id"
    )
    counts = {s: tuple(int(v) for v in row[:4]) for s, *row in sessions}
    n = len(INTENTS)
    assert counts == {
        "h-action": (0, 0, 0, n),
        "h-ask": (0, 0, 0, 0),
        "h-bot": (0, 0, n, 0),
        "h-intents": (n, n, 0, 0),
        "h-seed": (0, 1, 0, 0),
        "h-start": (1, 1, 0, 0),
    }
    assert {s: row[4] for s, *row in sessions}["h-intents"] == "h-intents/1"


def test_kpi_lists_match_literally(hostile: Warehouse) -> None:
    got = hostile.query(
        "select sender_id, is_engaged, is_abandoned, abandoned_question, is_handover, is_fallback_session "
        "from rasa_views.session_outcomes order by sender_id"
    )
    assert got == [
        ("h-action", True, False, None, True, False),
        ("h-ask", True, True, EXACT_QUESTION, False, False),
        ("h-bot", True, False, None, False, False),
        ("h-intents", True, False, None, False, True),
        ("h-seed", False, False, None, False, True),
        ("h-start", False, True, PREFIX_QUESTION, False, True),
    ]


# ------------------------------------------------------------------------------------------ values are refused

# The refusals. Every identifier and number var is checked while dbt parses the project, all at once: one run with
# every such var hostile stops with one error that names each of them. Each var gets a hostile value of its own, in
# turn (so that every piece of syntax is refused somewhere), and every value tries a canary statement. Not the Jinja
# one: dbt renders a var whose value is a string as Jinja before the package sees it (so that `{{ env_var(...) }}`
# works in a var); that value is data only inside a list (story_intents, count_metrics values, kpi lists above).
_V = list(HOSTILE.values())
ALL_REFUSED: dict[str, Any] = {
    "source_schema_prefix": _V[0],
    "dest_schema_prefix": _V[1],
    "user_id": _V[2],
    "external_session_id": _V[3],
    "compat_old_session_gap_minutes": f"60) or (1 = 1); {DROP}",
    "count_metrics": [
        {f"intent_{_V[4]}": ["greet"]},  # 1.x form: a name
        {"name": "greets", "kind": _V[5], "values": ["greet"]},  # explicit form: a kind
        {"actions": ["action_x"]},  # not hostile, but broken SQL before: the views have a column actions_count
    ],
    "count_metrics_seeds": [_V[6]],
    "story_intents_seeds": ["rasa_story_intents", _V[7]],
    "kpi_settings_seeds": f"rasa_kpi_settings,{ALL_IN_ONE}",  # the comma-separated form of a list var
    "kpi_handoff_metric": ALL_IN_ONE,
    "kpi_fallback_metrics": ["intent_nlu_fallback", _V[1]],
}
# (case, vars, what the message must contain)
REFUSED: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "all_at_once",
        ALL_REFUSED,
        [f"var '{name}'" for name in ALL_REFUSED if name != "count_metrics"]
        + [
            "var 'count_metrics' must be an identifier",
            'got: "intent_say',
            "has kind",
            "metric 'actions'",
            "13 problems",
        ],
    ),
    # each alone is refused too; dbt lists the source schema as it is, before any model compiles: refused also when
    # the destination has a prefix of its own (before this check, `dbt compile` ran this value's create table +
    # commit during that lookup)
    (
        "source_schema_prefix",
        {"source_schema_prefix": f"x'; {CREATE}\nselect 1 where 'a' = 'a", "dest_schema_prefix": "rasa"},
        ["var 'source_schema_prefix'", "1 problem)"],
    ),
    ("metric_name_clash", {"count_metrics": [{"actions": ["action_x"]}]}, ["metric 'actions' (var 'count_metrics')"]),
    # checked by the run lock (macros/lifecycle/run_lock.sql) when a run starts
    ("run_lock_timeout_minutes", {"run_lock_timeout_minutes": f"5; {DROP}"}, ["var 'run_lock_timeout_minutes'"]),
]


def failure_text(result: Any) -> str:
    texts = [describe(result)]
    texts += [str(getattr(r, "message", "") or "") for r in (getattr(result.result, "results", None) or [])]
    return "\n".join(texts)


@pytest.mark.parametrize(("case", "vars", "expected"), REFUSED, ids=[c for c, _, _ in REFUSED])
def test_identifier_and_number_vars_are_refused(
    hostile: Warehouse, case: str, vars: dict[str, Any], expected: list[str]
) -> None:
    result = dbt(["run"], hostile, vars=vars, expect_success=False)
    text = failure_text(result)
    assert "Compilation Error" in text, text
    for needle in expected:
        assert needle in text, (needle, text)
    assert_canary_intact(hostile)


def test_seed_metric_names_are_refused(hostile: Warehouse, warehouses: Warehouses) -> None:
    """A metric name in the seed rasa_count_metrics is checked like one in the var (and its kind likewise, by the same
    code): the error names the seed. Seeds are read while a model compiles, so dbt stops at the first model that counts
    metrics, before its SQL is sent."""
    wh = warehouses.copy(hostile, "seed")
    if wh.kind == "postgres":
        wh.execute(f'alter database "{wh.pg_database}" set standard_conforming_strings = on')
    fill_seeds(wh, [(ALL_IN_ONE, "intent", "greet")], [])
    result = dbt(["compile", "-s", "stg_interactions"], wh, vars=LITERAL_VARS, expect_success=False)
    text = failure_text(result)
    assert "seed rasa_count_metrics" in text and "'count_metrics_seeds" in text, text
    assert_canary_intact(wh)
