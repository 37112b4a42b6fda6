"""Deterministic generator of realistic Rasa tracker-store data for the demo assistant (``sample_bot/``).

Library use::

    from rasa_tracker_loader.generator import generate, generate_scenario_set

    for sender_id, events in generate(n_events=100_000, seed=1):
        ...
    for scenario in generate_scenario_set():
        print(scenario.name, len(scenario.events))

Command line (streams to disk in constant memory)::

    python -m rasa_tracker_loader.generator --events 1000000 --seed 1 --out DIR [--format jsonl|tracker]
        [--files N] [--days 28] [--start 2024-01-01] [--jobs N]
    python -m rasa_tracker_loader.generator --scenarios --out DIR

What the data has: many senders on three input channels (rest, socketio, facebook); external user ids in
user-message metadata, in the ``session_started_metadata`` slot or in ``session_started`` metadata (some
users on several senders, some senders without an external id); sessions opened by
``action_session_start`` with and without the metadata slot, and a new session after more than 60 minutes
of inactivity; slots carried over to new sessions; restarts in the old form (``action_restart``, reply,
``restart``, ``action_listen``) and the new form (followed by a session start); identical timestamps;
bounced sessions (session start and a greeting, no user message); fallbacks (``nlu_fallback`` +
``action_default_fallback`` + ``rewind``), out of scope, frustrated (``react_frustrated``) and happy
(``thankyou``) users, hand-offs (``action_human_handoff``); forms with ``requested_slot``, repeated
requests, rejected fills (value null), FAQs inside forms, deactivation and abandoned forms; model ids that
change every week; trackers that begin mid-conversation and senders of an old SDK without session events.

Every sender is simulated from its own random stream (seeded with ``seed`` and the sender's index), so the
output depends only on the arguments (not on ``--jobs``), never on the machine or the Python hash seed.
Sender k goes to file k mod ``--files``; ``--format tracker`` writes JSON arrays of full tracker documents
(as Rasa's HTTP API returns them) instead of JSONL.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rasa_tracker_loader.conversation import (
    DEFAULT_ASSISTANT_ID,
    Conversation,
    Event,
    to_timestamp,
    tracker_document,
)

__all__ = [
    "DEFAULT_START",
    "GeneratorConfig",
    "Plan",
    "Scenario",
    "generate",
    "events_to_jsonl",
    "generate_scenario_set",
    "main",
    "model_id_for",
    "sender_plan",
    "write_generated",
]

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)
FillOutcome = Literal["filled", "stopped", "left"]

# ---------------------------------------------------------------------- vocabulary of sample_bot

STORY_INTENTS = ("book_flight", "check_booking", "cancel_booking", "offset_emissions", "faq")

USER_TEXTS: dict[str, tuple[str, ...]] = {
    "greet": ("hi", "hello", "hey there", "good morning", "hello Skyward", "/greet"),
    "goodbye": ("bye", "goodbye", "see you later", "that's all, bye"),
    "affirm": ("yes", "yes please", "sure", "correct", "sounds good"),
    "deny": ("no", "no thanks", "not now", "stop", "never mind"),
    "thankyou": ("thanks", "thank you so much", "great, thanks", "perfect, thank you"),
    "bot_challenge": ("are you a bot?", "am I talking to a human?", "are you a real person?"),
    "react_frustrated": (
        "this is useless",
        "you are not helping at all",
        "this is so frustrating",
        "why don't you understand me",
    ),
    "request_human": (
        "I want to talk to a human",
        "connect me to an agent",
        "can I speak to a real person",
        "human please",
    ),
    "out_of_scope": (
        "what's the weather like tomorrow?",
        "order me a pizza",
        "tell me a joke",
        "who won the football match",
    ),
    "book_flight": (
        "I want to book a flight",
        "book a flight for me",
        "I need a plane ticket",
        "/book_flight",
    ),
    "check_booking": ("what's the status of my booking", "check my booking", "is my flight confirmed?"),
    "cancel_booking": ("cancel my booking", "I want to cancel my flight", "please cancel the reservation"),
    "offset_emissions": (
        "how can I offset my flight",
        "I want to compensate the emissions of my trip",
        "offset my carbon footprint",
    ),
}
FAQ_TEXTS: dict[str, tuple[str, ...]] = {
    "faq/opening_hours": ("when are you open?", "what are your opening hours", "is the desk open on sunday"),
    "faq/baggage_allowance": ("how much luggage can I take", "what is the baggage allowance"),
    "faq/carbon_offsets": ("how do carbon offsets work", "where does the offset money go"),
    "faq/pets": ("can I take my dog", "are pets allowed on board", "can my cat fly with me"),
}
FAQ_KEYS = tuple(FAQ_TEXTS)
FALLBACK_TEXTS = ("asdf", "hmm what", "?", "can u do the thing", "blorp", "ok and", "1234")
CITIES = (
    "Berlin", "London", "Lisbon", "Paris", "Rome", "Madrid", "Vienna", "Oslo", "Prague", "Warsaw",
    "Dublin", "Athens", "Zurich", "Amsterdam", "Stockholm", "Helsinki",
)  # fmt: skip
BAD_CITIES = ("Atlantis", "Gotham", "Narnia", "Springfield")
DATES = ("tomorrow", "next friday", "on monday", "2024-03-14", "in two weeks", "next month")
DISTRACTOR_INTENTS = ("inform", "affirm", "deny", "greet", "faq", "out_of_scope", "goodbye")
CITY_TEMPLATES = ("{}", "from {}", "to {}", "I'm flying from {}", "{} please")
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# (channel, weight); sender ids look like what these channels use
CHANNELS: tuple[tuple[str, float], ...] = (("rest", 0.40), ("socketio", 0.35), ("facebook", 0.25))


@dataclass(frozen=True)
class GeneratorConfig:
    """Knobs of the simulation (probabilities are per sender, per session or per turn as named)."""

    start: datetime = DEFAULT_START
    days: float = 28.0
    model_period_days: float = 7.0
    assistant_id: str = DEFAULT_ASSISTANT_ID
    #: external-user pool size relative to the expected number of senders (smaller: more senders per user)
    users_per_sender: float = 0.55
    #: how the external user id travels (per sender)
    id_modes: tuple[tuple[str, float], ...] = (
        ("none", 0.25),
        ("slot", 0.50),
        ("user_only", 0.13),
        ("legacy", 0.12),
    )
    p_external_session_id: float = 0.4
    p_mid_conversation_start: float = 0.02
    p_old_sdk: float = 0.02
    p_same_time: float = 0.3
    sessions_mean: float = 2.2
    max_sessions: int = 8
    p_bounce_silent: float = 0.04
    p_bounce_greeting: float = 0.08
    p_greet: float = 0.55
    p_restart: float = 0.06
    p_restart_new_form: float = 0.6
    p_fallback: float = 0.07
    p_out_of_scope: float = 0.04
    p_frustrated: float = 0.05
    p_handoff: float = 0.03
    p_thankyou: float = 0.45
    p_goodbye: float = 0.4
    p_bad_fill: float = 0.12
    p_faq_in_form: float = 0.05
    p_deactivate: float = 0.05
    p_abandon: float = 0.05
    story_weights: tuple[tuple[str, float], ...] = (
        ("book_flight", 0.30),
        ("check_booking", 0.14),
        ("cancel_booking", 0.10),
        ("offset_emissions", 0.10),
        ("faq", 0.22),
        ("chitchat", 0.14),
    )
    #: rough mean events per sender, used to size the user pool from a requested event count
    expected_events_per_sender: float = 70.0
    #: events of a sender share metadata dicts (faster; the events must then not be mutated in place)
    share_metadata: bool = False


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    total = sum(weight for _, weight in options)
    pick = rng.random() * total
    for name, weight in options:
        pick -= weight
        if pick < 0:
            return name
    return options[-1][0]


def _pick(rng: random.Random, options: Sequence[Any]) -> Any:
    """A uniformly chosen element (cheaper than ``rng.choice`` and just as deterministic)."""
    return options[int(rng.random() * len(options))]


def _confidence(rng: random.Random, low: float, span: float) -> float:
    """A confidence in [low, low + span) with 4 decimals (cheaper than ``round``)."""
    return int((low + span * rng.random()) * 10_000) / 10_000


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def model_id_for(seed: int, index: int) -> str:
    """Model id of the ``index``-th model deployed in the run with ``seed`` (32 hex digits)."""
    return hashlib.md5(f"skyward-model/{seed}/{index}".encode(), usedforsecurity=False).hexdigest()


class _Sim:
    """Simulates one sender with its own random stream."""

    def __init__(self, config: GeneratorConfig, seed: int, index: int, n_users: int, start_ts: float) -> None:
        self.cfg = config
        self.seed = seed
        self.rng = rng = random.Random(f"rasa-tracker-generator/{seed}/{index}")
        self.start_ts = start_ts
        self.period = config.model_period_days * 86_400
        self._model_index = -1
        channel = _weighted(rng, CHANNELS)
        if channel == "facebook":
            sender_id = str(rng.randrange(10**15, 10**16))
        elif channel == "socketio":
            sender_id = _hex(rng, 32)
        else:
            h = _hex(rng, 32)
            sender_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"
        self.old_sdk = rng.random() < config.p_old_sdk
        self.id_mode = "none" if self.old_sdk else _weighted(rng, config.id_modes)
        self.user_id: str | None = None
        if self.id_mode != "none":
            user_index = int(n_users * rng.random() ** 2)  # skewed: some users have many senders
            digest = hashlib.md5(f"user/{seed}/{user_index}".encode(), usedforsecurity=False).hexdigest()
            self.user_id = f"cust-{digest[:10]}"
        self.with_external_session = rng.random() < config.p_external_session_id
        self.session_ref = ""
        self.user_metadata: dict[str, Any] | None = None
        self.same_time = rng.random() < config.p_same_time
        self.mid_start = rng.random() < config.p_mid_conversation_start
        first = start_ts + rng.random() * config.days * 86_400
        self.c = Conversation(
            sender_id,
            first,
            model_id=None,
            assistant_id=None,
            input_channel=channel,
            tick=0.000_731,
            share_metadata=config.share_metadata,
        )
        if not self.old_sdk:
            self._update_model()

    # -------------------------------------------------------------- helpers

    def _update_model(self) -> None:
        if self.old_sdk:
            return
        index = max(0, int((self.c.now - self.start_ts) // self.period))
        if index != self._model_index:
            self._model_index = index
            self.c.set_model(model_id_for(self.seed, index), self.cfg.assistant_id)

    def _metadata(self) -> dict[str, Any] | None:
        if self.user_id is None:
            return None
        md: dict[str, Any] = {"user_id": self.user_id}
        if self.with_external_session:
            md["external_session_id"] = self.session_ref
        return md

    def _think(self) -> float:
        r = self.rng.random()
        if r < 0.85:
            return 1.5 + 25 * self.rng.random()
        if r < 0.97:
            return 30 + 150 * self.rng.random()
        return 180 + 1500 * self.rng.random()  # stays below the 60 minute session expiry

    def say(
        self,
        intent: str,
        text: str | None = None,
        *,
        entities: Sequence[tuple[str, Any]] = (),
        slots: dict[str, Any] | None = None,
        retrieval: str | None = None,
        confidence: float | None = None,
    ) -> None:
        """A user message (with think time before it and the sender's metadata)."""
        rng = self.rng
        self.c.wait(self._think())
        self._update_model()
        if text is None:
            pool = FAQ_TEXTS[retrieval] if retrieval else USER_TEXTS[intent]
            text = _pick(rng, pool)
        if confidence is None:
            confidence = 1.0 if text.startswith("/") else _confidence(rng, 0.62, 0.379)
        if confidence < 1.0:
            second = _pick(rng, DISTRACTOR_INTENTS)
            if second == intent:
                second = "nlu_fallback" if intent != "nlu_fallback" else "inform"
            rest = int((1 - confidence) * rng.random() * 10_000) / 10_000
            ranking = [(intent, confidence), (second, rest)]
        else:
            ranking = [(intent, confidence)]
        self.c.user(
            intent,
            text,
            confidence=confidence,
            entities=entities,
            metadata=self.user_metadata,
            ranking=ranking,
            retrieval=retrieval,
            slots=slots,
            featurization=not self.old_sdk,
        )

    def bot(self, response: str, *, listen: bool = True, story: bool = False) -> None:
        if story:
            policy, conf = "TEDPolicy", _confidence(self.rng, 0.7, 0.299)
        else:
            policy, conf = "RulePolicy", 1.0
        self.c.bot(response, policy=policy, confidence=conf, listen=listen)

    # -------------------------------------------------------------- sessions

    def run(self) -> Conversation:
        cfg, rng = self.cfg, self.rng
        n_sessions = 1
        while n_sessions < cfg.max_sessions and rng.random() < 1 - 1 / cfg.sessions_mean:
            n_sessions += 1
        for number in range(n_sessions):
            if number:
                r = rng.random()
                if r < 0.4:
                    gap = 61 * 60 + rng.random() * 5 * 3600
                elif r < 0.8:
                    gap = 6 * 3600 + rng.random() * 42 * 3600
                else:
                    gap = 2 * 86_400 + rng.random() * 8 * 86_400
                self.c.wait(gap)
            self.session(first=number == 0)
        return self.c

    def session(self, *, first: bool) -> None:
        cfg, rng, c = self.cfg, self.rng, self.c
        self.session_ref = _hex(rng, 12)
        metadata = self._metadata()
        self.user_metadata = metadata if self.id_mode in ("slot", "user_only") else None
        self._update_model()
        with_start = not (self.old_sdk or (first and self.mid_start))
        if with_start:
            start_metadata = metadata if self.id_mode in ("slot", "legacy") else None
            c.session_start(start_metadata, legacy=self.id_mode == "legacy", same_time=self.same_time)
        r = rng.random()
        if r < cfg.p_bounce_silent and with_start:
            return
        # (a tracker that begins mid-conversation begins with a user message: no bounce there)
        if r < cfg.p_bounce_silent + cfg.p_bounce_greeting and not (first and self.mid_start):
            # a welcome message through the `execute` endpoint: no user message follows
            c.wait(0.2 + rng.random())
            c.action_executed("utter_greet", policy=None, confidence=1.0)
            c.utter("utter_greet")
            return
        if rng.random() < cfg.p_greet:
            self.say("greet")
            self.bot("utter_greet")
        for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.1)):
            if not self.story():
                return
        if rng.random() < cfg.p_thankyou:
            self.say("thankyou")
            self.bot("utter_youre_welcome")
        if rng.random() < cfg.p_goodbye:
            self.say("goodbye")
            self.bot("utter_goodbye")

    def disturbances(self) -> bool:
        """Fallbacks, out-of-scope, frustration, hand-off, restart between turns. False: session over."""
        cfg, rng, c = self.cfg, self.rng, self.c
        frustrated = False
        if rng.random() < cfg.p_fallback:
            for _ in range(1 + (rng.random() < 0.35)):
                text = _pick(rng, FALLBACK_TEXTS)
                self.say("nlu_fallback", text, confidence=0.4)
                c.fallback()
            frustrated = rng.random() < 0.4
        if rng.random() < cfg.p_out_of_scope:
            self.say("out_of_scope")
            self.bot("utter_out_of_scope")
        if frustrated or rng.random() < cfg.p_frustrated:
            self.say("react_frustrated")
            self.bot("utter_sorry_frustrated")
            if rng.random() < 0.35:
                self.handoff()
                return False
        if rng.random() < cfg.p_handoff:
            self.handoff()
            return False
        if rng.random() < cfg.p_restart:
            self.say("restart", "/restart")
            new_form = not self.old_sdk and rng.random() < cfg.p_restart_new_form
            c.restart(
                "new" if new_form else "old",
                reply="utter_restart" if rng.random() < 0.7 else None,
                same_time=self.same_time,
            )
        return True

    def handoff(self) -> None:
        self.say("request_human")
        self.c.handoff()

    def story(self) -> bool:
        """One story; False when the user left (the session ends)."""
        if not self.disturbances():
            return False
        kind = _weighted(self.rng, self.cfg.story_weights)
        return getattr(self, f"story_{kind}")()

    def story_book_flight(self) -> bool:
        rng, c = self.rng, self.c
        self.say("book_flight")
        c.form_start("booking_form", ask="departure")
        values = {
            "departure": _pick(rng, CITIES),
            "destination": _pick(rng, CITIES),
            "travel_date": _pick(rng, DATES),
        }
        order = ("departure", "destination", "travel_date")
        for position, slot in enumerate(order):
            next_slot = order[position + 1] if position + 1 < len(order) else None
            outcome = self.fill(slot, values[slot], next_slot)
            if outcome != "filled":
                return outcome == "stopped"
        text = f"Your flight from {values['departure']} to {values['destination']} is booked."
        c.action(
            "action_submit_booking",
            say=[("utter_booking_confirmed", text)],
            slots={"booking_confirmed": True},
            listen=False,
        )
        self.bot("utter_anything_else")
        return True

    def fill(self, slot: str, value: str, next_slot: str | None) -> FillOutcome:
        """The user answers a form question: filled, stopped (form deactivated) or left (session over)."""
        cfg, rng, c = self.cfg, self.rng, self.c
        entity = "travel_date" if slot == "travel_date" else "city"
        if slot == "booking_reference":
            entity = "booking_reference"
        while True:
            r = rng.random()
            if r < cfg.p_abandon:
                return "left"
            r -= cfg.p_abandon
            if r < cfg.p_deactivate:
                self.say("deny")
                c.form_deactivate()
                self.bot("utter_anything_else", story=True)
                return "stopped"
            r -= cfg.p_deactivate
            if r < cfg.p_faq_in_form:
                key = _pick(rng, FAQ_KEYS)
                self.say("faq", retrieval=key)
                c.faq(key, listen=False)
                c.form_step(ask=slot)  # asks for the same slot again
                continue
            r -= cfg.p_faq_in_form
            if r < cfg.p_fallback / 2:
                self.say("nlu_fallback", _pick(rng, FALLBACK_TEXTS), confidence=0.4)
                c.fallback()
                continue
            r -= cfg.p_fallback / 2
            if r < cfg.p_bad_fill and entity == "city":
                bad = _pick(rng, BAD_CITIES)
                text = _pick(rng, CITY_TEMPLATES).format(bad)
                self.say("inform", text, entities=[(entity, bad)], slots={slot: bad})
                c.form_step(fill={slot: None}, ask=slot)  # rejected: requested again
                continue
            break
        if entity == "city":
            text = _pick(rng, CITY_TEMPLATES).format(value)
        elif entity == "booking_reference":
            text = value if rng.random() < 0.5 else f"my reference is {value}"
        else:
            text = value
        self.say("inform", text, entities=[(entity, value)], slots={slot: value})
        c.form_step(fill={slot: value}, ask=next_slot)
        return "filled"

    def _lookup(self) -> FillOutcome:
        rng = self.rng
        self.c.form_start("booking_lookup_form", ask="booking_reference")
        ref = "SKY" + "".join(_pick(rng, REF_ALPHABET) for _ in range(3))
        return self.fill("booking_reference", ref, None)

    def story_check_booking(self) -> bool:
        self.say("check_booking")
        outcome = self._lookup()
        if outcome != "filled":
            return outcome == "stopped"
        self.c.action("action_lookup_booking", say=["utter_booking_status"], listen=False)
        self.bot("utter_anything_else")
        return True

    def story_cancel_booking(self) -> bool:
        self.say("cancel_booking")
        outcome = self._lookup()
        if outcome != "filled":
            return outcome == "stopped"
        self.bot("utter_ask_confirm_cancel", story=True)
        if self.rng.random() < 0.75:
            self.say("affirm")
            self.c.action("action_cancel_booking", say=["utter_booking_cancelled"], listen=False)
        else:
            self.say("deny")
        self.bot("utter_anything_else", story=True)
        return True

    def story_offset_emissions(self) -> bool:
        self.say("offset_emissions")
        kg = round(80 + 900 * self.rng.random(), 1)
        self.c.action(
            "action_calculate_offset",
            say=["utter_offset_quote"],
            slots={"offset_kg": kg},
            policy="TEDPolicy",
            confidence=_confidence(self.rng, 0.8, 0.19),
            listen=False,
        )
        self.bot("utter_anything_else", story=True)
        return True

    def story_faq(self) -> bool:
        for _ in range(1 + (self.rng.random() < 0.3)):
            key = _pick(self.rng, FAQ_KEYS)
            self.say("faq", retrieval=key)
            self.c.faq(key)
        return True

    def story_chitchat(self) -> bool:
        if self.rng.random() < 0.5:
            self.say("bot_challenge")
            self.bot("utter_iamabot")
        else:
            self.say("out_of_scope")
            self.bot("utter_out_of_scope")
        return True


