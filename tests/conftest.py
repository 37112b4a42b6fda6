"""Shared pytest fixtures: a throwaway PostgreSQL server and DuckDB paths.

The PostgreSQL server is Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``; CI installs it
with apt). It is started once per test session on a free localhost port with trust authentication, in a temp
folder, and stopped at the end. ``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
OS user (``runuser -u postgres --``). Tests that need it fail when no server binaries are installed. The server's
time zone is not UTC (Asia/Kolkata, +05:30), so that a timestamp conversion that depends on the session's time zone
shows up as wrong values.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

REPO_ROOT = Path(__file__).resolve().parent.parent
CARBONBOT_DIR = REPO_ROOT.parent / "shared" / "data" / "carbonbot"


def _postgres_bindir() -> Path | None:
    explicit = os.environ.get("PG_BINDIR")
    candidates = [explicit] if explicit else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy-style URL (also what ``--destination`` takes)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def env(self, database: str = "postgres") -> dict[str, str]:
        """The environment variables the ``rasa_semantic_schema_postgres`` dbt profile reads."""
        return {
            "PG_HOST": self.host,
            "PG_PORT": str(self.port),
            "PG_USER": self.user,
            "PG_PASSWORD": "",
            "PG_DATABASE_NAME": database,
        }

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh, empty database and return its URL."""
        import psycopg2

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session (trust auth, user ``postgres``, 127.0.0.1)."""
    bindir = _postgres_bindir()
    if bindir is None:
        # a missing server is a failure, not a skip: the PostgreSQL suite is part of `make test`
        pytest.fail("PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does)")

    as_root = os.geteuid() == 0
    run_as: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="rtl_pg_"))
    data_dir, socket_dir = base / "data", base / "sock"
    socket_dir.mkdir()
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(socket_dir, "postgres")
    port = _free_port()
    log_file = base / "server.log"

    def run(*cmd: str) -> None:
        subprocess.run([*run_as, *cmd], check=True, capture_output=True, text=True)

    try:
        run(str(bindir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-l",
            str(log_file),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c TimeZone=Asia/Kolkata",
            "start",
        )
    except subprocess.CalledProcessError as ex:
        log = log_file.read_text() if log_file.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"cannot start PostgreSQL: {ex.stderr}\n{log}")
    try:
        yield PostgresServer("127.0.0.1", port, "postgres")
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of the server's ``postgres`` database."""
    return postgres_server.url()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """URL of a fresh, empty database for one test."""
    return postgres_server.create_database()


@pytest.fixture
def new_postgres_database(postgres_server: PostgresServer) -> Callable[[], str]:
    """Factory: call it to create another fresh database; returns its URL."""
    return postgres_server.create_database


def _warehouse_kinds() -> list[str]:
    from dbtkit import WAREHOUSE_KINDS

    return list(WAREHOUSE_KINDS)


@pytest.fixture(scope="module", params=_warehouse_kinds())
def warehouses(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Factory of warehouses of one kind (dbtkit.Warehouses: `new(name)`, `copy(warehouse, name)`), parametrized
    over dbtkit.WAREHOUSE_KINDS (duckdb, postgres), so that every test using it runs on each kind; module scope,
    so that a module's built warehouses are shared by its tests of one kind (pytest groups the tests by kind)."""
    from dbtkit import Warehouses

    kind = request.param
    pg_env = None
    if kind == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        pg_env = server.env()
    factory = Warehouses(kind, tmp_path_factory.mktemp(f"wh_{kind}"), pg_env)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Path:
    """Path of a DuckDB file (not created yet) in the test's temp folder."""
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(scope="session")
def carbonbot_dir() -> Path:
    """The real Rasa tracker logs (read-only, never copied into the repository)."""
    if not CARBONBOT_DIR.is_dir():
        pytest.fail(f"sample data not found at {CARBONBOT_DIR}: the tests read ../shared/data/carbonbot")
    return CARBONBOT_DIR
