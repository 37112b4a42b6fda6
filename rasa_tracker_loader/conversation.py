"""Readable builder for Rasa tracker-store conversations.

A :class:`Conversation` writes the events that Rasa 3.x puts into a tracker store, in Rasa's order and with
Rasa's fields, from a short script::

    c = Conversation("sender-1", start=datetime(2024, 1, 1, 10, 0, tzinfo=UTC), model_id="m1")
    c.session_start(metadata={"user_id": "u1"})
    c.user("greet", text="hi", metadata={"user_id": "u1"})
    c.bot("utter_greet")
    c.user("book_flight", after=5)
    c.form_start("booking_form", ask="departure")
    c.user("inform", text="Berlin", entities=[("city", "Berlin")], slots={"departure": "Berlin"}, after=3)
    c.form_step(fill={"departure": "Berlin"}, ask="destination")
    c.restart(form="new", same_time=True)
    c.wait(minutes=90)
    c.events                     # list of event dicts

The clock: the first event is stamped with ``start``; every event advances the clock by ``tick`` seconds;
:meth:`Conversation.wait` (or ``after=`` of ``user()`` and ``session_start()``) moves it further;
``same_time=True`` stamps an event with the timestamp of the previous event (Rasa often writes several events
with identical or almost identical timestamps). Times are kept as integer microseconds, so timestamps are
exact and deterministic. Message ids are deterministic too.

Slots are carried over to a new session by default, as Rasa does (``carry_over_slots=False`` to turn it off).
Output: ``c.events`` (event dicts without ``sender_id``), ``c.jsonl_lines()``, ``c.tracker()``, and the
writers :func:`write_jsonl` (one event per line with ``sender_id``, like tracker-store exports) and
:func:`write_tracker_json` (tracker documents ``{"sender_id", "events", ...}`` as Rasa's HTTP API returns them).

Facts about Rasa that the builder follows (Rasa 3.x, ``rasa.core.processor`` and ``rasa.core.actions``):

* Every event that passes through the tracker gets ``metadata.model_id`` and ``metadata.assistant_id``.
  A user event keeps the channel metadata next to them; ``parse_data.metadata`` holds the channel metadata
  only. Events without metadata omit the ``metadata`` key, except ``user`` events.
* A session start writes the slot ``session_started_metadata`` (only when the opening message carried
  metadata), ``action_session_start`` (policy null, confidence 1.0), ``session_started``, the carried-over
  slot events of the previous session (``carry_over_slots_to_new_session``), and ``action_listen`` (policy
  and confidence null). Before SDK 2.8 the metadata went into ``session_started`` itself (``legacy=True``).
* A user message is followed by the slots that ``action_extract_slots`` set, then ``user_featurization``.
* ``action_default_fallback`` utters ``utter_default`` and writes ``rewind`` (UserUtteranceReverted).
* A restart is ``action_restart``, the optional ``utter_restart`` reply, ``restart``, then either a plain
  ``action_listen`` (old SDKs, as in the carbon-bot logs) or a fresh session start (``form="new"``).
* Forms: ``action <form>``, ``active_loop <form>``, ``slot requested_slot``, the ``utter_ask_<slot>`` reply,
  ``action_listen``; completion writes ``slot requested_slot null`` and ``active_loop null``;
  ``action_deactivate_loop`` writes ``active_loop null`` and ``slot requested_slot null``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, Self

__all__ = [
    "ACTION_LISTEN",
    "ACTION_RESTART",
    "ACTION_SESSION_START",
    "BOT_DATA",
    "DEFAULT_ASSISTANT_ID",
    "DEFAULT_MODEL_ID",
    "SAMPLE_BOT_RESPONSES",
    "UTC",
    "Conversation",
    "EntitySpec",
    "Event",
    "to_timestamp",
    "tracker_document",
    "with_sender_id",
    "write_jsonl",
    "write_tracker_json",
]

Event = dict[str, Any]
EntitySpec = tuple[str, Any] | Mapping[str, Any]

ACTION_LISTEN = "action_listen"
ACTION_SESSION_START = "action_session_start"
ACTION_RESTART = "action_restart"
ACTION_DEFAULT_FALLBACK = "action_default_fallback"
ACTION_DEACTIVATE_LOOP = "action_deactivate_loop"
REQUESTED_SLOT = "requested_slot"
SESSION_STARTED_METADATA_SLOT = "session_started_metadata"

DEFAULT_MODEL_ID = "5f3e7c2a9b1d4e6f8a0c2e4b6d8f0a1c"
DEFAULT_ASSISTANT_ID = "20240101-090000-skyward-demo"
DEFAULT_START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)

#: ``data`` of every bot event written by Rasa's ``create_bot_utterance`` for a text response.
BOT_DATA: Mapping[str, None] = {
    "elements": None,
    "quick_replies": None,
    "buttons": None,
    "attachment": None,
    "image": None,
    "custom": None,
}

#: Texts of the responses of the demo assistant in ``sample_bot/domain.yml`` (templates filled in).
SAMPLE_BOT_RESPONSES: Mapping[str, str] = {
    "utter_greet": "Hi, I'm Skyward! I can book flights and offset their emissions. How can I help?",
    "utter_goodbye": "Goodbye, have a nice trip!",
    "utter_youre_welcome": "You're welcome!",
    "utter_iamabot": "I am a bot, powered by Rasa.",
    "utter_anything_else": "Is there anything else I can help you with?",
    "utter_ask_departure": "Which city are you flying from?",
    "utter_ask_destination": "Where would you like to fly to?",
    "utter_ask_travel_date": "On which date do you want to travel?",
    "utter_ask_booking_reference": "What is your booking reference?",
    "utter_booking_confirmed": "Your flight is booked.",
    "utter_booking_status": "Your booking is confirmed.",
    "utter_ask_confirm_cancel": "Do you really want to cancel this booking?",
    "utter_booking_cancelled": "Your booking has been cancelled.",
    "utter_offset_quote": "Offsetting this flight costs about 12 EUR.",
    "utter_default": "Sorry, I didn't get that. Could you rephrase?",
    "utter_out_of_scope": "Sorry, I can't help with that. I can book flights and offset their emissions.",
    "utter_sorry_frustrated": (
        "I'm sorry this is frustrating. Let me try to help, or I can connect you with a colleague."
    ),
    "utter_handoff": "I'm connecting you with a human agent, please hold on.",
    "utter_restart": "Let's start over.",
    "utter_faq/opening_hours": "Our service desk is open every day from 8:00 to 20:00.",
    "utter_faq/baggage_allowance": "Every ticket includes one cabin bag of up to 8 kg.",
    "utter_faq/carbon_offsets": ("We buy certified offsets that fund reforestation and renewable energy projects."),
    "utter_faq/pets": "Small pets up to 8 kg can travel in the cabin.",
}

_MICROS = 1_000_000
_UNSET: Any = object()


def to_timestamp(value: datetime | float) -> float:
    """Unix seconds of ``value`` (naive datetimes are taken as UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    return float(value)


def _to_micros(value: datetime | float) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta = value - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * _MICROS + delta.microseconds
    return round(float(value) * _MICROS)


class Conversation:
    """Builds the tracker events of one sender (one Rasa conversation), in order.

    Args:
        sender_id: the Rasa conversation id.
        start: time of the first event (datetime or unix seconds).
        model_id: ``metadata.model_id`` of the events (``None``: no model metadata, as before Rasa 3.0).
        assistant_id: ``metadata.assistant_id`` of the events (``None`` to leave it out).
        input_channel: default ``input_channel`` of user events.
        carry_over_slots: re-set the slots of the previous session after ``session_started``
            (Rasa's default, ``carry_over_slots_to_new_session: true``).
        user_featurization: write the ``user_featurization`` event after each user message (Rasa 2.2+).
        tick: seconds between two consecutive events.
        think_time: default seconds that pass before a user message.
        responses: texts of responses by name (defaults to the demo assistant's).
        share_metadata: let events share one metadata dict (and one bot ``data`` dict) instead of
            copies: faster for bulk generation; then do not mutate events in place.
    """

    def __init__(
        self,
        sender_id: str,
        start: datetime | float = DEFAULT_START,
        *,
        model_id: str | None = DEFAULT_MODEL_ID,
        assistant_id: str | None = DEFAULT_ASSISTANT_ID,
        input_channel: str | None = "rest",
        carry_over_slots: bool = True,
        user_featurization: bool = True,
        tick: float = 0.001,
        think_time: float = 0.0,
        responses: Mapping[str, str] | None = None,
        share_metadata: bool = False,
    ) -> None:
        self.sender_id = sender_id
        self.events: list[Event] = []
        self.input_channel = input_channel
        self.carry_over_slots = carry_over_slots
        self.user_featurization = user_featurization
        self.think_time = think_time
        self.share_metadata = share_metadata
        self.responses: Mapping[str, str] = SAMPLE_BOT_RESPONSES if responses is None else responses
        self._tick = round(tick * _MICROS)
        self._cursor = _to_micros(start)
        self._last: int | None = None
        self._message_count = 0
        self._message_prefix: str | None = None
        self.active_form: str | None = None
        # SlotSet events (name, value, metadata) that Rasa's `tracker.applied_events()` holds now
        self._applied_slots: list[tuple[str, Any, dict[str, Any]]] = []
        self._slots_at_last_user = 0
        self._base_metadata: dict[str, Any] = {}
        self.set_model(model_id, assistant_id)

    # ------------------------------------------------------------------ clock and model

    @property
    def now(self) -> float:
        """Timestamp (unix seconds) that the next event gets."""
        return self._cursor / _MICROS

    @property
    def last_timestamp(self) -> float | None:
        """Timestamp of the last event written, if any."""
        return None if self._last is None else self._last / _MICROS

    def wait(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0) -> Self:
        """Advance the clock."""
        delta = round((seconds + 60 * minutes + 3600 * hours + 86_400 * days) * _MICROS)
        if delta < 0:
            raise ValueError("the clock cannot go backwards")
        self._cursor += delta
        return self

    def at(self, when: datetime | float) -> Self:
        """Set the clock to ``when`` (not before the last event)."""
        micros = _to_micros(when)
        if self._last is not None and micros < self._last:
            raise ValueError("the clock cannot go back before the last event")
        self._cursor = micros
        return self

    def set_model(self, model_id: str | None, assistant_id: str | None = _UNSET) -> Self:
        """Switch the model (and optionally the assistant id) that stamps the following events."""
        if assistant_id is _UNSET:
            assistant_id = self._base_metadata.get("assistant_id")
        self.model_id = model_id
        self.assistant_id = assistant_id
        base: dict[str, Any] = {}
        if model_id is not None:
            base["model_id"] = model_id
        if assistant_id is not None:
            base["assistant_id"] = assistant_id
        self._base_metadata = base
        return self

    def _new(self, event_type: str, same_time: bool, extra: Mapping[str, Any] | None) -> Event:
        """Stamp a new event and give it its metadata; the caller adds the type's fields and appends it."""
        if same_time and self._last is not None:
            micros = self._last
        else:
            micros = self._cursor
            self._cursor = micros + self._tick
        self._last = micros
        base = self._base_metadata
        if extra:
            # Rasa adds model_id/assistant_id to an event's metadata unless the keys are already there
            if "model_id" in extra or "assistant_id" in extra:
                metadata = dict(extra)
                for key, value in base.items():
                    metadata.setdefault(key, value)
            else:
                metadata = {**extra, **base}
            return {"event": event_type, "timestamp": micros / 1_000_000, "metadata": metadata}
        if base:
            metadata = base if self.share_metadata else dict(base)
            return {"event": event_type, "timestamp": micros / 1_000_000, "metadata": metadata}
        return {"event": event_type, "timestamp": micros / 1_000_000}

    def _check_distinct(self, event: Event) -> None:
        # two identical events at the same timestamp would have the same content hash (one row after loading)
        for previous in reversed(self.events):
            if previous["timestamp"] != event["timestamp"]:
                break
            if previous == event:
                raise ValueError(f"identical event written twice at the same timestamp: {event}")

    # ------------------------------------------------------------------ single events

    def event(
        self,
        event_type: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        same_time: bool = False,
        **fields: Any,
    ) -> Self:
        """Write one event of any type: ``{"event", "timestamp", "metadata"?, **fields}``."""
        event = self._new(event_type, same_time, metadata)
        event.update(fields)
        if same_time:
            self._check_distinct(event)
        self.events.append(event)
        return self

    def action_executed(
        self,
        name: str,
        *,
        policy: str | None = "RulePolicy",
        confidence: float | None = 1.0,
        hide_rule_turn: bool | None = None,
        action_text: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        same_time: bool = False,
    ) -> Self:
        """Write one ``action`` event (ActionExecuted). ``hide_rule_turn`` defaults to "policy is RulePolicy"."""
        event = self._new("action", same_time, metadata)
        event["name"] = name
        event["policy"] = policy
        event["confidence"] = confidence
        event["action_text"] = action_text
        event["hide_rule_turn"] = policy == "RulePolicy" if hide_rule_turn is None else hide_rule_turn
        if same_time:
            self._check_distinct(event)
        self.events.append(event)
        return self

    def listen(
        self,
        *,
        policy: str | None = "RulePolicy",
        confidence: float | None = 1.0,
        same_time: bool = False,
    ) -> Self:
        """Write ``action_listen``."""
        return self.action_executed(ACTION_LISTEN, policy=policy, confidence=confidence, same_time=same_time)

    def utter(self, response: str | None, text: str | None = _UNSET, *, same_time: bool = False) -> Self:
        """Write one ``bot`` event for ``response`` (text looked up in ``responses`` unless given)."""
        if text is _UNSET:
            text = self.responses.get(response) if response is not None else None
        event = self._new("bot", same_time, {"utter_action": response} if response is not None else None)
        event["text"] = text
        event["data"] = BOT_DATA if self.share_metadata else dict(BOT_DATA)
        if same_time:
            self._check_distinct(event)
        self.events.append(event)
        return self

    def slot(
        self,
        name: str,
        value: Any,
        *,
        same_time: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> Self:
        """Write one ``slot`` event (SlotSet)."""
        event = self._new("slot", same_time, metadata)
        event["name"] = name
        event["value"] = value
        if same_time:
            self._check_distinct(event)
        self.events.append(event)
        self._applied_slots.append((name, value, event.get("metadata", {})))
        return self

    def active_loop(self, name: str | None, *, same_time: bool = False) -> Self:
        """Write one ``active_loop`` event (``None`` deactivates)."""
        self.active_form = name
        event = self._new("active_loop", same_time, None)
        event["name"] = name
        if same_time:
            self._check_distinct(event)
        self.events.append(event)
        return self

    # ------------------------------------------------------------------ user turns

    def next_message_id(self) -> str:
        """Deterministic 32-hex message id, unique per sender and message (Rasa uses uuid4().hex)."""
        if self._message_prefix is None:
            digest = hashlib.md5(self.sender_id.encode(), usedforsecurity=False).hexdigest()
            self._message_prefix = digest[:24]
        self._message_count += 1
        return f"{self._message_prefix}{self._message_count:08x}"

    def user(
        self,
        intent: str,
        text: str | None = None,
        *,
        confidence: float = 1.0,
        entities: Sequence[EntitySpec] = (),
        metadata: Mapping[str, Any] | None = None,
        input_channel: str | None = _UNSET,
        message_id: str | None = None,
        ranking: Sequence[tuple[str, float]] | None = None,
        retrieval: str | None = None,
        slots: Mapping[str, Any] | None = None,
        featurization: bool | None = None,
        after: float | None = None,
        same_time: bool = False,
    ) -> Self:
        """Write a user message (``user`` event), the slots extracted from it and ``user_featurization``.

        Args:
            intent: the predicted intent (``parse_data.intent.name``).
            text: message text (default ``/intent``, i.e. a button payload).
            entities: ``(entity, value)`` pairs or full entity dicts.
            metadata: channel metadata (for example ``{"user_id": "u1"}``).
            ranking: intent ranking as ``(name, confidence)`` pairs (default: the intent alone).
            retrieval: full retrieval intent (e.g. ``faq/opening_hours``): adds ``response_selector``.
            slots: slot events written by ``action_extract_slots`` right after the message.
            featurization: write ``user_featurization`` (default: the conversation's setting).
            after: seconds that pass before the message (default ``think_time``).
        """
        if after is None:
            after = self.think_time
        if after and not same_time:
            self.wait(after)
        if text is None:
            text = f"/{intent}"
        if message_id is None:
            message_id = self.next_message_id()
        channel_metadata = dict(metadata) if metadata else {}
        intent_dict: dict[str, Any] = {"name": intent, "confidence": confidence}
        if retrieval is not None:
            intent_dict["full_retrieval_intent_name"] = retrieval
        parse_data: dict[str, Any] = {
            "intent": intent_dict,
            "entities": [self._entity(text, spec) for spec in entities] if entities else [],
            "text": text,
            "message_id": message_id,
            "metadata": channel_metadata,
            "intent_ranking": (
                [{"name": intent, "confidence": confidence}]
                if ranking is None
                else [{"name": name, "confidence": conf} for name, conf in ranking]
            ),
        }
        if retrieval is not None:
            retrieval_intent = retrieval.split("/", 1)[0]
            parse_data["response_selector"] = {
                "all_retrieval_intents": [retrieval_intent],
                retrieval_intent: {
                    "response": {
                        "responses": [{"text": self.responses.get(f"utter_{retrieval}")}],
                        "confidence": confidence,
                        "intent_response_key": retrieval,
                        "utter_action": f"utter_{retrieval}",
                    },
                    "ranking": [{"confidence": confidence, "intent_response_key": retrieval}],
                },
            }
        event = self._new("user", same_time, channel_metadata)
        event.setdefault("metadata", {})  # a user event always has metadata
        event["text"] = text
        event["parse_data"] = parse_data
        event["input_channel"] = self.input_channel if input_channel is _UNSET else input_channel
        event["message_id"] = message_id
        if same_time:
            self._check_distinct(event)
        self.events.append(event)
        self._slots_at_last_user = len(self._applied_slots)
        for name, value in (slots or {}).items():
            self.slot(name, value)
        if self.user_featurization if featurization is None else featurization:
            featurized = self._new("user_featurization", False, None)
            featurized["use_text_for_featurization"] = False
            self.events.append(featurized)
        return self

    @staticmethod
    def _entity(text: str, spec: EntitySpec) -> dict[str, Any]:
        if isinstance(spec, Mapping):
            return dict(spec)
        entity, value = spec
        start = text.find(str(value))
        if start < 0:
            start, end = 0, len(text)
        else:
            end = start + len(str(value))
        return {
            "entity": entity,
            "start": start,
            "end": end,
            "confidence_entity": 0.99,
            "value": value,
            "extractor": "DIETClassifier",
        }

    # ------------------------------------------------------------------ bot turns

    def bot(
        self,
        response: str,
        text: str | None = _UNSET,
        *,
        policy: str | None = "RulePolicy",
        confidence: float | None = 1.0,
        listen: bool = True,
        same_time: bool = False,
    ) -> Self:
        """Run a response action: ``action <response>``, its ``bot`` event and (by default) ``action_listen``."""
        self.action_executed(response, policy=policy, confidence=confidence, same_time=same_time)
        self.utter(response, text)
        if listen:
            self.listen(policy=policy, confidence=confidence)
        return self

    def faq(self, retrieval: str, *, policy: str = "RulePolicy", listen: bool = True) -> Self:
        """Answer a retrieval intent: ``action utter_faq`` and the ``utter_faq/<key>`` bot event."""
        intent = retrieval.split("/", 1)[0]
        self.action_executed(f"utter_{intent}", policy=policy)
        self.utter(f"utter_{retrieval}")
        if listen:
            self.listen(policy=policy)
        return self

    def action(
        self,
        name: str,
        *,
        say: Iterable[str | tuple[str | None, str | None]] = (),
        slots: Mapping[str, Any] | None = None,
        policy: str | None = "RulePolicy",
        confidence: float | None = 1.0,
        listen: bool = True,
        same_time: bool = False,
    ) -> Self:
        """Run a (custom) action: ``action <name>``, its bot messages, its slot events, ``action_listen``.

        ``say`` lists responses (``"utter_x"``) or ``(response, text)`` pairs, as an action server returns
        them (bot messages come before the returned events).
        """
        self.action_executed(name, policy=policy, confidence=confidence, same_time=same_time)
        for item in say:
            if isinstance(item, tuple):
                self.utter(item[0], item[1])
            else:
                self.utter(item)
        for slot_name, value in (slots or {}).items():
            self.slot(slot_name, value)
        if listen:
            self.listen(policy=policy, confidence=confidence)
        return self

    def fallback(
        self, *, reply: str | None = "utter_default", policy: str = "RulePolicy", confidence: float = 1.0
    ) -> Self:
        """``action_default_fallback``: its reply, ``rewind`` (the user message is reverted), ``action_listen``."""
        self.action_executed(ACTION_DEFAULT_FALLBACK, policy=policy, confidence=confidence)
        if reply is not None:
            self.utter(reply)
        self.event("rewind")
        # UserUtteranceReverted drops the user message and what followed it from applied events
        del self._applied_slots[self._slots_at_last_user :]
        self.listen(policy=policy, confidence=confidence)
        return self

    def handoff(self, *, reply: str | None = "utter_handoff", listen: bool = True) -> Self:
        """``action_human_handoff`` (custom action) with its reply."""
        return self.action("action_human_handoff", say=[reply] if reply else (), listen=listen)

    # ------------------------------------------------------------------ sessions and restarts

    def session_start(
        self,
        metadata: Mapping[str, Any] | None = None,
        *,
        legacy: bool = False,
        same_time: bool = False,
        after: float = 0.0,
    ) -> Self:
        """Start a session as Rasa does when a message opens one.

        Writes ``slot session_started_metadata`` (when ``metadata`` is given), ``action_session_start``,
        ``session_started``, the carried-over slots and ``action_listen``. With ``legacy=True`` the metadata
        goes into the ``session_started`` event instead of the slot (as SDKs before 2.8 did, or a custom
        ``action_session_start``). ``same_time=True`` gives the metadata slot, ``action_session_start`` and
        ``session_started`` one timestamp.
        """
        if after:
            self.wait(after)
        return self._start_session(metadata, legacy=legacy, same_first=False, same_time=same_time, same_listen=False)

    def _start_session(
        self,
        metadata: Mapping[str, Any] | None,
        *,
        legacy: bool,
        same_first: bool,
        same_time: bool,
        same_listen: bool,
    ) -> Self:
        same_action = same_first
        if metadata and not legacy:
            self.slot(SESSION_STARTED_METADATA_SLOT, dict(metadata), same_time=same_first)
            same_action = same_time
        carried = list(self._applied_slots) if self.carry_over_slots else []
        self.action_executed(ACTION_SESSION_START, policy=None, confidence=1.0, same_time=same_action)
        self.event(
            "session_started",
            metadata=dict(metadata) if (metadata and legacy) else None,
            same_time=same_time,
        )
        self._reset_state()
        share = self.share_metadata
        base_keys = self._base_metadata.keys()
        for name, value, slot_metadata in carried:
            # Rasa re-creates SlotSet(key, value, metadata=event.metadata): the original model_id stays
            if share and slot_metadata and slot_metadata.keys() >= base_keys:
                event = self._new("slot", False, None)
                event["metadata"] = slot_metadata
            else:
                event = self._new("slot", False, slot_metadata)
            event["name"] = name
            event["value"] = value if share or not isinstance(value, dict | list) else copy.deepcopy(value)
            self.events.append(event)
            self._applied_slots.append((name, value, event.get("metadata", {})))
        self.listen(policy=None, confidence=None, same_time=same_listen)
        return self

    def _reset_state(self) -> None:
        self._applied_slots = []
        self._slots_at_last_user = 0
        self.active_form = None

    def restart(
        self,
        form: Literal["old", "new"] = "new",
        *,
        reply: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        same_time: bool = False,
    ) -> Self:
        """Restart the conversation (what follows a ``/restart`` message).

        ``form="old"``: ``action_restart``, the reply, ``restart``, ``action_listen`` (as in old SDKs).
        ``form="new"``: ``action_restart``, the reply, ``restart``, then a session start
        (``action_session_start``, ``session_started``, ``action_listen``; the metadata slot first when
        ``metadata`` is given). ``same_time=True`` stamps the whole sequence with one timestamp.
        """
        self.action_executed(ACTION_RESTART, policy="RulePolicy", confidence=1.0)
        if reply is not None:
            self.utter(reply, same_time=same_time)
        self.event("restart", same_time=same_time)
        self._reset_state()
        if form == "old":
            self.listen(policy=None, confidence=1.0, same_time=same_time)
            return self
        if form != "new":
            raise ValueError(f"unknown restart form {form!r}")
        return self._start_session(
            metadata, legacy=False, same_first=same_time, same_time=same_time, same_listen=same_time
        )

    # ------------------------------------------------------------------ forms

    def form_start(self, form: str, *, ask: str | None = None, policy: str = "RulePolicy") -> Self:
        """Activate ``form``: ``action <form>``, ``active_loop <form>``; with ``ask``, request that slot."""
        self.action_executed(form, policy=policy)
        self.active_loop(form)
        if ask is not None:
            self.request_slot(ask, policy=policy)
        return self

    def request_slot(
        self,
        slot: str,
        *,
        ask: str | None = _UNSET,
        listen: bool = True,
        policy: str = "RulePolicy",
    ) -> Self:
        """``slot requested_slot <slot>``, the ``utter_ask_<slot>`` reply and ``action_listen``."""
        self.slot(REQUESTED_SLOT, slot)
        response = f"utter_ask_{slot}" if ask is _UNSET else ask
        if response is not None:
            self.utter(response)
        if listen:
            self.listen(policy=policy)
        return self

    def form_step(
        self,
        *,
        fill: Mapping[str, Any] | None = None,
        ask: str | None = None,
        policy: str = "RulePolicy",
    ) -> Self:
        """Run the active form once more: ``action <form>``, validated slots (``None`` = rejected value),
        then either request ``ask`` or, when ``ask`` is None, complete the form (:meth:`form_end`)."""
        if self.active_form is None:
            raise ValueError("no active form")
        self.action_executed(self.active_form, policy=policy)
        for name, value in (fill or {}).items():
            self.slot(name, value)
        if ask is not None:
            self.request_slot(ask, policy=policy)
        else:
            self.form_end()
        return self

    def form_end(self) -> Self:
        """Form completed: ``slot requested_slot null``, ``active_loop null``."""
        self.slot(REQUESTED_SLOT, None)
        self.active_loop(None)
        return self

    def form_deactivate(self, *, policy: str = "RulePolicy") -> Self:
        """``action_deactivate_loop``: ``active_loop null``, ``slot requested_slot null``."""
        self.action_executed(ACTION_DEACTIVATE_LOOP, policy=policy)
        self.active_loop(None)
        self.slot(REQUESTED_SLOT, None)
        return self

    # ------------------------------------------------------------------ output

    def jsonl_lines(self) -> Iterator[str]:
        """The events as JSONL lines (each with ``sender_id``), without newlines."""
        return (json.dumps(event) for event in with_sender_id(self.sender_id, self.events))

    def tracker(self, *, full: bool = False) -> dict[str, Any]:
        """The conversation as a tracker document (see :func:`tracker_document`)."""
        return tracker_document(self.sender_id, self.events, full=full)


# ---------------------------------------------------------------------- writers


def with_sender_id(sender_id: str, events: Iterable[Event]) -> Iterator[Event]:
    """The events with ``sender_id`` added as the last key (as in tracker-store JSONL exports)."""
    for event in events:
        yield {**event, "sender_id": sender_id}


def tracker_document(sender_id: str, events: Sequence[Event], *, full: bool = False) -> dict[str, Any]:
    """A tracker document ``{"sender_id", "events"}`` as Rasa's HTTP API returns it.

    With ``full=True`` it also has the tracker-state fields the API adds (``slots``, ``latest_message``,
    ``latest_event_time``, ``followup_action``, ``paused``, ``latest_input_channel``, ``active_loop``,
    ``latest_action``, ``latest_action_name``), computed from the events.
    """
    if not full:
        return {"sender_id": sender_id, "events": list(events)}
    slots: dict[str, Any] = {}
    latest_message: dict[str, Any] = {}
    latest_channel: str | None = None
    latest_action: dict[str, Any] = {}
    active_loop: dict[str, Any] = {}
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slots[event["name"]] = event.get("value")
        elif kind == "user":
            latest_message = {
                key: event["parse_data"].get(key)
                for key in ("intent", "entities", "text", "message_id", "metadata", "intent_ranking")
            }
            latest_channel = event.get("input_channel")
        elif kind == "action":
            latest_action = {"action_name": event["name"]}
        elif kind == "active_loop":
            active_loop = {"name": event["name"]} if event.get("name") else {}
        elif kind in ("restart", "session_started"):
            # both reset the tracker; carried-over slots are set again by the slot events that follow
            slots = {}
            active_loop = {}
    return {
        "sender_id": sender_id,
        "slots": slots,
        "latest_message": latest_message,
        "latest_event_time": events[-1]["timestamp"] if events else None,
        "followup_action": None,
        "paused": False,
        "events": list(events),
        "latest_input_channel": latest_channel,
        "active_loop": active_loop,
        "latest_action": latest_action,
        "latest_action_name": latest_action.get("action_name"),
    }


def _open_text(target: str | Path | IO[str]) -> tuple[IO[str], bool]:
    if isinstance(target, (str, Path)):
        return open(target, "w", encoding="utf-8", newline="\n"), True
    return target, False


def write_jsonl(
    target: str | Path | IO[str],
    conversations: Iterable[Conversation | tuple[str, Sequence[Event]]],
) -> int:
    """Write conversations as JSONL (one event per line, with ``sender_id``). Returns the event count."""
    handle, close = _open_text(target)
    count = 0
    try:
        for item in conversations:
            sender_id, events = (item.sender_id, item.events) if isinstance(item, Conversation) else item
            lines = [json.dumps(event) for event in with_sender_id(sender_id, events)]
            if lines:
                handle.write("\n".join(lines))
                handle.write("\n")
            count += len(lines)
    finally:
        if close:
            handle.close()
    return count


def write_tracker_json(
    target: str | Path | IO[str],
    conversations: Iterable[Conversation | tuple[str, Sequence[Event]]],
    *,
    full: bool = True,
    array: bool = True,
) -> int:
    """Write conversations as tracker documents: a JSON array of them (``array=True``), or exactly one
    document (``array=False``; then ``conversations`` must hold one). Returns the event count."""
    handle, close = _open_text(target)
    count = 0
    try:
        if not array:
            items = [
                (item.sender_id, item.events) if isinstance(item, Conversation) else item for item in conversations
            ]
            if len(items) != 1:
                raise ValueError("array=False needs exactly one conversation")
            sender_id, events = items[0]
            handle.write(json.dumps(tracker_document(sender_id, events, full=full)))
            handle.write("\n")
            return len(events)
        handle.write("[")
        first = True
        for item in conversations:
            sender_id, events = (item.sender_id, item.events) if isinstance(item, Conversation) else item
            handle.write("\n" if first else ",\n")
            handle.write(json.dumps(tracker_document(sender_id, events, full=full)))
            first = False
            count += len(events)
        handle.write("\n]\n")
    finally:
        if close:
            handle.close()
    return count