# ---------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Plan:
    """Everything that determines the output (shared by the in-process and the parallel paths): sender ``index``
    of a run is ``plan.simulate(index)`` whatever else is simulated, in any process (see :func:`sender_plan`)."""

    seed: int
    config: GeneratorConfig
    n_users: int
    start_ts: float
    n_events: int | None
    n_conversations: int | None

    def simulate(self, index: int) -> Conversation:
        """The ``index``-th sender (its whole tracker; never empty)."""
        return _Sim(self.config, self.seed, index, self.n_users, self.start_ts).run()


def _plan(n_events: int | None, n_conversations: int | None, seed: int, config: GeneratorConfig | None) -> Plan:
    if (n_events is None) == (n_conversations is None):
        raise ValueError("give exactly one of n_events and n_conversations")
    cfg = config or GeneratorConfig()
    if n_events is not None:
        if n_events < 0:
            raise ValueError("n_events must be >= 0")
        expected_senders = n_events / cfg.expected_events_per_sender
    else:
        assert n_conversations is not None
        if n_conversations < 0:
            raise ValueError("n_conversations must be >= 0")
        expected_senders = n_conversations
    n_users = max(1, round(expected_senders * cfg.users_per_sender))
    return Plan(seed, cfg, n_users, to_timestamp(cfg.start), n_events, n_conversations)


