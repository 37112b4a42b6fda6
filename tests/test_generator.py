"""Tests of the conversation builder (`rasa_tracker_loader.conversation`) and the generator of synthetic
tracker data (`rasa_tracker_loader.generator`): exact events for hand-written conversations, determinism,
size control, the fields Rasa writes, and the features a medium sample must contain."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from rasa_tracker_loader.conversation import (
    BOT_DATA,
    UTC,
    Conversation,
    tracker_document,
    write_jsonl,
    write_tracker_json,
)
from rasa_tracker_loader.generator import (
    GeneratorConfig,
    events_to_jsonl,
    generate,
    generate_scenario_set,
    main,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_BOT = REPO_ROOT / "sample_bot"
T0 = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
TS0 = T0.timestamp()
MD = {"model_id": "m1", "assistant_id": "a1"}

# fields Rasa 3.x writes per event type (besides "event" and "timestamp")
REQUIRED_FIELDS: dict[str, set[str]] = {
    "user": {"metadata", "text", "parse_data", "input_channel", "message_id"},
    "bot": {"text", "data", "metadata"},
    "action": {"name", "policy", "confidence", "action_text", "hide_rule_turn"},
    "slot": {"name", "value"},
    "active_loop": {"name"},
    "session_started": set(),
    "restart": set(),
    "rewind": set(),
    "user_featurization": {"use_text_for_featurization"},
}
OPTIONAL_FIELDS = {"metadata"}


def conv(**kwargs: Any) -> Conversation:
    kwargs.setdefault("model_id", "m1")
    kwargs.setdefault("assistant_id", "a1")
    return Conversation("s1", T0, **kwargs)


def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(event, name-ish, value) triples: enough to compare event order compactly."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        kind = e["event"]
        if kind in ("action", "active_loop"):
            out.append((kind, e["name"]))
        elif kind == "slot":
            out.append((kind, e["name"], e["value"]))
        elif kind == "user":
            out.append((kind, e["parse_data"]["intent"]["name"]))
        elif kind == "bot":
            out.append((kind, e["metadata"].get("utter_action")))
        else:
            out.append((kind,))
    return out


@pytest.fixture(scope="module")
def sample() -> list[tuple[str, list[dict[str, Any]]]]:
    """A medium sample: 40k events (about 500 senders)."""
    return list(generate(40_000, seed=7))


def all_events(sample: list[tuple[str, list[dict[str, Any]]]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for sender_id, events in sample:
        for event in events:
            yield sender_id, event


# ---------------------------------------------------------------------------------------------- builder


def test_builder_session_start_user_and_bot_exact() -> None:
    c = conv(tick=0.5)
    c.session_start(metadata={"user_id": "u1"}, same_time=True)
    c.user("greet", text="hi", metadata={"user_id": "u1"}, input_channel="rest", message_id="mid1", after=10)
    c.bot("utter_greet", text="Hello!")
    md_u = {"user_id": "u1", **MD}
    assert c.events == [
        {"event": "slot", "timestamp": TS0, "metadata": MD, "name": "session_started_metadata",
         "value": {"user_id": "u1"}},
        {"event": "action", "timestamp": TS0, "metadata": MD, "name": "action_session_start", "policy": None,
         "confidence": 1.0, "action_text": None, "hide_rule_turn": False},
        {"event": "session_started", "timestamp": TS0, "metadata": MD},
        # carried over (carry_over_slots_to_new_session): the metadata slot is among the applied events
        {"event": "slot", "timestamp": TS0 + 0.5, "metadata": MD, "name": "session_started_metadata",
         "value": {"user_id": "u1"}},
        {"event": "action", "timestamp": TS0 + 1.0, "metadata": MD, "name": "action_listen", "policy": None,
         "confidence": None, "action_text": None, "hide_rule_turn": False},
        {"event": "user", "timestamp": TS0 + 11.5, "metadata": md_u, "text": "hi",
         "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": [], "text": "hi",
                        "message_id": "mid1", "metadata": {"user_id": "u1"},
                        "intent_ranking": [{"name": "greet", "confidence": 1.0}]},
         "input_channel": "rest", "message_id": "mid1"},
        {"event": "user_featurization", "timestamp": TS0 + 12.0, "metadata": MD,
         "use_text_for_featurization": False},
        {"event": "action", "timestamp": TS0 + 12.5, "metadata": MD, "name": "utter_greet", "policy": "RulePolicy",
         "confidence": 1.0, "action_text": None, "hide_rule_turn": True},
        {"event": "bot", "timestamp": TS0 + 13.0, "metadata": {"utter_action": "utter_greet", **MD},
         "text": "Hello!", "data": dict(BOT_DATA)},
        {"event": "action", "timestamp": TS0 + 13.5, "metadata": MD, "name": "action_listen", "policy": "RulePolicy",
         "confidence": 1.0, "action_text": None, "hide_rule_turn": True},
    ]  # fmt: skip


def test_builder_session_start_without_metadata_and_legacy() -> None:
    c = conv(carry_over_slots=False)
    c.session_start()
    assert shape(c.events) == [("action", "action_session_start"), ("session_started",), ("action", "action_listen")]
    c = conv()
    c.session_start({"user_id": "u9"}, legacy=True)
    assert c.events[1] == {"event": "session_started", "timestamp": TS0 + 0.001, "metadata": {"user_id": "u9", **MD}}
    assert all(e["event"] != "slot" for e in c.events)


def test_builder_no_model_metadata_like_old_sdks() -> None:
    c = Conversation("old", T0, model_id=None, assistant_id=None, user_featurization=False)
    c.listen(policy=None, confidence=None)
    c.user("greet")
    c.bot("utter_greet")
    assert "metadata" not in c.events[0]
    assert c.events[1]["metadata"] == {}  # a user event always has metadata
    assert c.events[2].get("metadata") is None
    assert c.events[3]["metadata"] == {"utter_action": "utter_greet"}
    assert [e["event"] for e in c.events] == ["action", "user", "action", "bot", "action"]


def test_builder_restart_forms() -> None:
    c = conv(carry_over_slots=False)
    c.user("restart", "/restart")
    c.restart(form="old", reply="utter_restart")
    assert shape(c.events) == [
        ("user", "restart"),
        ("user_featurization",),
        ("action", "action_restart"),
        ("bot", "utter_restart"),
        ("restart",),
        ("action", "action_listen"),
    ]
    assert c.events[-1]["policy"] is None and c.events[-1]["confidence"] == 1.0

    c = conv(carry_over_slots=False)
    c.slot("departure", "Berlin")
    c.restart(form="new", same_time=True)
    assert shape(c.events)[1:] == [
        ("action", "action_restart"),
        ("restart",),
        ("action", "action_session_start"),
        ("session_started",),
        ("action", "action_listen"),
    ]
    assert len({e["timestamp"] for e in c.events[1:]}) == 1
    # slots set before the restart are not carried over (the restart empties the tracker)
    c.wait(hours=2)
    c.session_start()
    assert shape(c.events)[-3:] == [
        ("action", "action_session_start"),
        ("session_started",),
        ("action", "action_listen"),
    ]


def test_builder_form_events_exact_order() -> None:
    c = conv(carry_over_slots=False, user_featurization=False)
    c.form_start("booking_form")
    c.request_slot("departure")
    c.user("inform", "from Atlantis", entities=[("city", "Atlantis")], slots={"departure": "Atlantis"})
    c.form_step(fill={"departure": None}, ask="departure")
    c.user("inform", "Oslo", entities=[("city", "Oslo")], slots={"departure": "Oslo"})
    c.form_step(fill={"departure": "Oslo"})
    c.action("action_submit_booking", say=["utter_booking_confirmed"], slots={"booking_confirmed": True})
    assert shape(c.events) == [
        ("action", "booking_form"),
        ("active_loop", "booking_form"),
        ("slot", "requested_slot", "departure"),
        ("bot", "utter_ask_departure"),
        ("action", "action_listen"),
        ("user", "inform"),
        ("slot", "departure", "Atlantis"),
        ("action", "booking_form"),
        ("slot", "departure", None),
        ("slot", "requested_slot", "departure"),
        ("bot", "utter_ask_departure"),
        ("action", "action_listen"),
        ("user", "inform"),
        ("slot", "departure", "Oslo"),
        ("action", "booking_form"),
        ("slot", "departure", "Oslo"),
        ("slot", "requested_slot", None),
        ("active_loop", None),
        ("action", "action_submit_booking"),
        ("bot", "utter_booking_confirmed"),
        ("slot", "booking_confirmed", True),
        ("action", "action_listen"),
    ]
    assert c.events[5]["parse_data"]["entities"] == [
        {"entity": "city", "start": 5, "end": 13, "confidence_entity": 0.99, "value": "Atlantis",
         "extractor": "DIETClassifier"}
    ]  # fmt: skip
    c2 = conv(carry_over_slots=False)
    c2.form_start("booking_form", ask="departure")
    c2.form_deactivate()
    assert shape(c2.events)[-3:] == [
        ("action", "action_deactivate_loop"),
        ("active_loop", None),
        ("slot", "requested_slot", None),
    ]


def test_builder_fallback_reverts_slots_of_the_message_and_carry_over() -> None:
    c = conv()
    c.session_start()
    c.user("inform", "Oslo", slots={"departure": "Oslo"})
    c.bot("utter_anything_else")
    c.user("nlu_fallback", "blorp", confidence=0.4, slots={"destination": "Blorp"})
    c.fallback()
    assert shape(c.events)[-4:] == [
        ("action", "action_default_fallback"),
        ("bot", "utter_default"),
        ("rewind",),
        ("action", "action_listen"),
    ]
    c.wait(hours=2)
    c.set_model("m2")
    c.session_start()
    carried = c.events[-2]
    assert shape(c.events)[-4:] == [
        ("action", "action_session_start"),
        ("session_started",),
        ("slot", "departure", "Oslo"),  # the reverted "destination" is not carried over
        ("action", "action_listen"),
    ]
    assert carried["metadata"]["model_id"] == "m1"  # a carried slot keeps the metadata it was set with
    assert c.events[-1]["metadata"]["model_id"] == "m2"


def test_builder_faq_and_handoff() -> None:
    c = conv(carry_over_slots=False)
    c.user("faq", "can I take my dog", retrieval="faq/pets", confidence=0.9)
    c.faq("faq/pets")
    c.user("request_human")
    c.handoff()
    user = c.events[0]
    assert user["parse_data"]["intent"] == {
        "name": "faq", "confidence": 0.9, "full_retrieval_intent_name": "faq/pets"
    }  # fmt: skip
    assert user["parse_data"]["response_selector"]["faq"]["response"]["utter_action"] == "utter_faq/pets"
    assert shape(c.events)[2:4] == [("action", "utter_faq"), ("bot", "utter_faq/pets")]
    assert shape(c.events)[-3:] == [
        ("action", "action_human_handoff"),
        ("bot", "utter_handoff"),
        ("action", "action_listen"),
    ]


def test_builder_clock() -> None:
    c = conv(tick=0.25)
    c.listen()
    c.listen(same_time=True, policy="TEDPolicy")
    c.wait(seconds=1, minutes=1)
    c.listen()
    c.at(TS0 + 3600)
    c.listen()
    assert [e["timestamp"] for e in c.events] == [TS0, TS0, TS0 + 61.25, TS0 + 3600]
    assert c.now == TS0 + 3600.25 and c.last_timestamp == TS0 + 3600
    with pytest.raises(ValueError):
        c.at(TS0)
    with pytest.raises(ValueError):
        c.wait(-1)
    with pytest.raises(ValueError):  # same content at the same timestamp would be one row after loading
        c.listen(same_time=True)


def test_builder_is_deterministic() -> None:
    def build() -> list[dict[str, Any]]:
        c = Conversation("x", T0)
        c.session_start({"user_id": "u"})
        c.user("greet")
        c.user("thankyou")
        return c.events

    first, second = build(), build()
    assert first == second
    assert first[5]["message_id"] != first[7]["message_id"]
    assert len(first[5]["message_id"]) == 32


def test_writers_jsonl_and_tracker() -> None:
    c = conv()
    c.session_start()
    c.user("greet", "héllo")
    buffer = io.StringIO()
    assert write_jsonl(buffer, [c, ("s2", c.events[:1])]) == len(c.events) + 1
    lines = buffer.getvalue().splitlines()
    assert len(lines) == len(c.events) + 1
    parsed = [json.loads(line) for line in lines]
    assert all(list(p)[-1] == "sender_id" for p in parsed)
    assert [p["sender_id"] for p in parsed][-2:] == ["s1", "s2"]
    assert "\\u00e9" in lines[-3]  # ensure_ascii, like Rasa's json.dumps
    assert lines == list(c.jsonl_lines()) + [events_to_jsonl("s2", c.events[:1]).rstrip("\n")]

    buffer = io.StringIO()
    write_tracker_json(buffer, [c, c], full=False)
    assert json.loads(buffer.getvalue()) == [{"sender_id": "s1", "events": c.events}] * 2
    buffer = io.StringIO()
    write_tracker_json(buffer, [c], array=False)
    doc = json.loads(buffer.getvalue())
    assert doc == c.tracker(full=True) == tracker_document("s1", c.events, full=True)
    assert doc["latest_message"]["intent"]["name"] == "greet"
    assert doc["latest_input_channel"] == "rest" and doc["paused"] is False


# -------------------------------------------------------------------------------------------- generator


def test_generator_is_deterministic() -> None:
    def text(seed: int) -> str:
        return "".join(events_to_jsonl(s, ev) for s, ev in generate(5_000, seed=seed))

    first = text(3)
    assert first == text(3)
    assert first != text(4)


def test_generator_cli_same_bytes_and_files_split(tmp_path: Path) -> None:
    assert main(["--events", "3000", "--seed", "2", "--out", str(tmp_path / "a")], stderr=lambda _: None) == 0
    assert main(["--events", "3000", "--seed", "2", "--out", str(tmp_path / "b")], stderr=lambda _: None) == 0
    a = (tmp_path / "a" / "events-0000.jsonl").read_bytes()
    assert a == (tmp_path / "b" / "events-0000.jsonl").read_bytes()
    assert a.count(b"\n") == 3000
    main(["--events", "3000", "--seed", "2", "--out", str(tmp_path / "c"), "--files", "3"], stderr=lambda _: None)
    parts = [(tmp_path / "c" / f"events-000{i}.jsonl").read_text().splitlines() for i in range(3)]
    assert sorted(line for part in parts for line in part) == sorted(a.decode().splitlines())
    main(["--events", "500", "--seed", "2", "--out", str(tmp_path / "t"), "--format", "tracker", "--files", "2"],
         stderr=lambda _: None)  # fmt: skip
    docs = [d for i in range(2) for d in json.loads((tmp_path / "t" / f"trackers-000{i}.json").read_text())]
    assert sum(len(d["events"]) for d in docs) == 500
    assert all(set(d) >= {"sender_id", "events", "slots", "latest_message"} for d in docs)
    main(["--scenarios", "--out", str(tmp_path / "s")], stderr=lambda _: None)
    lines = (tmp_path / "s" / "scenarios-0000.jsonl").read_text().splitlines()
    assert len(lines) == sum(len(s.events) for s in generate_scenario_set())


def test_generator_cli_parallel_jobs_write_the_same_bytes(tmp_path: Path) -> None:
    cases = (("e", ["--events", "4321"], "jsonl"), ("c", ["--conversations", "130"], "tracker"))
    for name, size, fmt in cases:
        outputs = []
        for jobs in ("1", "2"):
            out = tmp_path / f"{name}-{jobs}"
            args = [*size, "--seed", "5", "--out", str(out), "--format", fmt, "--files", "2", "--jobs", jobs]
            main(args, stderr=lambda _: None)
            outputs.append(sorted((p.name, p.read_bytes()) for p in out.iterdir()))
        assert outputs[0] == outputs[1], name
    lines = sum(len(p.read_text().splitlines()) for p in (tmp_path / "e-1").iterdir())
    assert lines == 4321


def test_generator_runs_as_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa_tracker_loader.generator",
            "--events",
            "50",
            "--seed",
            "1",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote 50 events" in result.stderr
    assert len((tmp_path / "events-0000.jsonl").read_text().splitlines()) == 50


def test_shared_metadata_gives_the_same_events() -> None:
    plain = list(generate(6_000, seed=9))
    shared = list(generate(6_000, seed=9, config=GeneratorConfig(share_metadata=True)))
    assert plain == shared
    metadata_ids = {id(e["metadata"]) for _, events in plain for e in events if "metadata" in e}
    assert len(metadata_ids) == sum(1 for _, events in plain for e in events if "metadata" in e)


@pytest.mark.parametrize("n", [0, 1, 137, 5_000])
def test_generator_size_control(n: int) -> None:
    assert sum(len(events) for _, events in generate(n, seed=1)) == n


def test_generator_conversation_count() -> None:
    senders = [s for s, _ in generate(n_conversations=25, seed=1)]
    assert len(senders) == len(set(senders)) == 25
    with pytest.raises(ValueError):
        list(generate(10, n_conversations=10))


def test_events_to_jsonl_equals_json_dumps(sample: list[tuple[str, list[dict[str, Any]]]]) -> None:
    for sender_id, events in sample[:150]:
        expected = "".join(json.dumps({**e, "sender_id": sender_id}) + "\n" for e in events)
        assert events_to_jsonl(sender_id, events) == expected
    # the fallback when a nested value contains the separator, or an event already has a sender_id
    tricky = [
        {"event": "slot", "timestamp": 1.0, "name": "x", "value": [{"a": 1}, {"event": "y"}]},
        {"event": "bot", "timestamp": 2.0, "text": '}, {"event": '},
        {"event": "action", "timestamp": 3.0, "name": "action_listen"},
    ]
    assert events_to_jsonl("s", tricky) == "".join(json.dumps({**e, "sender_id": "s"}) + "\n" for e in tricky)
    own = [{"event": "restart", "timestamp": 1.0, "sender_id": "old"}]
    assert events_to_jsonl("s", own) == json.dumps({**own[0], "sender_id": "s"}) + "\n"


def test_every_event_has_the_fields_rasa_writes(sample: list[tuple[str, list[dict[str, Any]]]]) -> None:
    seen: Counter[str] = Counter()
    for sender_id, event in all_events(sample):
        kind = event["event"]
        seen[kind] += 1
        assert kind in REQUIRED_FIELDS, kind
        keys = set(event) - {"event", "timestamp"}
        assert REQUIRED_FIELDS[kind] <= keys <= REQUIRED_FIELDS[kind] | OPTIONAL_FIELDS, (sender_id, event)
        assert list(event)[:2] == ["event", "timestamp"]
        assert type(event["timestamp"]) is float
        metadata = event.get("metadata", {})
        assert isinstance(metadata, dict)
        if "model_id" in metadata:
            assert len(metadata["model_id"]) == 32 and metadata["assistant_id"]
        if kind == "user":
            pd = event["parse_data"]
            assert {"intent", "entities", "text", "message_id", "metadata", "intent_ranking"} <= set(pd)
            assert pd["message_id"] == event["message_id"] and pd["text"] == event["text"]
            assert event["input_channel"] in ("rest", "socketio", "facebook")
            assert {k: v for k, v in metadata.items() if k not in ("model_id", "assistant_id")} == pd["metadata"]
        if kind == "bot":
            assert event["data"] == BOT_DATA and isinstance(event["text"], str)
        if kind == "action":
            assert isinstance(event["hide_rule_turn"], bool)
    assert set(seen) == set(REQUIRED_FIELDS)
    with_model = sum(1 for _, e in all_events(sample) if "model_id" in e.get("metadata", {}))
    assert with_model > 0.9 * sum(seen.values())


def test_timestamps_non_decreasing_and_events_distinct(sample: list[tuple[str, list[dict[str, Any]]]]) -> None:
    for sender_id, events in sample:
        stamps = [e["timestamp"] for e in events]
        assert stamps == sorted(stamps), sender_id
        # identical events would get the same content hash and collapse into one row; events can only be
        # identical when their timestamps are, so compare within runs of equal timestamps
        for i in range(1, len(events)):
            j = i - 1
            while j >= 0 and events[j]["timestamp"] == events[i]["timestamp"]:
                assert events[j] != events[i], (sender_id, events[i])
                j -= 1


def sessions_of(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split at session starts (the metadata slot goes with the action_session_start after it)."""
    sessions: list[list[dict[str, Any]]] = [[]]
    for i, e in enumerate(events):
        starts = e["event"] == "action" and e["name"] == "action_session_start"
        after_meta = i > 0 and events[i - 1]["event"] == "slot" and events[i - 1]["name"] == "session_started_metadata"
        is_meta = e["event"] == "slot" and e["name"] == "session_started_metadata" and i + 1 < len(events) and (
            events[i + 1]["event"] == "action" and events[i + 1]["name"] == "action_session_start")  # fmt: skip
        if (starts and not after_meta) or is_meta:
            sessions.append([])
        sessions[-1].append(e)
    return [s for s in sessions if s]


