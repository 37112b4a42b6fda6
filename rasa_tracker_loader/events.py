"""Validate Rasa tracker events and turn them into rows of the source layout.

Every event becomes two rows that share one ``_record_hash``: one in ``event`` (the common columns only) and
one in ``event_<type>`` (the common columns plus everything the event carries, after the filters below; dlt
flattens nested objects into ``a__b`` columns and turns lists into child tables).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from .errors import LoaderError

#: Event types Rasa Open Source 1.x-3.x and Rasa Pro write (``Event.type_name``).
KNOWN_EVENT_TYPES: Final[frozenset[str]] = frozenset(
    {
        "action",
        "action_execution_rejected",
        "active_loop",
        "agent",
        "bot",
        "cancel_reminder",
        "entities",
        "export",
        "followup",
        "form",
        "form_validation",
        "loop_interrupted",
        "pause",
        "reminder",
        "reset_slots",
        "restart",
        "resume",
        "rewind",
        "session_started",
        "slot",
        "undo",
        "user",
        "user_featurization",
        "wrong_action",
        "wrong_utterance",
        # Rasa Pro (CALM)
        "stack",
        "flow_started",
        "flow_interrupted",
        "flow_resumed",
        "flow_completed",
        "flow_cancelled",
        "session_ended",
        "routing_session_ended",
    }
)

EVENT_TYPE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]{0,50}$")

#: The columns every event table has, in this order (dlt adds ``_load_id``'s value).
COMMON_COLUMNS: Final[dict[str, dict[str, Any]]] = {
    "_record_hash": {"data_type": "text", "nullable": False},
    "_root_hash": {"data_type": "text", "nullable": False},
    "_load_id": {"data_type": "text", "nullable": False},
    "_event_pos": {"data_type": "bigint", "nullable": True},
    "sender_id": {"data_type": "text", "nullable": False},
    "event": {"data_type": "text", "nullable": False},
    "timestamp": {"data_type": "timestamp", "nullable": False},
    "model_id": {"data_type": "text", "nullable": True},
    "environment": {"data_type": "text", "nullable": False},
}

#: Columns of event_<type> tables that the dbt package reads: declared so that they exist even when every
#: value loaded so far was NULL.
TYPE_COLUMNS: Final[dict[str, dict[str, dict[str, Any]]]] = {
    "user": {
        "text": {"data_type": "text"},
        "input_channel": {"data_type": "text"},
        "message_id": {"data_type": "text"},
        "parse_data__intent__name": {"data_type": "text"},
        "parse_data__intent__confidence": {"data_type": "double"},
    },
    "bot": {"text": {"data_type": "text"}, "metadata__utter_action": {"data_type": "text"}},
    "action": {"name": {"data_type": "text"}, "policy": {"data_type": "text"}, "confidence": {"data_type": "double"}},
    "slot": {"name": {"data_type": "text"}, "value": {"data_type": "text"}},
    "active_loop": {"name": {"data_type": "text"}},
}


def typed_table_columns(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Column hints for the ``event_<type>`` table of ``row``."""
    return {**COMMON_COLUMNS, **TYPE_COLUMNS.get(row["event"], {})}


def typed_table_name(row: dict[str, Any]) -> str:
    return f"event_{row['event']}"


USER_PARSE_DATA_KEEP: Final = ("intent", "entities", "message_id", "text")
BOT_METADATA_KEEP: Final = ("utter_action", "template_name", "model_id")

# timestamps between 1970 and 2200: anything else is not a unix time in seconds
_MAX_TIMESTAMP: Final = 7258118400.0
# out-of-range values that are unix time from 2000 to 2200 in milliseconds get a hint
_MIN_MILLIS_HINT: Final = 946684800.0