def sender_plan(
    n_events: int | None = None,
    *,
    n_conversations: int | None = None,
    seed: int = 0,
    config: GeneratorConfig | None = None,
) -> Plan:
    """The plan of ``generate()`` with the same arguments: ``generate`` yields ``plan.simulate(0)``,
    ``plan.simulate(1)``, ... (their ``sender_id`` and ``events``), the last one cut so that there are exactly
    ``n_events``. Lets other processes simulate ranges of senders of one run."""
    return _plan(n_events, n_conversations, seed, config)


def generate(
    n_events: int | None = None,
    *,
    n_conversations: int | None = None,
    seed: int = 0,
    config: GeneratorConfig | None = None,
) -> Iterator[tuple[str, list[Event]]]:
    """Yield ``(sender_id, events)`` for simulated senders, deterministically from ``seed``.

    Give exactly one of ``n_events`` (the total is exactly that: the last sender's tracker is cut, like an
    export taken at a point in time) or ``n_conversations`` (number of senders).
    """
    plan = _plan(n_events, n_conversations, seed, config)
    remaining = n_events
    index = 0
    while (n_conversations is None or index < n_conversations) and (remaining is None or remaining > 0):
        conversation = plan.simulate(index)
        events = conversation.events
        if remaining is not None:
            if len(events) > remaining:
                events = events[:remaining]
            remaining -= len(events)
        index += 1
        yield conversation.sender_id, events


