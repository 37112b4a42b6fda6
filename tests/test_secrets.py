"""Secrets: credentials come only from environment variables (or key files they name), files that hold them are
git-ignored, nothing tracked looks like one, and neither the loader nor dbt prints one.

The loader runs for real against a refused port, the test PostgreSQL server (a database and a role that do not exist;
the server trusts every login, so a wrong password is accepted there and a missing role stands in for it), bad input
files, a bad SQLTrackerStore URL, a mistyped option and a malformed URL; in-process (`rasa_tracker_loader.cli.main`)
and as `python -m rasa_tracker_loader` with dlt's most verbose logging, HOME, TMPDIR and the working directory in a
temp folder: the distinctive password is in no output and in no file written there, and the error still says what
is wrong. test_loader.py::test_command_line_errors_and_masked_credentials and
test_loader.py::test_postgres_destination_and_tracker_store check the masked destination of a refused and of a
successful load; this file adds the other ways to fail and the subprocess, the logs and dbt's side.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from conftest import PostgresServer
from dbtkit import run_loader

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Zq7-Canary-pw_4711"
# a password with characters that must be percent-encoded in a URL: masked in both spellings
SPECIAL_PASSWORD = "p@ss:w/rd%" + PASSWORD
ENCODED_SPECIAL = quote(SPECIAL_PASSWORD, safe="")
LEAKS = (PASSWORD, ENCODED_SPECIAL, "p@ss:w/rd")
FAKE_KEY = f"-----BEGIN PRIVATE KEY-----\\n{PASSWORD}KeyMaterial\\n-----END PRIVATE KEY-----\\n"

EVENT = '{"sender_id": "s1", "event": "action", "timestamp": 1700000000.0, "name": "action_listen"}'


# ------------------------------------------------------------------------------------------------ profiles


def load_profiles() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "profiles.yml").read_text())


ENV_VAR = re.compile(
    r"^\{\{\s*env_var\('(?P<name>[A-Z0-9_]+)'(?:,\s*'(?P<default>[^']*)')?\)\s*(\|\s*as_number\s*)?\}\}$"
)
SECRET_KEYS = {"password", "private_key", "private_key_id", "client_secret", "refresh_token", "token", "keyfile"}
# a local emulator needs a token that is not one (tests/test_bigquery_emulator.py); it is no credential
NOT_SECRET = {("rasa_semantic_schema_bigquery_emulator", "token"): "dummy-token"}


def walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, (*path, str(k)))
    else:
        yield path, value


def test_profiles_take_credentials_from_environment_variables() -> None:
    profiles = load_profiles()
    checked = 0
    for profile, spec in profiles.items():
        for target, output in spec["outputs"].items():
            for path, value in walk(output):
                key = path[-1]
                secret = key in SECRET_KEYS or (path[0] == "keyfile_json" and key not in ("type", "token_uri"))
                if not secret:
                    continue
                checked += 1
                if NOT_SECRET.get((profile, key)) == value:
                    assert "127.0.0.1" in output["api_endpoint"], f"{profile}: a dummy token only for a local emulator"
                    continue
                m = ENV_VAR.match(str(value))
                assert m, f"{profile}.{target}.{'.'.join(path)} must come from env_var(...), got {value!r}"
                assert not m.group("default"), f"{profile}.{'.'.join(path)}: a secret has no default but empty"
    assert checked >= 7  # 2 passwords, 3 service-account fields, 1 key file, the emulator token
    # the profiles the contract names, with the variables it names
    text = (ROOT / "profiles.yml").read_text()
    for needle in (
        "password: \"{{ env_var('PG_PASSWORD') }}\"",
        "private_key: \"{{ env_var('BQ_CRED_PRIVATE_KEY') }}\"",
        "keyfile: \"{{ env_var('KEY_FILE_PATH') }}\"",
        "path: \"{{ env_var('DUCKDB_PATH'",
    ):
        assert needle in text, needle


EXAMPLES = {
    "rasa_semantic_schema_postgres": ".postgres.example.env",
    "rasa_semantic_schema_redshift": ".redshift.example.env",
    "rasa_semantic_schema_bigquery": ".bigquery.example.env",
    "rasa_semantic_schema_bigquery_service_file": ".bigquery_file.example.env",
}


def test_example_env_files_document_every_variable_and_hold_no_secret() -> None:
    profiles = load_profiles()
    for profile, example in EXAMPLES.items():
        names = set(re.findall(r"env_var\('([A-Z0-9_]+)'", yaml.safe_dump(profiles[profile])))
        lines = [ln for ln in (ROOT / example).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        values = dict(ln.split("=", 1) for ln in lines)
        assert names <= set(values), f"{example} lacks {names - set(values)}"
        assert "git-ignored" in (ROOT / example).read_text()
        for name, value in values.items():
            if any(word in name for word in ("PASSWORD", "PRIVATE_KEY", "SECRET", "TOKEN")) and "TOKEN_URI" not in name:
                placeholder = value.strip('"').replace("\\n", "\n")
                body = re.sub(r"-----(BEGIN|END) PRIVATE KEY-----", "", placeholder).strip()
                assert body in ("", "..."), f"{example}: {name} must be empty or a placeholder, got {value!r}"


# --------------------------------------------------------------------------------------------------- git


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


SECRET_FILE_NAMES = [
    ".env",
    "integration_tests/.env",
    ".env.local",
    ".env.production",
    ".redshift.env",
    "prod.env",
    "my-project.keyfile.json",
    "keyfile.json",
    "service_account.json",
    "service_account_key.json",  # the name .bigquery_file.example.env shows
    "service-account-prod.json",
    "credentials.json",
    "gcp-key.json",
    "client.pem",
    "client.key",
    "client.p12",
    ".pgpass",
    ".dlt/secrets.toml",
    "integration_tests/.dlt/secrets.toml",
]


@pytest.mark.parametrize("name", SECRET_FILE_NAMES)
def test_secret_files_are_git_ignored(name: str) -> None:
    result = git("check-ignore", "--no-index", "-v", name)
    assert result.returncode == 0, f"{name} is not git-ignored: {result.stdout}{result.stderr}"


def test_example_env_files_are_not_ignored_and_no_ignored_file_is_tracked() -> None:
    for example in EXAMPLES.values():
        assert git("check-ignore", "--no-index", example).returncode == 1, example
        assert example in git("ls-files", example).stdout
    assert git("ls-files", "--cached", "--ignored", "--exclude-standard").stdout == ""


# a credential in a URL, a private key with key material, tokens of well-known services
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.\-]*://[^\s/:@'\"`]+:(?P<pw>[^\s@/'\"`]+)@", re.I)
KEY_MATERIAL = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(\\n|\s)*[A-Za-z0-9+/=]{40,}")
TOKENS = re.compile(
    r"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|xox[abpr]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_\-]{35}|sk-[A-Za-z0-9]{32,}|ya29\.[A-Za-z0-9_\-]{20,}"
)
# in configuration files: a secret-named key with a literal value
ASSIGNMENT = re.compile(
    r"(?i)^\s*[\"']?(?P<k>[a-z0-9_]*(password|passwd|secret|private_key|api_key|token)[a-z0-9_]*)[\"']?\s*[:=]\s*(?P<v>.*)$"
)
CONFIG_SUFFIXES = (".yml", ".yaml", ".env", ".toml", ".json", ".cfg", ".ini")
PLACEHOLDER_PASSWORDS = {"password", "secret", "pw", "***", "PASSWORD"}


def allowed_config_value(value: str) -> bool:
    v = value.strip().strip("'\"").strip()
    return (
        v in ("", "nothing", "offline", "dummy-token", "null", "~")
        or v.startswith(("{{ env_var(", "${{ secrets.", "$"))
        or re.fullmatch(r"(-----(BEGIN|END) PRIVATE KEY-----|\\n|\.\.\.)+", v) is not None
        or "env_var(" in v
    )


def test_no_tracked_file_holds_a_secret() -> None:
    problems = []
    files = [f for f in git("ls-files").stdout.splitlines() if (ROOT / f).is_file()]
    assert len(files) > 50
    for name in files:
        raw = (ROOT / name).read_bytes()
        if b"\0" in raw[:8000]:
            continue  # binary (docs/report.png)
        text = raw.decode("utf-8", errors="replace")
        for m in KEY_MATERIAL.finditer(text):
            problems.append(f"{name}: private key material at {m.start()}")
        for m in TOKENS.finditer(text):
            problems.append(f"{name}: token {m.group(0)[:8]}...")
        # tests use made-up passwords to prove they are masked; anywhere else only a placeholder
        if not name.startswith("tests/"):
            for m in URL_PASSWORD.finditer(text):
                if m.group("pw") not in PLACEHOLDER_PASSWORDS:
                    problems.append(f"{name}: URL with a password: {m.group(0)}")
        if name.endswith(CONFIG_SUFFIXES) or Path(name).name.startswith(".") and name.endswith("env"):
            for line_no, line in enumerate(text.splitlines(), 1):
                a = ASSIGNMENT.match(line)
                if a and not a.group("k").lower().endswith(("_uri", "_url")) and not allowed_config_value(a.group("v")):
                    problems.append(f"{name}:{line_no}: {line.strip()}")
    assert problems == []


# ---------------------------------------------------------------------------------------------- the loader


def url(user: str, password: str, port: int, database: str) -> str:
    return f"postgresql://{user}:{password}@127.0.0.1:{port}/{database}"


def loader_cases(server: PostgresServer, tmp: Path) -> list[tuple[str, list[str], int, str]]:
    """(case, argv, exit code, what the error must say): each run has PASSWORD (or SPECIAL_PASSWORD) in a URL."""
    good, bad = tmp / "good.jsonl", tmp / "bad.jsonl"
    good.write_text(EVENT + "\n")
    bad.write_text(EVENT + "\n{not json\n")
    port = server.port
    database = server.create_database().rsplit("/", 1)[1]  # a new one: the successful case loads into it
    ok_dest = url("postgres", PASSWORD, port, database)
    duck = f"duckdb:{tmp / 'd.duckdb'}"
    return [
        ("refused_port", ["--destination", url("loader", PASSWORD, 1, "analytics"), good], 1, "Connection refused"),
        ("no_database", ["--destination", url("postgres", PASSWORD, port, "no_such_db"), good], 1, "no_such_db"),
        ("no_role", ["--destination", url("intruder", PASSWORD, port, "postgres"), good], 1, 'role "intruder"'),
        (
            "special_characters",
            ["--destination", url("intruder", ENCODED_SPECIAL, port, "postgres"), good],
            1,
            'role "intruder"',
        ),
        ("bad_input_file", ["--destination", ok_dest, bad], 1, f"{bad}:2: invalid JSON"),
        ("tracker_store_url", ["--destination", duck, url("postgres", PASSWORD, port, "no_such_store")], 1, "no_such"),
        ("mistyped_option", ["--destination", duck, good, f"--sorce={ok_dest}"], 2, "unrecognized arguments: --sorce"),
        (
            "bad_port",
            ["--destination", url("postgres", PASSWORD, 0, "x").replace(":0/", ":port/"), good],
            1,
            "valid URL",
        ),
        ("loaded", ["--destination", ok_dest, good], 0, ""),
    ]


def assert_clean(text: str, case: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"{case}: the password is printed: {text}"


def full_argv(argv: list[str]) -> list[str]:
    return [str(a) for a in [*argv[:2], "--schema-prefix", "rasa", *argv[2:]]]


def test_loader_in_process_never_prints_the_password(
    postgres_server: PostgresServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    for case, argv, expected_code, message in loader_cases(postgres_server, tmp_path):
        code, out, err = run_loader(*full_argv(argv))
        captured = capfd.readouterr()  # what dlt or anything else wrote to the process's stdout / stderr
        everything = out + err + captured.out + captured.err
        assert_clean(everything, case)
        assert code == expected_code, (case, everything)
        assert message in everything, (case, everything)
        if code == 1:
            assert "Traceback" not in everything and err.startswith("error: "), (case, err)
        if case == "loaded":
            assert re.search(
                rf"Loaded 1 new events into postgresql://postgres:\*\*\*@127\.0\.0\.1:{postgres_server.port}/t_", out
            )


def test_loader_subprocess_and_its_files_never_hold_the_password(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    home, tmp, work = tmp_path / "home", tmp_path / "tmp", tmp_path / "work"
    for d in (home, tmp, work):
        d.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "RUNTIME__LOG_LEVEL": "DEBUG",  # dlt's most verbose logging, on stderr
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }
    cases = {c[0]: c for c in loader_cases(postgres_server, work)}
    outputs = {}
    for name in ("refused_port", "no_database", "bad_input_file", "mistyped_option", "loaded"):
        case, argv, expected_code, message = cases[name]
        result = subprocess.run(
            [sys.executable, "-m", "rasa_tracker_loader", *full_argv(argv)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        everything = result.stdout + result.stderr
        assert_clean(everything, case)
        assert result.returncode == expected_code and message in everything, (case, everything)
        outputs[case] = everything
    assert "[DEBUG]" in outputs["loaded"] and "postgres:***@" in outputs["loaded"]  # dlt logged, verbosely
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"good.jsonl", "bad.jsonl"}
    for path in written:
        data = path.read_bytes()
        for leak in LEAKS:
            assert leak.encode() not in data, f"the password is in {path}"
    # the loader's working folders are gone: nothing of dlt's is left in TMPDIR or HOME
    assert [p for p in tmp.rglob("*")] == [] and not (home / ".dlt").exists()


# ---------------------------------------------------------------------------------------------------- dbt


@pytest.mark.parametrize(
    ("profile", "env", "secret"),
    [
        (
            "rasa_semantic_schema_postgres",
            {"PG_HOST": "127.0.0.1", "PG_PORT": "1", "PG_USER": "loader", "PG_PASSWORD": PASSWORD},
            PASSWORD,
        ),
        (
            "rasa_semantic_schema_bigquery",
            {
                "PROJECT_ID": "zq7-project",
                "BQ_CRED_CLIENT_EMAIL": "rss@zq7-project.iam.gserviceaccount.com",
                "BQ_CRED_PRIVATE_KEY": FAKE_KEY,
            },
            PASSWORD,
        ),
    ],
    ids=["postgres", "bigquery"],
)
def test_dbt_never_prints_the_profile_secret(profile: str, env: dict[str, str], secret: str, tmp_path: Path) -> None:
    """`dbt debug` with credentials that cannot work: it fails saying it cannot connect, and neither its output nor its
    log file holds the password or key."""
    logs = tmp_path / "logs"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "debug",
            "--profiles-dir",
            str(ROOT),
            "--project-dir",
            str(ROOT),
            "--profile",
            profile,
            "--log-path",
            str(logs),
        ],
        cwd=tmp_path,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    everything = result.stdout + result.stderr
    assert result.returncode == 1 and "unable to connect" in everything, everything
    assert secret not in everything
    log_files = list(logs.rglob("*.log"))
    assert log_files and all(secret not in p.read_text(errors="replace") for p in log_files)
