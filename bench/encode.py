"""Events -> blocks of columns for DuckDB: the per-event Python work of the bench writer (bench/source.py).

Per event this computes what the loader's ``prepare`` computes that SQL cannot: the validation, the canonical JSON
of the event (the ``_record_hash`` is the md5 of the sender id and that text; DuckDB computes it), ``model_id``, the
timestamp (rounded to microseconds as ``datetime.fromtimestamp`` does), and the lists that become child rows. The
canonical JSON also carries every other value: DuckDB extracts the columns of ``event_<type>`` from it.

The loader's filters only drop keys (``parse_data`` and bot ``metadata`` keys, bot ``data``) except two cases that
change values: slot values that are not strings become JSON text, and text that no destination can store (NUL,
lone surrogates, integers beyond 64 bits) is cleaned. Such events get a second document, ``typed_doc``, made from the
loader's own output; every ``SPOT_CHECK``-th event is also compared with the loader's ``prepare``.

This runs where the events are: in worker processes that simulate generated senders (:func:`simulate_block`), or in
the writer's process for trackers given to it (:func:`encode`).
"""

from __future__ import annotations

import bisect
import gc
import itertools
import json
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from bench.rows import BenchError, Flattener, Lists
from rasa_tracker_loader.events import (
    _MAX_TIMESTAMP,
    COMMON_COLUMNS,
    KNOWN_EVENT_TYPES,
    RawEvent,
    _filtered_body,
    _hash,
    canonical_json,
    prepare,
)
from rasa_tracker_loader.generator import Plan

SPOT_CHECK = 1009  # a prime: no pattern of the generator lines up with it


def _marks(keep: bytes, mapping: dict[bytes, bytes], other: bytes | None) -> bytes:
    """A ``bytes.translate`` table: ``keep`` as they are, ``mapping``'s byte groups to one byte each, the rest to
    ``other`` (None: as they are)."""
    table = bytearray(range(256)) if other is None else bytearray(other * 256)
    for byte in keep:
        table[byte] = byte
    for group, to in mapping.items():
        for byte in group:
            table[byte] = to[0]
    return bytes(table)


# Which events take the loader's own path after all, found by one scan of a block's canonical JSON texts mapped to
# a few classes of bytes: where the loader cleans what it stores (NUL, lone surrogates: a "\\u" escape; integers
# beyond 64 bits: 19 digits; see rasa_tracker_loader.events), and, for orjson's texts, where they could differ from
# Python's (non-ASCII text and DEL, which Python escapes; numbers below 1e-4: orjson writes 0.00001 and 2.5e-7,
# Python 1e-05 and 2.5e-07). Any backslash counts.
_NON_ASCII = bytes(range(128, 256)) + b"\x7f\\"
_PYTHON_MARKS = _marks(b"", {b"0123456789": b"0", b"\\": b"!"}, None)
_PYTHON_UNUSUAL = (b"!", b"0" * 19)
_ORJSON_MARKS = _marks(b"0-.", {b"123456789": b"1", _NON_ASCII: b"!", b"eE": b"e"}, b" ")
_ORJSON_UNUSUAL = (b"!", b"e-", b" 0.0000", b"-0.0000")
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER  # beyond 53 bits: the loader's path