# ---------------------------------------------------------------------- named scenarios


@dataclass
class Scenario:
    """A small hand-written conversation that shows one feature."""

    name: str
    description: str
    conversation: Conversation
    features: tuple[str, ...] = field(default=())

    @property
    def sender_id(self) -> str:
        return self.conversation.sender_id

    @property
    def events(self) -> list[Event]:
        return self.conversation.events


def generate_scenario_set(start: datetime = DEFAULT_START, *, model_id: str | None = None) -> list[Scenario]:
    """A fixed set of named conversations, one or a few features each (deterministic)."""
    m1 = model_id or model_id_for(0, 0)
    m2 = model_id_for(0, 1)
    base = to_timestamp(start) + 10 * 3600
    scenarios: list[Scenario] = []

    def new(name: str, description: str, features: Sequence[str], offset_hours: float = 0.0,
            **kwargs: Any) -> Conversation:  # fmt: skip
        kwargs.setdefault("model_id", m1)
        c = Conversation(f"scenario-{name}", base + offset_hours * 3600, **kwargs)
        scenarios.append(Scenario(name, description, c, tuple(features)))
        return c

    u1 = {"user_id": "cust-alice"}

    c = new("happy_booking", "greeting, booking form filled in one go, thanks, goodbye",
            ["metadata_slot", "form", "happy", "story_intent"])  # fmt: skip
    c.session_start(u1)
    c.user("greet", "hi", metadata=u1, after=2)
    c.bot("utter_greet")
    c.user("book_flight", "I want to book a flight", metadata=u1, confidence=0.97, after=6)
    c.form_start("booking_form", ask="departure")
    c.user("inform", "from Berlin", entities=[("city", "Berlin")], slots={"departure": "Berlin"},
           metadata=u1, after=4)  # fmt: skip
    c.form_step(fill={"departure": "Berlin"}, ask="destination")
    c.user("inform", "Lisbon", entities=[("city", "Lisbon")], slots={"destination": "Lisbon"},
           metadata=u1, after=3)  # fmt: skip
    c.form_step(fill={"destination": "Lisbon"}, ask="travel_date")
    c.user("inform", "tomorrow", entities=[("travel_date", "tomorrow")],
           slots={"travel_date": "tomorrow"}, metadata=u1, after=5)  # fmt: skip
    c.form_step(fill={"travel_date": "tomorrow"})
    c.action("action_submit_booking", say=["utter_booking_confirmed"],
             slots={"booking_confirmed": True}, listen=False)  # fmt: skip
    c.bot("utter_anything_else")
    c.user("thankyou", "thanks", metadata=u1, after=7)
    c.bot("utter_youre_welcome")
    c.user("goodbye", "bye", metadata=u1, after=3)
    c.bot("utter_goodbye")

    c = new("bounce_greeting", "session start and a welcome message, the user never writes",
            ["bounce", "metadata_slot"], 1)  # fmt: skip
    c.session_start({"user_id": "cust-bob"})
    c.wait(0.4)
    c.action_executed("utter_greet", policy=None, confidence=1.0)
    c.utter("utter_greet")

    c = new("bounce_silent", "only a session start (widget opened), no metadata", ["bounce"], 1.5)
    c.session_start()

    c = new("restart_old_form", "action_restart, reply, restart, action_listen (no session start)",
            ["restart_old"], 2)  # fmt: skip
    c.session_start()
    c.user("greet", "hello", after=1)
    c.bot("utter_greet")
    c.user("restart", "/restart", after=5)
    c.restart("old", reply="utter_restart")
    c.user("check_booking", "check my booking", confidence=0.93, after=4)
    c.form_start("booking_lookup_form", ask="booking_reference")

    c = new("restart_new_form", "restart followed by a session start, all with one timestamp",
            ["restart_new", "identical_timestamps"], 2.5)  # fmt: skip
    c.session_start({"user_id": "cust-carol"})
    c.user("offset_emissions", "offset my carbon footprint", metadata={"user_id": "cust-carol"},
           confidence=0.91, after=3)  # fmt: skip
    c.action("action_calculate_offset", say=["utter_offset_quote"], slots={"offset_kg": 312.5},
             policy="TEDPolicy", confidence=0.88, listen=False)  # fmt: skip
    c.bot("utter_anything_else", policy="TEDPolicy", confidence=0.9)
    c.user("restart", "/restart", metadata={"user_id": "cust-carol"}, after=10)
    c.restart("new", reply="utter_restart", same_time=True)
    c.user("greet", "hi again", metadata={"user_id": "cust-carol"}, confidence=0.99, after=6)
    c.bot("utter_greet")

    c = new("fallback_frustration_handoff", "two nlu_fallbacks, a frustrated user, hand-off to a human",
            ["fallback", "frustrated", "handoff"], 3)  # fmt: skip
    c.session_start()
    c.user("nlu_fallback", "can u do the thing", confidence=0.4,
           ranking=[("nlu_fallback", 0.4), ("book_flight", 0.31)], after=2)  # fmt: skip
    c.fallback()
    c.user("nlu_fallback", "blorp", confidence=0.4, after=5)
    c.fallback()
    c.user("react_frustrated", "this is useless", confidence=0.95, after=4)
    c.bot("utter_sorry_frustrated")
    c.user("request_human", "connect me to an agent", confidence=0.98, after=3)
    c.handoff()

    c = new("out_of_scope", "an out-of-scope question, then an FAQ", ["out_of_scope", "faq"], 3.5)
    c.session_start()
    c.user("out_of_scope", "order me a pizza", confidence=0.89, after=2)
    c.bot("utter_out_of_scope")
    c.user("faq", "can I take my dog", confidence=0.96, retrieval="faq/pets", after=6)
    c.faq("faq/pets")

    c = new("form_repeated_request", "a rejected value (slot set to null) and the slot requested again, "
            "an FAQ inside the form", ["form", "failed_fill", "repeated_request", "faq"], 4)  # fmt: skip
    c.session_start()
    c.user("book_flight", "/book_flight", after=2)
    c.form_start("booking_form", ask="departure")
    c.user("inform", "from Atlantis", entities=[("city", "Atlantis")],
           slots={"departure": "Atlantis"}, after=4)  # fmt: skip
    c.form_step(fill={"departure": None}, ask="departure")
    c.user("faq", "what is the baggage allowance", retrieval="faq/baggage_allowance", after=5)
    c.faq("faq/baggage_allowance", listen=False)
    c.form_step(ask="departure")
    c.user("inform", "Oslo", entities=[("city", "Oslo")], slots={"departure": "Oslo"}, after=4)
    c.form_step(fill={"departure": "Oslo"}, ask="destination")

    c = new("form_deactivated", "the user stops the form", ["form", "form_deactivated"], 4.5)
    c.session_start()
    c.user("book_flight", "I need a plane ticket", confidence=0.94, after=2)
    c.form_start("booking_form", ask="departure")
    c.user("deny", "stop", confidence=0.9, after=3)
    c.form_deactivate()
    c.bot("utter_anything_else", policy="TEDPolicy", confidence=0.83)

    c = new("inactivity_new_session", "a second session after 2 hours of inactivity, with carried-over "
            "slots and a new model id", ["inactivity", "carry_over", "model_change",
                                         "metadata_slot"], 5)  # fmt: skip
    u2 = {"user_id": "cust-dave", "external_session_id": "web-7f3a"}
    c.session_start(u2)
    c.user("check_booking", "check my booking", metadata=u2, confidence=0.92, after=2)
    c.form_start("booking_lookup_form", ask="booking_reference")
    c.user("inform", "SKY4B2", entities=[("booking_reference", "SKY4B2")],
           slots={"booking_reference": "SKY4B2"}, metadata=u2, after=8)  # fmt: skip
    c.form_step(fill={"booking_reference": "SKY4B2"})
    c.action("action_lookup_booking", say=["utter_booking_status"], listen=False)
    c.bot("utter_anything_else")
    c.wait(hours=2)
    c.set_model(m2)
    u2b = {"user_id": "cust-dave", "external_session_id": "web-9c1e"}
    c.session_start(u2b)
    c.user("thankyou", "thanks", metadata=u2b, after=1)
    c.bot("utter_youre_welcome")

    for n, (suffix, offset) in enumerate((("a", 6.0), ("b", 6.1))):
        c = new(f"user_two_senders_{suffix}", "one external user on two senders with interleaved sessions",
                ["multi_sender_user", "metadata_slot"], offset, input_channel=("rest", "socketio")[n])  # fmt: skip
        u3 = {"user_id": "cust-erin"}
        c.session_start(u3)
        c.user("faq", "when are you open?", metadata=u3, retrieval="faq/opening_hours", after=2)
        c.faq("faq/opening_hours")
        c.user("thankyou", "thank you so much", metadata=u3, after=900)
        c.bot("utter_youre_welcome")

    c = new("legacy_session_started_metadata", "the external user id only in session_started metadata (as "
            "before SDK 2.8, or a custom action_session_start), no metadata slot", ["session_started_metadata"],
            7)  # fmt: skip
    c.session_start({"user_id": "cust-frank"}, legacy=True)
    c.user("greet", "hello", after=2)
    c.bot("utter_greet")

    c = new("no_external_id", "a sender without any external id (user = sender)", ["no_external_id"], 7.5,
            input_channel="facebook")  # fmt: skip
    c.session_start()
    c.user("bot_challenge", "are you a bot?", confidence=0.99, after=2)
    c.bot("utter_iamabot")

    c = new("mid_conversation_start", "a tracker that begins mid-conversation (no session start first), "
            "then a session start after a long gap", ["mid_conversation_start", "inactivity"], 8)  # fmt: skip
    c.user("inform", "to Rome", entities=[("city", "Rome")], after=0)
    c.bot("utter_anything_else", policy="TEDPolicy", confidence=0.72)
    c.wait(hours=3)
    c.session_start()
    c.user("greet", "hi", after=1)
    c.bot("utter_greet")

    c = new("old_sdk_no_sessions", "an old SDK: no session events and no model id; two conversations "
            "separated by a long gap", ["old_sdk", "inactivity"], 8.5, model_id=None,
            assistant_id=None, user_featurization=False)  # fmt: skip
    c.listen(policy=None, confidence=None)
    c.user("greet", "hello", after=3)
    c.bot("utter_greet", policy="MemoizationPolicy")
    c.wait(hours=5)
    c.user("goodbye", "bye", after=0)
    c.bot("utter_goodbye", policy="MemoizationPolicy")

    return scenarios