def test_medium_sample_has_every_feature(sample: list[tuple[str, list[dict[str, Any]]]]) -> None:
    found: Counter[str] = Counter()
    senders_per_user: dict[str, set[str]] = defaultdict(set)
    models: set[str] = set()
    channels: set[str] = set()
    stamps: list[float] = []
    for sender_id, events in sample:
        names = [(e["event"], e.get("name")) for e in events]
        first = events[0]
        if first["event"] == "user":
            found["starts_mid_conversation"] += 1
        if ("action", "action_session_start") not in names:
            found["sender_without_session_events"] += 1
        for i, e in enumerate(events):
            kind, name = e["event"], e.get("name")
            md = e.get("metadata", {})
            stamps.append(e["timestamp"])
            if "model_id" in md:
                models.add(md["model_id"])
            if kind == "user":
                channels.add(e["input_channel"])
                intent = e["parse_data"]["intent"]["name"]
                found[f"intent:{intent}"] += 1
                if "user_id" in md:
                    senders_per_user[md["user_id"]].add(sender_id)
                    found["user_id_in_user_metadata"] += 1
            if kind == "session_started" and "user_id" in md:
                found["user_id_in_session_started"] += 1
                senders_per_user[md["user_id"]].add(sender_id)
            if kind == "slot" and name == "session_started_metadata":
                found["metadata_slot"] += 1
            if kind == "action" and name in ("action_default_fallback", "action_human_handoff",
                                             "action_deactivate_loop"):  # fmt: skip
                found[name] += 1
            if kind == "action" and name == "action_restart":
                following = [n for n in names[i + 1 : i + 5] if n[0] != "bot"]
                if following[:2] == [("restart", None), ("action", "action_listen")]:
                    found["restart_old_form"] += 1
                if following[:2] == [("restart", None), ("action", "action_session_start")]:
                    found["restart_new_form"] += 1
            if i and e["timestamp"] == events[i - 1]["timestamp"]:
                found["identical_timestamps"] += 1
            if i and e["timestamp"] - events[i - 1]["timestamp"] > 3600 and name == "action_session_start":
                found["new_session_after_inactivity"] += 1
            if kind == "slot" and name in ("departure", "destination") and e["value"] is None:
                found["failed_fill"] += 1
            if kind == "rewind":
                found["rewind"] += 1
        for session in sessions_of(events):
            kinds = [e["event"] for e in session]
            if "session_started" in kinds and "user" not in kinds:
                found["bounce"] += 1
                if "bot" in kinds:
                    found["bounce_with_greeting"] += 1
            requests = [e["value"] for e in session if e["event"] == "slot" and e["name"] == "requested_slot"]
            if any(a == b and a is not None for a, b in zip(requests, requests[1:], strict=False)):
                found["repeated_slot_request"] += 1
    for feature in (
        "starts_mid_conversation", "sender_without_session_events", "user_id_in_user_metadata",
        "user_id_in_session_started", "metadata_slot", "action_default_fallback", "action_human_handoff",
        "action_deactivate_loop", "restart_old_form", "restart_new_form", "identical_timestamps",
        "new_session_after_inactivity", "failed_fill", "rewind", "bounce", "bounce_with_greeting",
        "repeated_slot_request", "intent:nlu_fallback", "intent:out_of_scope", "intent:react_frustrated",
        "intent:thankyou", "intent:request_human", "intent:faq", "intent:book_flight", "intent:check_booking",
        "intent:cancel_booking", "intent:offset_emissions",
    ):  # fmt: skip
        assert found[feature] > 0, feature
    assert sum(1 for senders in senders_per_user.values() if len(senders) > 1) >= 5
    all_senders = {s for s, _ in sample}
    with_user = set().union(*senders_per_user.values())
    assert 0.1 * len(all_senders) < len(all_senders - with_user) < 0.6 * len(all_senders)
    assert len(models) >= 3
    assert channels == {"rest", "socketio", "facebook"}
    assert max(stamps) - min(stamps) > 14 * 86_400


