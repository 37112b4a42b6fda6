"""Read tracker events from the supported inputs.

Every reader yields :class:`RawEvent` objects in the input's order with the event's position in its tracker:
the line number (1-based) in a JSONL file, the index (0-based) in a tracker document's ``events`` list, or the
``id`` of the row in a ``SQLTrackerStore`` ``events`` table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LoaderError, Secrets
from .events import RawEvent

JSONL_SUFFIXES = (".jsonl", ".ndjson")
JSON_SUFFIXES = (".json",)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def looks_like_url(value: str) -> bool:
    return "://" in value


@dataclass(frozen=True)
class Input:
    """One INPUT argument: a file, a folder or a database URL."""

    spec: str
    secrets: Secrets

    def files(self) -> list[Path]:
        path = Path(self.spec)
        if path.is_dir():
            found = sorted(
                (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in JSONL_SUFFIXES + JSON_SUFFIXES),
                key=lambda p: p.relative_to(path).as_posix(),
            )
            if not found:
                raise LoaderError(f"{self.spec}: folder contains no *.json or *.jsonl files")
            return found
        if path.exists() and not path.is_file():
            raise LoaderError(f"{self.spec}: not a regular file or folder")
        if not path.exists():
            raise LoaderError(f"{self.spec}: no such file or folder")
        return [path]

    def size(self) -> int:
        """Bytes to read (for the progress bar); 0 when unknown."""
        if looks_like_url(self.spec):
            return 0
        try:
            return sum(os.path.getsize(p) for p in self.files())
        except (OSError, LoaderError):
            return 0

    def read(self) -> Iterator[tuple[RawEvent, int]]:
        """Yield (event, bytes consumed since the previous event)."""
        if looks_like_url(self.spec):
            for raw in read_sql_tracker_store(self.spec, self.secrets):
                yield raw, 0
            return
        for path in self.files():
            yield from read_file(path)


def read_file(path: Path) -> Iterator[tuple[RawEvent, int]]:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl(path)
    elif suffix in JSON_SUFFIXES:
        yield from read_tracker_json(path)
    else:
        # an explicitly named file with another suffix: a JSON document starts with '[' or is one object
        head = _read_head(path)
        if head.startswith("["):
            yield from read_tracker_json(path)
        else:
            first_line = head.split("\n", 1)[0]
            try:
                first = _loads(first_line)
            except ValueError:
                first = None
            if isinstance(first, dict) and "event" in first:
                yield from read_jsonl(path)
            else:
                yield from read_tracker_json(path)


def _read_head(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read(1 << 16)
    except OSError as ex:
        raise LoaderError(f"{path}: cannot read file: {ex.strerror or ex}") from None
    return data.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def read_jsonl(path: Path) -> Iterator[tuple[RawEvent, int]]:
    """One JSON event per line, each with its ``sender_id``; blank lines are skipped."""
    try:
        fh = path.open("rb")
    except OSError as ex:
        raise LoaderError(f"{path}: cannot read file: {ex.strerror or ex}") from None
    with fh:
        line_no = 0
        try:
            for line_no, line in enumerate(fh, start=1):
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:
                    raise LoaderError(f"{path}:{line_no}: line is not UTF-8 text") from None
                if line_no == 1:
                    text = text.lstrip("\ufeff")
                if not text.strip():
                    continue
                try:
                    event = _loads(text)
                except ValueError as ex:
                    truncated = "" if line.endswith(b"\n") else " (the file looks truncated)"
                    raise LoaderError(f"{path}:{line_no}: invalid JSON{truncated}: {_json_problem(ex)}") from None
                sender_id = event.get("sender_id") if isinstance(event, dict) else None
                yield RawEvent(event, sender_id, line_no, f"{path}:{line_no}"), len(line)
        except OSError as ex:
            raise LoaderError(f"{path}:{line_no + 1}: cannot read file: {ex.strerror or ex}") from None


def _json_problem(ex: ValueError) -> str:
    if isinstance(ex, json.JSONDecodeError):
        return f"{ex.msg} at column {ex.colno}"
    return str(ex)


def read_tracker_json(path: Path) -> Iterator[tuple[RawEvent, int]]:
    """A tracker document ``{"sender_id": ..., "events": [...]}`` or a JSON array of them."""
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise LoaderError(f"{path}: cannot read file: {ex.strerror or ex}") from None
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as ex:
        line = data[: ex.start].count(b"\n") + 1
        raise LoaderError(f"{path}:{line}: file is not UTF-8 text") from None
    try:
        doc = _loads(text)
    except json.JSONDecodeError as ex:
        truncated = " (the file looks truncated)" if ex.pos >= len(text.rstrip()) else ""
        raise LoaderError(f"{path}:{ex.lineno}: invalid JSON{truncated}: {ex.msg} at column {ex.colno}") from None
    except ValueError as ex:
        raise LoaderError(f"{path}: invalid JSON: {ex}") from None

    if isinstance(doc, dict):
        trackers, many = [doc], False
    elif isinstance(doc, list):
        trackers, many = doc, True
    else:
        raise LoaderError(f"{path}: expected a tracker document or an array of them, got {type(doc).__name__}")
    size = len(data)
    for t_idx, tracker in enumerate(trackers, start=1):
        where = f"{path}: tracker {t_idx}" if many else f"{path}"
        if not isinstance(tracker, dict) or not isinstance(tracker.get("events"), list):
            raise LoaderError(
                f'{where}: expected a tracker document {{"sender_id": ..., "events": [...]}}'
                " (as Rasa's HTTP API returns it)"
            )
        sender_id = tracker.get("sender_id")
        if sender_id is None:
            raise LoaderError(f"{where}: tracker document has no 'sender_id'")
        for e_idx, event in enumerate(tracker["events"]):
            yield RawEvent(event, sender_id, e_idx, f"{where}: events[{e_idx}]"), size
            size = 0


def read_sql_tracker_store(url: str, secrets: Secrets) -> Iterator[RawEvent]:
    """The ``events`` table of a Rasa ``SQLTrackerStore`` database, in ``id`` order."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    secrets.add_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise LoaderError(f"{secrets.mask(url)}: not a valid database URL") from None
    shown = parsed.render_as_string(hide_password=True)
    connect_url: Any = parsed
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise LoaderError(f"{shown}: SQLite URL has no database file")
        if not Path(database).is_file():
            raise LoaderError(f"{shown}: no such database file {database!r}")
        # read-only, so that a mistyped path or a read never changes the file
        connect_url = f"sqlite:///file:{Path(database).resolve().as_posix()}?mode=ro&uri=true"
    try:
        engine = create_engine(connect_url)
    except (NoSuchModuleError, ImportError) as ex:
        raise LoaderError(f"{shown}: database driver is not installed ({secrets.mask(str(ex))})") from None
    except (ArgumentError, SQLAlchemyError) as ex:
        raise LoaderError(f"{shown}: cannot use this database URL: {secrets.mask(str(ex))}") from None
    try:
        try:
            conn = engine.connect()
        except SQLAlchemyError as ex:
            detail = secrets.mask(str(getattr(ex, "orig", ex))).strip().splitlines()
            raise LoaderError(f"{shown}: cannot connect: {detail[0] if detail else type(ex).__name__}") from None
        with conn:
            try:
                columns = {c["name"] for c in inspect(conn).get_columns("events")}
            except SQLAlchemyError:
                columns = set()
            if not columns:
                raise LoaderError(f"{shown}: no 'events' table (is this a Rasa SQLTrackerStore database?)")
            missing = {"id", "sender_id", "data"} - columns
            if missing:
                raise LoaderError(
                    f"{shown}: table 'events' lacks the column(s) {', '.join(sorted(missing))}"
                    " of a Rasa SQLTrackerStore"
                )
            where = f"{shown} events"
            try:
                result = conn.execution_options(yield_per=5000).execute(
                    text("SELECT id, sender_id, data FROM events ORDER BY id")
                )
                for row_id, sender_id, data in result:
                    where = f"{shown} events.id={row_id}"
                    yield RawEvent(_sql_event(data, sender_id, where), sender_id, int(row_id), where)
            except SQLAlchemyError as ex:
                detail = secrets.mask(str(getattr(ex, "orig", ex))).strip().splitlines()
                raise LoaderError(f"{where}: cannot read table 'events': {detail[0] if detail else ex}") from None
    finally:
        engine.dispose()


def _sql_event(data: Any, sender_id: Any, where: str) -> Any:
    """The event JSON of an ``events.data`` value."""
    if data is None:
        raise LoaderError(f"{where}: column 'data' is NULL")
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise LoaderError(f"{where}: column 'data' is not UTF-8 text") from None
    try:
        event = _loads(data) if isinstance(data, str) else data
    except ValueError as ex:
        raise LoaderError(f"{where}: column 'data' is not valid JSON: {_json_problem(ex)}") from None
    if isinstance(event, dict) and event.get("sender_id") not in (None, sender_id):
        raise LoaderError(
            f"{where}: 'sender_id' in data ({event.get('sender_id')!r}) differs from the column ({sender_id!r})"
        )
    return event