# ---------------------------------------------------------------------- writing files


_EVENT_SEPARATOR = '}, {"event": '


def _make_list_encoder() -> Callable[[Any], str] | None:
    """The C encoder of ``json.dumps`` with its default settings, called directly (None without it)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return None
    encoder = make(
        None,
        json.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        False,
        False,
        True,
    )
    return lambda value: "".join(encoder(value, 0))


_encode_list = _make_list_encoder()


def events_to_jsonl(sender_id: str, events: Sequence[Event], *, trusted: bool = False) -> str:
    """JSONL text of one sender's events, each with ``sender_id`` as its last key.

    Byte for byte what ``json.dumps({**event, "sender_id": sender_id})`` gives per line, but the whole
    list is encoded in one call of the C encoder and cut into lines at the top-level event boundaries
    ``}, {"event": `` (inside strings the quotes are escaped, so the cut is safe unless a nested list holds
    dicts whose first key is ``event``: then the count of boundaries is off and this falls back to one
    ``json.dumps`` per event). ``trusted``: skip checking that every event starts with ``event`` and has
    no ``sender_id`` of its own (true of the builder's events).
    """
    if not events:
        return ""
    tail = ', "sender_id": ' + json.encoder.encode_basestring_ascii(sender_id) + "}"
    if _encode_list is not None and (
        trusted or all("sender_id" not in event and next(iter(event)) == "event" for event in events)
    ):
        blob = _encode_list(events)
        if blob.count(_EVENT_SEPARATOR) == len(events) - 1 and blob.endswith("}]"):
            body = blob[1:-2].replace(_EVENT_SEPARATOR, tail + '\n{"event": ')
            return body + tail + "\n"
    dumps = json.dumps
    return "".join(dumps({**event, "sender_id": sender_id}) + "\n" for event in events)


Format = Literal["jsonl", "tracker"]
#: one encoded sender: (sender_id, number of events, JSONL lines or one tracker document)
Encoded = tuple[str, int, str]


def _encode(sender_id: str, events: Sequence[Event], fmt: Format, *, trusted: bool = False) -> str:
    if fmt == "jsonl":
        return events_to_jsonl(sender_id, events, trusted=trusted)
    return json.dumps(tracker_document(sender_id, events, full=True))


def _encode_chunk(plan: Plan, first: int, stop: int, fmt: Format) -> list[Encoded]:
    """Simulate and encode senders ``first`` to ``stop - 1`` (runs in a worker process)."""
    out: list[Encoded] = []
    for index in range(first, stop):
        conversation = plan.simulate(index)
        events = conversation.events
        out.append((conversation.sender_id, len(events), _encode(conversation.sender_id, events, fmt, trusted=True)))
    return out


def _encoded_in_parallel(plan: Plan, fmt: Format, jobs: int, chunk: int = 48) -> Iterator[Encoded]:
    """What encoding ``generate()`` gives, in the same order, with senders simulated in ``jobs`` processes.

    Chunks of senders are submitted in order with a bounded window and consumed in submission order; a
    sender that must be cut to reach exactly ``n_events`` is simulated again here and cut.
    """
    limit = plan.n_conversations
    remaining = plan.n_events
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: deque[tuple[int, Future[list[Encoded]]]] = deque()
        next_index = 0

        def submit() -> None:
            nonlocal next_index
            stop = next_index + chunk if limit is None else min(limit, next_index + chunk)
            if stop > next_index:
                pending.append((next_index, pool.submit(_encode_chunk, plan, next_index, stop, fmt)))
                next_index = stop

        for _ in range(3 * jobs):
            submit()
        try:
            while pending:
                first, future = pending.popleft()
                for offset, (sender_id, count, text) in enumerate(future.result()):
                    if remaining is not None:
                        if remaining <= 0:
                            return
                        if count > remaining:
                            events = plan.simulate(first + offset).events[:remaining]
                            count, text = len(events), _encode(sender_id, events, fmt, trusted=True)
                        remaining -= count
                    yield sender_id, count, text
                submit()
        finally:
            for _, future in pending:
                future.cancel()


def _write_encoded(
    out: str | Path, items: Iterable[Encoded], *, fmt: Format, files: int, prefix: str
) -> tuple[int, int]:
    if files < 1:
        raise ValueError("files must be >= 1")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "jsonl" if fmt == "jsonl" else "json"
    senders = events_total = 0
    with ExitStack() as stack:
        handles = [
            stack.enter_context(open(out_dir / f"{prefix}-{i:04d}.{suffix}", "w", encoding="utf-8", newline="\n"))
            for i in range(files)
        ]
        first = [True] * files
        if fmt == "tracker":
            for handle in handles:
                handle.write("[")
        for _, count, text in items:
            slot = senders % files
            handle = handles[slot]
            if fmt == "tracker":
                handle.write("\n" if first[slot] else ",\n")
                first[slot] = False
            handle.write(text)
            senders += 1
            events_total += count
        if fmt == "tracker":
            for handle in handles:
                handle.write("\n]\n")
    return senders, events_total


def write_generated(
    out: str | Path,
    conversations: Iterable[tuple[str, Sequence[Event]]],
    *,
    fmt: Format = "jsonl",
    files: int = 1,
    prefix: str = "events",
    trusted: bool = False,
) -> tuple[int, int]:
    """Stream ``conversations`` into ``files`` files in ``out`` (sender k goes to file k mod files).

    ``jsonl``: ``{prefix}-NNNN.jsonl``, one event per line with ``sender_id``. ``tracker``:
    ``{prefix}-NNNN.json``, a JSON array of full tracker documents. ``trusted``: the events come from this
    module's builder (every event starts with ``event`` and has no ``sender_id``), skip that check.
    Returns (senders, events).
    """
    items = (
        (sender_id, len(events), _encode(sender_id, events, fmt, trusted=trusted))
        for sender_id, events in conversations
    )
    return _write_encoded(out, items, fmt=fmt, files=files, prefix=prefix)


def _parse_start(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None, *, stderr: Callable[[str], Any] | None = None) -> int:
    """Command line entry point (``python -m rasa_tracker_loader.generator``)."""
    parser = argparse.ArgumentParser(
        prog="python -m rasa_tracker_loader.generator",
        description="Write deterministic, realistic Rasa tracker-store data of the demo assistant.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--events", type=int, help="total number of events (default 100000)")
    size.add_argument("--conversations", type=int, help="number of senders (conversations)")
    size.add_argument("--scenarios", action="store_true", help="write the named scenario set instead")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--format", choices=("jsonl", "tracker"), default="jsonl")
    parser.add_argument("--files", type=int, default=1, help="number of output files (default 1)")
    parser.add_argument("--days", type=float, default=28.0, help="time span of first contacts in days")
    parser.add_argument("--start", type=_parse_start, default=DEFAULT_START,
                        help="start date (ISO, UTC; default 2024-01-01)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1,
                        help="simulate in this many processes (same output; default 1)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be >= 1")
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    log = stderr or (lambda text: print(text, file=sys.stderr))
    began = time.perf_counter()
    fmt: Format = args.format
    items: Iterable[Encoded]
    if args.scenarios:
        prefix = "scenarios"
        items = [
            (s.sender_id, len(s.events), _encode(s.sender_id, s.events, fmt)) for s in generate_scenario_set(args.start)
        ]
    else:
        prefix = "events" if fmt == "jsonl" else "trackers"
        config = GeneratorConfig(start=args.start, days=args.days, share_metadata=True)
        n_events = None if args.conversations is not None else (100_000 if args.events is None else args.events)
        if args.jobs > 1:
            items = _encoded_in_parallel(_plan(n_events, args.conversations, args.seed, config), fmt, args.jobs)
        else:
            conversations = generate(n_events, n_conversations=args.conversations, seed=args.seed, config=config)
            items = ((sid, len(ev), _encode(sid, ev, fmt, trusted=True)) for sid, ev in conversations)
    senders, events = _write_encoded(args.out, items, fmt=fmt, files=args.files, prefix=prefix)
    seconds = time.perf_counter() - began
    rate = events / seconds if seconds > 0 else float("inf")
    log(f"wrote {events} events of {senders} senders to {args.out} in {seconds:.1f} s ({rate:,.0f} events/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