def test_generator_uses_sample_bot_vocabulary(sample: list[tuple[str, list[dict[str, Any]]]]) -> None:
    domain = yaml.safe_load((SAMPLE_BOT / "domain.yml").read_text())
    intents = set(domain["intents"]) | {"nlu_fallback", "restart"}
    forms = set(domain["forms"])
    actions = set(domain["actions"]) | set(domain["responses"]) | forms | {
        "action_listen", "action_session_start", "action_restart", "action_default_fallback",
        "action_deactivate_loop", "utter_faq",
    }  # fmt: skip
    slots = set(domain["slots"]) | {"requested_slot", "session_started_metadata"}
    responses = set(domain["responses"])
    for _, e in all_events(sample):
        if e["event"] == "user":
            assert e["parse_data"]["intent"]["name"] in intents
        elif e["event"] == "action":
            assert e["name"] in actions, e["name"]
        elif e["event"] == "slot":
            assert e["name"] in slots, e["name"]
            if e["name"] == "requested_slot" and e["value"] is not None:
                assert any(e["value"] in domain["forms"][f]["required_slots"] for f in forms)
        elif e["event"] == "active_loop" and e["name"] is not None:
            assert e["name"] in forms
        elif e["event"] == "bot":
            assert e["metadata"]["utter_action"] in responses
    for name in ("config.yml", "data/nlu.yml", "data/stories.yml", "data/rules.yml"):
        assert yaml.safe_load((SAMPLE_BOT / name).read_text())
    # the stories and rules only use what the domain declares
    nlu = yaml.safe_load((SAMPLE_BOT / "data" / "nlu.yml").read_text())["nlu"]
    assert {item["intent"].split("/")[0] for item in nlu if "intent" in item} <= intents
    for name, key in (("stories.yml", "stories"), ("rules.yml", "rules")):
        for flow in yaml.safe_load((SAMPLE_BOT / "data" / name).read_text())[key]:
            for step in flow["steps"]:
                assert step.get("intent", "greet") in intents, step
                assert step.get("action", "action_listen") in actions, step
                assert step.get("active_loop") in forms | {None}, step
    for slot in {s for f in domain["forms"].values() for s in f["required_slots"]}:
        assert slot in slots and f"utter_ask_{slot}" in responses
    assert "demo assistant" in (SAMPLE_BOT / "README.md").read_text()


