"""Command line: ``python -m rasa_tracker_loader``."""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .errors import LoaderError, Secrets, mask_url_passwords
from .events import COMMON_COLUMNS, prepare, typed_table_columns, typed_table_name
from .readers import Input

PREFIX_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")

DESCRIPTION = """\
Load Rasa conversations (tracker store events) and the bot model into the source schemas that the
rasa_semantic_schema dbt package reads:

  {prefix}_event   one table per event type (event_user, event_bot, event_action, event_slot, ...), the
                   table `event` with every event, and the bookkeeping tables _loads and _version
  {prefix}_model   the bot model: `model`, domain_* tables, story and rule (with their steps)

Every run is one load per schema it writes: its rows and then one `_loads` row (status 0) that the dbt
package picks up.
Events that are already in the destination (same sender and same event content) are skipped, as are
duplicates within the input; when nothing is new, nothing is written (no empty load).
Input is checked completely before anything is written: on a bad input the command stops with an error
that names the file and line, and the destination stays as it was. Values that no destination can store
as they are (NUL characters and invalid Unicode in text, integers beyond 64 bits) are stored as U+FFFD and
as decimal text; the event's record hash is that of the event as it was read.
"""

EPILOG = """\
INPUT can be:
  events.jsonl          one JSON event per line, each with "sender_id" (a tracker store export)
  tracker.json          a tracker as Rasa's HTTP API returns it: {"sender_id": ..., "events": [...]},
                        or a JSON array of such trackers
  FOLDER                every *.json / *.jsonl file below it (recursively, in sorted order)
  DATABASE_URL          a Rasa SQLTrackerStore database (its `events` table), as an SQLAlchemy URL:
                        sqlite:///path/to/rasa.db or postgresql://user:password@host:5432/rasa

--model loads the bot model from a Rasa project folder (domain.yml or domain/, config.yml, and the
stories and rules in data/) or from a trained model archive (models/*.tar.gz). Events name their model in
metadata.model_id (Rasa 3.x): a Rasa 3.x archive has this id, a project folder is given it with --model-id.

examples:
  python -m rasa_tracker_loader --destination duckdb:rasa.duckdb --schema-prefix rasa tracker_export.jsonl
  python -m rasa_tracker_loader --destination postgresql://loader:secret@db:5432/analytics \\
      --schema-prefix rasa --environment staging sqlite:///rasa.db
  python -m rasa_tracker_loader --destination duckdb:rasa.duckdb --schema-prefix rasa \\
      --model models/20240101-120000-brave-owl.tar.gz
  python -m rasa_tracker_loader --destination duckdb:rasa.duckdb --schema-prefix rasa \\
      --model ./my_bot --model-id 2024-01-release

exit status: 0 loaded (or nothing new), 1 error (the failing load wrote nothing), 2 wrong command line.
Passwords in URLs are never printed.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="python -m rasa_tracker_loader",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs",
        metavar="INPUT",
        nargs="*",
        help="tracker events to load: JSONL file, tracker JSON file, folder, or SQLTrackerStore URL (see below)",
    )
    parser.add_argument(
        "--destination",
        required=True,
        metavar="DEST",
        help="where to load: duckdb:PATH (a DuckDB file, created if missing) or "
        "postgresql://user:password@host:port/database",
    )
    parser.add_argument(
        "--schema-prefix",
        required=True,
        metavar="PREFIX",
        help="prefix of the schemas written: PREFIX_event and PREFIX_model (the dbt var source_schema_prefix); "
        "lower-case letters, digits and _",
    )
    parser.add_argument(
        "--environment",
        default="production",
        metavar="NAME",
        help="deployment environment stored with every event (column `environment`), default: production",
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="also load a bot model: a Rasa project folder or a model archive (.tar.gz)",
    )
    parser.add_argument(
        "--model-id",
        metavar="ID",
        help="model id to store (default: model_id from a Rasa 3.x archive, else the archive or folder name); "
        "use the id your events carry in metadata.model_id",
    )
    parser.add_argument(
        "--model-name", metavar="NAME", help="readable model name (default: the archive or folder name)"
    )
    parser.add_argument(
        "--allow-unknown-event-types",
        action="store_true",
        help="load events whose type this loader does not know (e.g. from a newer Rasa) into event_<type> "
        "instead of stopping with an error",
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="show progress bars on stderr"
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress bars")
    return parser


class _ArgumentParser(argparse.ArgumentParser):
    """argparse repeats a wrong argument in its error (`unrecognized arguments: --sorce=postgresql://u:pw@h/db`):
    the password of a URL in it is masked as everywhere else."""

    def error(self, message: str) -> NoReturn:
        super().error(mask_url_passwords(message))


class _MaskFilter(logging.Filter):
    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.secrets.mask(record.getMessage())
        record.args = None
        return True


def _say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.inputs and not args.model:
        parser.error("give at least one INPUT or --model")

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # dlt's warnings (e.g. "column received no data") are not actionable for loader users
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    secrets = Secrets()
    for value in [args.destination, *args.inputs]:
        secrets.add_url(value)
    mask_filter = _MaskFilter(secrets)
    logging.getLogger("dlt").addFilter(mask_filter)
    show_progress = args.progress if args.progress is not None else err.isatty()
    try:
        return _run(args, secrets, out, err, show_progress)
    except LoaderError as ex:
        _say(err, f"error: {secrets.mask(str(ex))}")
        return 1
    except KeyboardInterrupt:
        _say(err, "interrupted")
        return 130
    except Exception as ex:  # a bug: show where, but never a password
        import traceback

        _say(err, secrets.mask("".join(traceback.format_exception(ex))).rstrip())
        _say(err, f"error: unexpected {type(ex).__name__}: {secrets.mask(str(ex))}")
        return 1
    finally:
        logging.getLogger("dlt").removeFilter(mask_filter)


def _run(args: argparse.Namespace, secrets: Secrets, out: TextIO, err: TextIO, show_progress: bool) -> int:
    from . import load
    from .model import MODEL_COLUMNS, model_rows, read_model

    prefix = args.schema_prefix
    if not PREFIX_PATTERN.match(prefix):
        raise LoaderError(
            f"--schema-prefix {prefix!r}: use lower-case letters, digits and _ (at most 41 characters), e.g. rasa"
        )
    environment = args.environment.strip()
    if not environment:
        raise LoaderError("--environment must not be empty")
    try:
        destination = load.parse_destination(args.destination, secrets)
    except ValueError as ex:  # sqlalchemy's make_url, e.g. a port that is not a number
        raise LoaderError(
            f"--destination {secrets.mask(args.destination)}: not a valid URL ({secrets.mask(str(ex))})"
        ) from None
    inputs = [Input(spec, secrets) for spec in args.inputs]

    # 1. read and check everything before touching the destination
    bot_model = read_model(args.model, args.model_id, args.model_name) if args.model else None
    workdir = load.WorkDir()
    try:
        spool_path = workdir.path / "events.pickle"
        stats = _spool_events(inputs, environment, args.allow_unknown_event_types, spool_path, show_progress, err)

        # 2. events
        if inputs:
            dataset = f"{prefix}_event"
            pipeline = load.make_pipeline(destination, dataset, workdir)
            info = load.inspect_destination(
                pipeline,
                destination,
                secrets,
                dataset,
                "event",
                "_record_hash",
                "sender_id",
                stats.senders,
                stats.hashes,
            )
            new_count = len(stats.hashes - info.existing)
            skipped = len(stats.hashes) - new_count
            if stats.read == 0:
                _say(out, "No events in the input (empty files or trackers); no load was written.")
            elif new_count == 0:
                _say(
                    out,
                    f"Nothing new to load: all {len(stats.hashes)} events are already in {destination.shown}"
                    f" schema {dataset}; no load was written.",
                )
            else:
                schema = load.schema_for_load(dataset, info)
                existing = info.existing
                resources = [
                    load.table_resource(
                        "event",
                        lambda: _common_batches(_spooled_rows(spool_path, existing, 2), new_count, show_progress, err),
                        table_name="event",
                        columns=COMMON_COLUMNS,
                    ),
                    load.table_resource("event_types", lambda: _typed_batches(spool_path, existing)),
                ]
                load_id = load.run_load(pipeline, destination, secrets, schema, resources)
                _say(
                    out,
                    f"Loaded {new_count} new events into {destination.shown} schema {dataset}"
                    f" (load id {load_id}); read {stats.read}, {stats.duplicates} duplicates in the input,"
                    f" {skipped} already loaded.",
                )

        # 3. model
        if bot_model is not None:
            dataset = f"{prefix}_model"
            pipeline = load.make_pipeline(destination, dataset, workdir)
            info = load.inspect_destination(
                pipeline,
                destination,
                secrets,
                dataset,
                "model",
                "model_id",
                "model_id",
                [bot_model.model_id],
                {bot_model.model_id},
            )
            if bot_model.model_id in info.existing:
                _say(
                    out,
                    f"Model {bot_model.model_id!r} is already in {destination.shown} schema {dataset};"
                    " no load was written.",
                )
            else:
                schema = load.schema_for_load(dataset, info)
                rows = list(model_rows(bot_model))
                resources = [
                    load.table_resource(
                        "model", [r for t, r in rows if t == "model"], table_name="model", columns=MODEL_COLUMNS
                    ),
                    load.table_resource("model_parts", list(_grouped([(t, r) for t, r in rows if t != "model"]))),
                ]
                load_id = load.run_load(pipeline, destination, secrets, schema, resources)
                _say(
                    out,
                    f"Loaded model {bot_model.model_id!r} ({bot_model.name}) into {destination.shown}"
                    f" schema {dataset} (load id {load_id}).",
                )
    finally:
        workdir.cleanup()
    return 0


class _Stats:
    def __init__(self) -> None:
        self.read = 0
        self.duplicates = 0
        self.hashes: set[str] = set()
        self.senders: set[str] = set()


def _spool_events(
    inputs: list[Input],
    environment: str,
    allow_unknown: bool,
    spool_path: Path,
    show_progress: bool,
    err: TextIO,
) -> _Stats:
    """Read, check and prepare every event; write the new ones (first occurrence wins) to a spool file."""
    from tqdm import tqdm

    stats = _Stats()
    with (
        spool_path.open("wb") as spool,
        tqdm(desc="reading events", unit=" events", file=err, disable=not show_progress, mininterval=0.5) as bar,
    ):
        for inp in inputs:
            for raw, _ in inp.read():
                prepared = prepare(raw, environment, allow_unknown)
                stats.read += 1
                bar.update(1)
                if prepared.record_hash in stats.hashes:
                    stats.duplicates += 1
                    continue
                stats.hashes.add(prepared.record_hash)
                stats.senders.add(prepared.sender_id)
                pickle.dump(
                    (prepared.record_hash, prepared.table, prepared.common_row, prepared.typed_row),
                    spool,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
    return stats


def _common_batches(
    rows: Iterator[dict[str, Any]], total: int, show: bool, err: TextIO, batch_size: int = 2000
) -> Iterator[list[dict[str, Any]]]:
    """The rows of table ``event`` in batches, with the extraction progress bar."""
    from tqdm import tqdm

    batch: list[dict[str, Any]] = []
    with tqdm(desc="extracting", total=total, unit=" events", file=err, disable=not show, mininterval=0.5) as bar:
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                bar.update(len(batch))
                yield batch
                batch = []
        if batch:
            bar.update(len(batch))
            yield batch
    if show:
        _say(err, "normalizing and loading (dlt) ...")


def _spooled_rows(spool_path: Path, skip: set[str], field: int) -> Iterator[dict[str, Any]]:
    """The common (``field=2``) or typed (``field=3``) rows of the spooled events not in ``skip``."""
    with spool_path.open("rb") as spool:
        while True:
            try:
                record = pickle.load(spool)
            except EOFError:
                return
            if record[0] not in skip:
                yield record[field]


def _typed_batches(spool_path: Path, skip: set[str], batch_size: int = 2000) -> Iterator[Any]:
    """The typed rows in batches per ``event_<type>`` table; the first batch of a table declares its columns."""
    import dlt

    declared: set[str] = set()
    batches: dict[str, list[dict[str, Any]]] = {}

    def flush(table: str) -> Any:
        rows = batches.pop(table)
        if table in declared:
            return dlt.mark.with_table_name(rows, table)
        declared.add(table)
        hints = dlt.mark.make_hints(table_name=table, columns=typed_table_columns(rows[0]))
        return dlt.mark.with_hints(rows, hints, create_table_variant=True)

    for row in _spooled_rows(spool_path, skip, 3):
        table = typed_table_name(row)
        batch = batches.setdefault(table, [])
        batch.append(row)
        if len(batch) >= batch_size:
            yield flush(table)
    for table in list(batches):
        yield flush(table)


def _grouped(rows: list[tuple[str, dict[str, Any]]]) -> Iterator[Any]:
    """Rows of several tables as one batch per table."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, row in rows:
        tables.setdefault(table, []).append(row)
    for table, table_rows in tables.items():
        yield dlt_mark_table(table_rows, table)


def dlt_mark_table(rows: Any, table: str) -> Any:
    import dlt

    return dlt.mark.with_table_name(rows, table)