_COMMON_KEYS = frozenset(COMMON_COLUMNS)
ARROW_SCHEMA = pa.schema(
    [
        ("sender_id", pa.string()),
        ("_event_pos", pa.int64()),
        ("event", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("model_id", pa.string()),
        ("doc", pa.string()),  # canonical JSON of the event without sender_id: the record hash is md5(sender_id, doc)
        ("typed_doc", pa.string()),  # JSON of the loader's typed row where its values differ from doc's
        ("record_hash", pa.string()),  # set where the stored sender_id is not the one hashed
    ]
)


def _canonical_encoder() -> Callable[[Any], str]:
    """The loader's ``canonical_json`` (keys sorted, no whitespace, ASCII only, no NaN), the same text, with the C
    encoder called directly instead of building a ``JSONEncoder`` per event."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return canonical_json
    encode = make(
        None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, False
    )  # fmt: skip
    return lambda value: "".join(encode(value, 0))


def epoch_micros(seconds: np.ndarray) -> np.ndarray:
    """Unix seconds -> microseconds, rounded as ``datetime.fromtimestamp`` rounds (CPython's
    ``_PyTime_ObjectToTimeval``: the fraction times 10^6, rounded half to even)."""
    frac, whole = np.modf(seconds)
    micros = np.rint(frac * 1e6)
    carry = micros >= 1e6
    micros[carry] -= 1e6
    whole[carry] += 1.0
    return whole.astype(np.int64) * 1_000_000 + micros.astype(np.int64)


@dataclass
class Sender:
    """One tracker (or the first part of one) in a block: rows ``row`` to ``row + count - 1``."""

    sender_id: str
    first_pos: int
    row: int
    count: int
    index: int | None = None  # the generator's sender index
    events: list[dict[str, Any]] | None = None
    blob: bytes | None = None  # the pickled events, when they crossed a process boundary

    def load(self) -> list[dict[str, Any]]:
        if self.events is None:
            if self.blob is None:
                raise BenchError(f"{self.sender_id}: the events are not at hand")
            self.events = pickle.loads(self.blob)
        return self.events


@dataclass
class Block:
    """Encoded events: one Arrow row per event (ARROW_SCHEMA), the senders they belong to, the lists (child rows)
    of the rows that have some, and the unix timestamps as given (``seconds``)."""

    rows: pa.Table
    seconds: np.ndarray
    senders: list[Sender]
    lists: dict[int, tuple[str, str, Lists]] = field(default_factory=dict)  # row -> (table, record hash, lists)

    @property
    def events(self) -> int:
        return self.rows.num_rows

    def head(self, parts: Sequence[tuple[Sender, int]]) -> Block:
        """The first ``n`` events of each ``(sender, n)`` (senders of this block, in order)."""
        parts = [(s, n) for s, n in parts if n]
        moved = np.full(self.events, -1, dtype=np.int64)  # old row -> new row (-1: left out)
        senders, row = [], 0
        for sender, n in parts:
            senders.append(Sender(sender.sender_id, sender.first_pos, row, n, sender.index, sender.events, sender.blob))
            moved[sender.row : sender.row + n] = np.arange(row, row + n)
            row += n
        lists = {int(moved[old]): item for old, item in self.lists.items() if moved[old] >= 0}
        if row == self.events:
            return Block(self.rows, self.seconds, senders, lists)
        index = np.flatnonzero(moved >= 0)
        return Block(self.rows.take(pa.array(index, pa.int64())), self.seconds[index], senders, lists)


def concat(blocks: Sequence[Block]) -> Block:
    if len(blocks) == 1:
        return blocks[0]
    senders: list[Sender] = []
    lists: dict[int, tuple[str, str, Lists]] = {}
    offset = 0
    for block in blocks:
        for s in block.senders:
            senders.append(Sender(s.sender_id, s.first_pos, s.row + offset, s.count, s.index, s.events, s.blob))
        lists.update({row + offset: item for row, item in block.lists.items()})
        offset += block.events
    rows = pa.concat_tables([b.rows for b in blocks])
    return Block(rows, np.concatenate([b.seconds for b in blocks]), senders, lists)


Entry = tuple[str, str, float, "str | None", str, "str | None", "str | None"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Encoder:
    """``generated``: the events come from the generator, their numbers are finite, so that their canonical JSON
    can be written by orjson (several times faster; where its text could differ from Python's, the loader's own
    path takes over). Otherwise Python's encoder writes it, as the loader does."""

    def __init__(self, environment: str, generated: bool = False) -> None:
        self.environment = environment
        self.canonical = _canonical_encoder()
        self.generated = generated
        self.flattener = Flattener()
        self.seen = 0

    def encode(self, trackers: Iterable[tuple[str, int, Sequence[dict[str, Any]]]], pickled: bool = False) -> Block:
        """One block of ``(sender_id, position of the first event, events)``; ``pickled``: keep the events as
        pickles (to send the block to another process) instead of the lists themselves."""
        senders: list[Sender] = []
        kept: list[list[dict[str, Any]]] = []
        sender_ids: list[str] = []
        positions: list[int] = []
        types: list[str] = []
        seconds: list[float] = []
        model_ids: list[str | None] = []
        docs: list[bytes] = []
        typed_docs: dict[int, str] = {}
        lists: dict[int, tuple[str, str, Lists]] = {}
        exact: dict[int, Entry] = {}
        canonical, canonical_json_, known, max_ts = self.canonical, canonical_json, KNOWN_EVENT_TYPES, _MAX_TIMESTAMP
        dumps, options, generated = orjson.dumps, _ORJSON_OPTIONS, self.generated
        row = 0
        for sender_id, first_pos, events in trackers:
            plain = type(sender_id) is str and bool(sender_id) and sender_id.isascii() and "\x00" not in sender_id
            for offset, event in enumerate(events):
                # the fast path: an ordinary event (anything else goes through the loader's own prepare)
                doc = None
                if plain and type(event) is dict and "sender_id" not in event:
                    event_type = event.get("event")
                    ts = event.get("timestamp")
                    if event_type in known and (type(ts) is float or type(ts) is int) and 0 <= ts < max_ts:
                        try:
                            doc = dumps(event, option=options) if generated else canonical(event).encode("ascii")
                        except (ValueError, TypeError, RecursionError, orjson.JSONEncodeError):
                            doc = None
                if doc is None:
                    entry, found = self._exact(sender_id, first_pos + offset, event)
                    exact[row] = entry
                    doc, event_type, ts, model_id = entry[4].encode("ascii"), entry[1], entry[2], entry[3]
                else:
                    metadata = event.get("metadata")
                    model_id = metadata.get("model_id") if type(metadata) is dict else None
                    if model_id is not None and type(model_id) is not str:
                        model_id = canonical_json_(model_id)
                    found = None
                    body = None
                    if event_type == "slot" and not _all_text(event.get("value")):
                        body = _filtered_body("slot", event)
                        typed_docs[row] = canonical(body)
                    if b"[" in doc:
                        body = body or _filtered_body(event_type, event)
                        items = self.flattener.lists(body, _COMMON_KEYS)
                        if items:
                            found = (f"event_{event_type}", _hash(sender_id, doc.decode("ascii")), items)
                if found:
                    lists[row] = found
                types.append(event_type)
                seconds.append(ts)
                model_ids.append(model_id)
                docs.append(doc)
                row += 1
            n = len(events)
            sender_ids.extend([sender_id] * n)
            positions.extend(range(first_pos, first_pos + n))
            senders.append(Sender(sender_id, first_pos, row - n, n))
            kept.append(list(events))
        # the loader's own path where the canonical JSON shows what it cleans; the spot checks
        starts = [s.row for s in senders]

        def at(row: int) -> tuple[str, int, dict[str, Any]]:
            i = bisect.bisect_right(starts, row) - 1
            return senders[i].sender_id, senders[i].first_pos + row - starts[i], kept[i][row - starts[i]]

        unusual = _unusual_rows(docs, self.generated) - exact.keys()
        for row in sorted(unusual):
            lists.pop(row, None)
            typed_docs.pop(row, None)
            exact[row], found = self._exact(*at(row))
            if found:
                lists[row] = found
        for row in range(-self.seen % SPOT_CHECK, len(docs), SPOT_CHECK):
            if row not in exact:
                entry = (sender_ids[row], types[row], float(seconds[row]), model_ids[row], docs[row].decode("ascii"))
                self._check(entry, typed_docs.get(row), *at(row))
        self.seen += len(docs)
        hashes: list[str | None] = [None] * len(docs)
        typed: list[str | None] = [None] * len(docs)
        for row, text in typed_docs.items():
            typed[row] = text
        for row, entry in exact.items():
            sender_ids[row], types[row], seconds[row], model_ids[row], text, typed[row], hashes[row] = entry
            docs[row] = text.encode("ascii")
        for sender, events in zip(senders, kept, strict=True):
            if pickled:
                sender.blob = pickle.dumps(events, protocol=pickle.HIGHEST_PROTOCOL)
            else:
                sender.events = events
        secs = np.array(seconds, dtype=np.float64)
        table = pa.Table.from_arrays(
            [
                pa.array(sender_ids, pa.string()),
                pa.array(positions, pa.int64()),
                pa.array(types, pa.string()),
                pa.array(epoch_micros(secs), pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                pa.array(model_ids, pa.string()),
                pa.array(docs, pa.string()),
                pa.array(typed, pa.string()),
                pa.array(hashes, pa.string()),
            ],
            schema=ARROW_SCHEMA,
        )
        return Block(table, secs, senders, lists)

    def _exact(self, sender_id: Any, position: int, event: Any) -> tuple[Entry, tuple[str, str, Lists] | None]:
        entry, typed_row = self._by_loader(sender_id, position, event)
        found = self.flattener.lists(typed_row)
        return entry, (f"event_{entry[1]}", _hash(sender_id, entry[4]), found) if found else None

    def _by_loader(self, sender_id: Any, position: int, event: Any) -> tuple[Entry, dict[str, Any]]:
        """The entry of one event from the loader's own ``prepare`` (which raises the loader's error for an invalid
        event), and the loader's typed row."""
        prepared = prepare(RawEvent(event, sender_id, position, f"{sender_id}#{position}"), self.environment)
        body = {k: v for k, v in event.items() if k != "sender_id"}
        doc = canonical_json(body)
        if _hash(sender_id, doc) != prepared.record_hash:
            raise BenchError(f"{sender_id}#{position}: the record hash differs from the loader's")
        typed_body = {k: v for k, v in prepared.typed_row.items() if k not in _COMMON_KEYS}
        typed_doc = None if _pruned(typed_body, body) else json.dumps(typed_body, sort_keys=True)
        common = prepared.common_row
        second = float(event["timestamp"])
        if (common["timestamp"] - _EPOCH) // _MICROSECOND != int(epoch_micros(np.array([second]))[0]):
            raise BenchError(f"{sender_id}#{position}: the timestamp differs from the loader's")
        stored_sender = common["sender_id"]
        record_hash = None if stored_sender == sender_id else prepared.record_hash
        entry = (stored_sender, common["event"], second, common["model_id"], doc, typed_doc, record_hash)
        return entry, prepared.typed_row

    def _check(
        self,
        entry: tuple[str, str, float, str | None, str],
        typed_doc: str | None,
        sender_id: str,
        position: int,
        event: Any,
    ) -> None:
        """The fast path's entry against the loader's: same hash, columns and values (the loader only leaves keys
        out of the document the columns are read from)."""
        by_loader, typed_row = self._by_loader(sender_id, position, event)
        source = json.loads(typed_doc or entry[4])
        typed_body = {k: v for k, v in typed_row.items() if k not in _COMMON_KEYS}
        if entry != by_loader[:5] or not _pruned(typed_body, source):
            raise BenchError(f"{sender_id}#{position}: the bench writer and the loader's prepare() disagree")


def _unusual_rows(docs: list[bytes], by_orjson: bool) -> set[int]:
    """The documents that show one of the unusual patterns: one scan of them all."""
    marks, patterns = (_ORJSON_MARKS, _ORJSON_UNUSUAL) if by_orjson else (_PYTHON_MARKS, _PYTHON_UNUSUAL)
    text = b"\n".join(docs).translate(marks)
    hits = []
    for pattern in patterns:
        at = text.find(pattern)
        while at >= 0:
            hits.append(at)
            at = text.find(pattern, at + len(pattern))
    if not hits:
        return set()
    starts = list(itertools.accumulate((len(d) + 1 for d in docs), initial=0))
    return {bisect.bisect_right(starts, at) - 1 for at in hits}


def _all_text(value: Any) -> bool:
    """Every scalar in ``value`` is a string or None (the loader's slot filter leaves it as it is)."""
    if value is None or type(value) is str:
        return True
    if type(value) is dict:
        return all(_all_text(v) for v in value.values())
    if type(value) is list:
        return all(_all_text(v) for v in value)
    return False


def _pruned(typed: Any, raw: Any) -> bool:
    """``typed`` is ``raw`` with keys of objects left out, nothing else changed."""
    if type(typed) is dict:
        return type(raw) is dict and all(k in raw and _pruned(v, raw[k]) for k, v in typed.items())
    if type(typed) is list:
        return type(raw) is list and len(raw) == len(typed) and all(map(_pruned, typed, raw))
    return type(typed) is type(raw) and typed == raw


@contextmanager
def _without_gc() -> Iterator[None]:
    """The cyclic garbage collector off for a while: it would walk every event held (a third of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def simulate_block(plan: Plan, first: int, stop: int, environment: str, pickled: bool = True) -> Block:
    """Senders ``first`` to ``stop - 1`` of a generator run, whole, encoded (in a worker process: ``pickled``)."""
    with _without_gc():
        conversations = (plan.simulate(index) for index in range(first, stop))
        block = Encoder(environment, generated=True).encode(
            ((c.sender_id, 0, c.events) for c in conversations), pickled=pickled
        )
    for index, sender in enumerate(block.senders, start=first):
        sender.index = index
    return block


def encode_trackers(
    environment: str, generated: bool, pickled: bool, trackers: Sequence[tuple[str, int, Sequence[dict[str, Any]]]]
) -> Block:
    """One block of trackers (in a worker process: ``pickled``); ``generated``: see :class:`Encoder`."""
    with _without_gc():
        return Encoder(environment, generated).encode(trackers, pickled=pickled)
