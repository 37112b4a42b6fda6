"""Write prepared rows to the destination with dlt.

One call of :func:`run_load` is one dlt load: dlt writes the rows, then one ``_loads`` row with ``status = 0``.
Before that, the destination is asked (read only) for the rows it already holds and for the schema the
previous loads stored in ``_version``, so that

* rows already present in a committed load (one with a ``_loads`` row) are skipped, and
* the new load continues the stored schema (same column types and variant columns) instead of re-inferring it.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LoaderError, Secrets

NAMING_MODULE = "rasa_tracker_loader.naming"
# child rows (lists) carry the `_record_hash` of their top-level row as `_root_hash`
_PROPAGATION = {"propagation": {"root": {"_dlt_id": "_dlt_root_id"}}}
_PREFERRED_TYPES = {"re:confidence$": "double", "re:^timestamp$": "timestamp"}


@dataclass(frozen=True)
class Destination:
    kind: str  # "duckdb" or "postgres"
    shown: str  # printable (password masked)
    path: Path | None = None
    url: str | None = None

    def dlt_destination(self) -> Any:
        import dlt

        if self.kind == "duckdb":
            return dlt.destinations.duckdb(str(self.path))
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        credentials = PostgresCredentials()
        credentials.parse_native_representation(self.url)
        if credentials.password is None:
            credentials.password = ""  # type: ignore[assignment] # passwordless (trust, peer, .pgpass)
        # no UNIQUE indexes: rows of a load that failed half-way (no _loads row) are loaded again by the next run
        return dlt.destinations.postgres(credentials=credentials, create_indexes=False)

    @property
    def file_format(self) -> str:
        """Bulk formats: Parquet files for DuckDB, COPY (csv) for PostgreSQL; much faster than INSERTs."""
        return "parquet" if self.kind == "duckdb" else "csv"

    def exists(self) -> bool:
        """False when nothing can have been loaded yet (a DuckDB file that does not exist)."""
        return self.kind != "duckdb" or (self.path is not None and self.path.exists())


def parse_destination(spec: str, secrets: Secrets) -> Destination:
    if spec.startswith("duckdb:"):
        raw = spec[len("duckdb:") :]
        if raw.startswith("///"):
            raw = raw[2:]
        if not raw:
            raise LoaderError("--destination duckdb: needs a file path, for example duckdb:rasa.duckdb")
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            raise LoaderError(f"--destination {spec}: is a folder, not a DuckDB file")
        if not path.parent.is_dir():
            raise LoaderError(f"--destination {spec}: folder {path.parent} does not exist")
        return Destination("duckdb", f"duckdb:{raw}", path=path)
    if spec.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
        secrets.add_url(spec)
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(spec)
        except ArgumentError:
            raise LoaderError(f"--destination {secrets.mask(spec)}: not a valid PostgreSQL URL") from None
        if not url.database:
            raise LoaderError(f"--destination {secrets.mask(spec)}: the URL names no database")
        plain = url.set(drivername="postgresql")
        return Destination(
            "postgres",
            plain.render_as_string(hide_password=True),
            url=plain.render_as_string(hide_password=False),
        )
    raise LoaderError(
        f"--destination {secrets.mask(spec)}: expected duckdb:PATH or postgresql://user:password@host:port/database"
    )


def new_schema(name: str) -> Any:
    import dlt

    schema = dlt.Schema(
        name,
        normalizers={
            "names": NAMING_MODULE,
            "json": {
                "module": "dlt.common.normalizers.json.relational",
                "config": json.loads(json.dumps(_PROPAGATION)),
            },
        },
    )
    schema.update_preferred_types(_PREFERRED_TYPES)  # type: ignore[arg-type]
    return schema


class WorkDir:
    """A private dlt working folder per invocation (never ~/.dlt), removed at the end."""

    def __init__(self) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="rasa_tracker_loader_")
        self.path = Path(self._tmp.name)

    def cleanup(self) -> None:
        self._tmp.cleanup()


def make_pipeline(destination: Destination, dataset_name: str, workdir: WorkDir) -> Any:
    import dlt

    pipeline = dlt.pipeline(
        pipeline_name=f"rasa_tracker_loader_{dataset_name}",
        pipelines_dir=str(workdir.path / "pipelines"),
        destination=destination.dlt_destination(),
        dataset_name=dataset_name,
    )
    # no pipeline state in the destination: the loader keeps none between runs
    pipeline.config.restore_from_destination = False
    return pipeline


@dataclass
class DestinationInfo:
    stored_schema: dict[str, Any] | None
    existing: set[str]


def _connection_error(destination: Destination, secrets: Secrets, ex: BaseException) -> LoaderError:
    detail = str(ex)
    cause = ex.__cause__ or ex.__context__
    if cause is not None and str(cause):
        detail = str(cause)
    lines = [line.strip() for line in secrets.mask(detail).splitlines() if line.strip()]
    return LoaderError(f"{destination.shown}: cannot use the destination: {lines[0] if lines else type(ex).__name__}")


def inspect_destination(
    pipeline: Any,
    destination: Destination,
    secrets: Secrets,
    schema_name: str,
    key_table: str,
    key_column: str,
    filter_column: str,
    filter_values: Iterable[str],
    wanted: set[str],
) -> DestinationInfo:
    """Read the stored schema and those ``wanted`` values of ``key_table.key_column`` that are in committed loads
    (rows with a status-0 ``_loads`` row). Few ``filter_values`` (senders) are looked up with ``IN`` lists, many
    with one scan of the table. Only reads."""
    if not destination.exists():
        return DestinationInfo(None, set())
    values = sorted(set(filter_values))
    try:
        with pipeline.sql_client() as client:
            dataset = pipeline.dataset_name
            with client.execute_query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", dataset
            ) as cur:
                tables = {row[0] for row in cur.fetchall()}
            if "_version" not in tables or "_loads" not in tables:
                if tables:
                    raise LoaderError(
                        f"{destination.shown}: schema {dataset} exists but has no _loads/_version tables:"
                        " it was not written by this loader"
                    )
                return DestinationInfo(None, set())
            q = client.make_qualified_table_name
            stored = None
            with client.execute_query(
                f"SELECT schema FROM {q('_version')} WHERE schema_name = %s ORDER BY inserted_at DESC LIMIT 1",
                schema_name,
            ) as cur:
                row = cur.fetchone()
            if row is not None:
                stored = json.loads(_decode_stored_schema(row[0]))
            existing: set[str] = set()
            if key_table in tables:
                committed = (
                    f"SELECT t.{key_column} FROM {q(key_table)} AS t WHERE EXISTS (SELECT 1 FROM {q('_loads')} AS l"
                    " WHERE l.load_id = t._load_id AND l.status = 0)"
                )
                chunks = [values[i : i + 500] for i in range(0, len(values), 500)] if len(values) <= 5000 else [[]]
                for chunk in chunks:
                    sql = committed
                    if chunk:
                        sql += f" AND t.{filter_column} IN ({', '.join(['%s'] * len(chunk))})"
                    with client.execute_query(sql, *chunk) as cur:
                        while rows := cur.fetchmany(50_000):
                            existing.update(r[0] for r in rows if r[0] in wanted)
            return DestinationInfo(stored, existing)
    except LoaderError:
        raise
    except Exception as ex:  # any driver error: the destination cannot be used
        raise _connection_error(destination, secrets, ex) from None


def _decode_stored_schema(value: str) -> str:
    try:
        return zlib.decompress(base64.b64decode(value, validate=True)).decode("utf-8")
    except (ValueError, zlib.error):
        return value


def schema_for_load(schema_name: str, info: DestinationInfo) -> Any:
    import dlt

    if info.stored_schema is None:
        return new_schema(schema_name)
    try:
        return dlt.Schema.from_dict(info.stored_schema)
    except Exception as ex:
        raise LoaderError(f"the stored schema {schema_name!r} in _version cannot be read: {ex}") from None


def table_resource(name: str, rows: Callable[[], Iterator[dict[str, Any]]], **hints: Any) -> Any:
    """A dlt resource (append) over ``rows``; ``hints`` as for ``dlt.resource`` (``table_name``, ``columns``)."""
    import dlt

    return dlt.resource(rows, name=name, write_disposition="append", **hints)


def run_load(pipeline: Any, destination: Destination, secrets: Secrets, schema: Any, resources: list[Any]) -> str:
    """Run one dlt load of ``resources``; returns the load id."""
    import dlt
    from dlt.pipeline.exceptions import PipelineStepFailed

    source = dlt.source(lambda: resources, schema=schema)()
    try:
        info = pipeline.run(source, loader_file_format=destination.file_format)
    except PipelineStepFailed as ex:
        inner = ex.__cause__ or ex.exception
        if isinstance(inner, LoaderError):
            raise inner from None
        if ex.step in ("extract", "normalize"):
            raise LoaderError(f"cannot prepare the load: {secrets.mask(_first_line(inner))}") from None
        raise LoaderError(
            f"{destination.shown}: load failed in step {ex.step!r}: {secrets.mask(_first_line(inner))}"
        ) from None
    if info.has_failed_jobs:
        raise LoaderError(f"{destination.shown}: some rows could not be loaded: {secrets.mask(_failed_jobs(info))}")
    return str(info.loads_ids[0]) if info.loads_ids else ""


def _failed_jobs(info: Any) -> str:
    try:
        info.raise_on_failed_jobs()
    except Exception as ex:
        return _first_line(ex)
    return "failed jobs"


def _first_line(ex: BaseException | None) -> str:
    lines = [line.strip() for line in str(ex).splitlines() if line.strip()]
    return lines[0] if lines else type(ex).__name__