def canonical_json(value: Any) -> str:
    """The canonical JSON text the record hash is computed from: keys sorted, no whitespace, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def record_hash(sender_id: str, event: dict[str, Any]) -> str:
    """md5 (hex) of ``sender_id`` followed by the canonical JSON of the event without its ``sender_id`` key."""
    body = {k: v for k, v in event.items() if k != "sender_id"}
    return _hash(sender_id, canonical_json(body))


def _hash(sender_id: str, body_json: str) -> str:
    # "surrogatepass": a sender id with a lone surrogate (invalid Unicode) still hashes, deterministically; every
    # valid string encodes as plain UTF-8
    return hashlib.md5((sender_id + body_json).encode("utf-8", "surrogatepass")).hexdigest()


# What no destination can store as it is: NUL characters (PostgreSQL text), lone surrogates (not Unicode, so not
# UTF-8: Parquet, COPY) and integers beyond 64 bits. They show in the canonical (ASCII) JSON as escapes or long
# digit runs; only events that match are cleaned (see _storable).
_UNSTORABLE_HINT: Final = re.compile(r"\\u0000|\\ud[89a-f]|\d{19}", re.IGNORECASE)
_REPLACEMENT: Final = "\ufffd"
_INT64: Final = range(-(2**63), 2**63)


def _storable_text(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", _REPLACEMENT)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a valid pair is one character in Python)
        value = "".join(_REPLACEMENT if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    return value


def _storable(value: Any) -> Any:
    """``value`` with NUL characters and lone surrogates in strings (and keys) replaced by U+FFFD, and integers
    beyond 64 bits as their decimal text: what every destination can store. The record hash is computed before."""
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, dict):
        return {_storable_text(k) if isinstance(k, str) else k: _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return str(value)
    return value


@dataclass(frozen=True)
class RawEvent:
    """One event as read from an input, before validation."""

    event: Any
    sender_id: Any
    position: int
    where: str  # "file.jsonl:12", "file.json: tracker 1, event 3", "sqlite:///x.db events.id=7"


@dataclass(frozen=True)
class PreparedEvent:
    record_hash: str
    sender_id: str
    table: str
    common_row: dict[str, Any]
    typed_row: dict[str, Any]


def _slot_text(value: Any) -> Any:
    """Slot values hold anything; every scalar in them is stored as text (booleans and numbers in their JSON
    spelling) so that the same column never changes type between slots."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {k: _slot_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_slot_text(v) for v in value]
    return json.dumps(value)


def _filtered_body(event_type: str, event: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in event.items() if k != "sender_id"}
    if event_type == "user":
        parse_data = body.get("parse_data")
        if isinstance(parse_data, dict):
            body["parse_data"] = {k: parse_data[k] for k in USER_PARSE_DATA_KEEP if k in parse_data}
    elif event_type == "bot":
        body.pop("data", None)
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            body["metadata"] = {k: v for k, v in metadata.items() if k in BOT_METADATA_KEEP or k.startswith("rasa_x_")}
    elif event_type == "slot" and "value" in body:
        body["value"] = _slot_text(body["value"])
    return body


def prepare(raw: RawEvent, environment: str, allow_unknown_types: bool = False) -> PreparedEvent:
    """Validate ``raw`` and build its two rows; raises :class:`LoaderError` naming ``raw.where``."""

    def fail(problem: str) -> LoaderError:
        return LoaderError(f"{raw.where}: {problem}")

    event = raw.event
    if not isinstance(event, dict):
        raise fail(f"expected an event (a JSON object), got {type(event).__name__}")
    sender_id = raw.sender_id
    if sender_id is None:
        raise fail("event has no 'sender_id'")
    if not isinstance(sender_id, str) or not sender_id:
        raise fail(f"'sender_id' must be a non-empty string, got {sender_id!r}")
    own_sender = event.get("sender_id")
    if own_sender is not None and own_sender != sender_id:
        raise fail(f"event's 'sender_id' {own_sender!r} differs from its tracker's {sender_id!r}")

    if "event" not in event:
        raise fail("event has no 'event' (event type)")
    event_type = event["event"]
    if not isinstance(event_type, str) or not EVENT_TYPE_PATTERN.match(event_type):
        raise fail(f"invalid event type {event_type!r}")
    if event_type not in KNOWN_EVENT_TYPES and not allow_unknown_types:
        raise fail(f"unknown event type {event_type!r} (use --allow-unknown-event-types to load it anyway)")

    if "timestamp" not in event:
        raise fail("event has no 'timestamp'")
    ts = event["timestamp"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise fail(f"'timestamp' must be unix time in seconds (a number), got {ts!r}")
    if not 0 <= ts < _MAX_TIMESTAMP:
        hint = " (milliseconds? Rasa writes seconds)" if _MIN_MILLIS_HINT <= ts / 1000 < _MAX_TIMESTAMP else ""
        raise fail(f"'timestamp' {ts!r} is out of range for unix time in seconds (1970 to 2200){hint}")
    timestamp = datetime.fromtimestamp(ts, tz=UTC)

    body = {k: v for k, v in event.items() if k != "sender_id"}
    try:
        body_json = canonical_json(body)
    except ValueError as ex:  # NaN / Infinity somewhere in the event
        raise fail(f"event is not valid JSON: {ex}") from None
    hash_ = _hash(sender_id, body_json)

    metadata = event.get("metadata")
    model_id = metadata.get("model_id") if isinstance(metadata, dict) else None
    if model_id is not None and not isinstance(model_id, str):
        model_id = canonical_json(model_id)
    typed = _filtered_body(event_type, event)
    stored_sender = _storable_text(sender_id)
    if _UNSTORABLE_HINT.search(body_json):
        typed = _storable(typed)
        model_id = _storable(model_id)

    common = {
        "_record_hash": hash_,
        "_root_hash": hash_,
        "_event_pos": raw.position,
        "sender_id": stored_sender,
        "event": event_type,
        "timestamp": timestamp,
        "model_id": model_id,
        "environment": environment,
    }
    typed.update(common)
    return PreparedEvent(hash_, stored_sender, f"event_{event_type}", common, typed)