def test_scenario_set() -> None:
    scenarios = generate_scenario_set()
    names = [s.name for s in scenarios]
    assert len(names) == len(set(names))
    assert len({s.sender_id for s in scenarios}) == len(scenarios)
    features = {f for s in scenarios for f in s.features}
    assert features >= {
        "metadata_slot", "bounce", "restart_old", "restart_new", "identical_timestamps", "fallback", "handoff",
        "frustrated", "happy", "out_of_scope", "form", "failed_fill", "repeated_request", "form_deactivated",
        "inactivity", "carry_over", "multi_sender_user", "session_started_metadata", "no_external_id",
        "mid_conversation_start", "old_sdk", "model_change",
    }  # fmt: skip
    again = generate_scenario_set()
    assert [s.events for s in scenarios] == [s.events for s in again]
    for s in scenarios:
        stamps = [e["timestamp"] for e in s.events]
        assert stamps == sorted(stamps), s.name
    by_name = {s.name: s for s in scenarios}
    new_form = shape(by_name["restart_new_form"].events)
    i = new_form.index(("action", "action_restart"))
    assert new_form[i : i + 6] == [
        ("action", "action_restart"),
        ("bot", "utter_restart"),
        ("restart",),
        ("action", "action_session_start"),
        ("session_started",),
        ("action", "action_listen"),
    ]
