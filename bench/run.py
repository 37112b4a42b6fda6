"""``python -m bench``: time the package on DuckDB at one or more sizes and write ``bench/results.md``.

Per size (``--sizes``): the source data is generated once and cached (bench/source.py); then, ``--repeat`` times,
on a fresh copy of it:

1. ``dbt seed`` (not part of any ratio),
2. ``dbt run --full-refresh``,
3. ``dbt run`` with no new load: dbt's fixed cost (start-up, parsing, introspection, every model on no data),
4. the floor: one hand-written statement over the same source events that numbers every event's session and
   interaction (bench/floor.sql), timed in this process,
5. a load of 1 % more events (half continuing base senders' conversations, half new senders), ``dbt run``,
6. the same from the state after step 3 with 10 % more events.

Every dbt command runs in a process of its own, whose wall time and peak resident memory (``ru_maxrss`` from
``wait4``) are recorded. Figures are medians over the repetitions. The loader's own throughput is measured once
(``--loader-events``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb

from bench.explain import Snapshots
from bench.source import DELTA_FRACTIONS, BenchError, apply_delta, build_dataset, delta_name, fingerprint

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PROFILE = "rasa_semantic_schema_duckdb"
DBT_VARS = "{user_id: metadata__user_id}"
PREFIX = "rasa"
FLOOR_SQL = BENCH / "floor.sql"

#: the rows of the results table, in order (tests/test_bench_smoke.py checks that each is there)
REPORT_ROWS = (
    "events in the base load",
    "senders in the base load",
    "full refresh (s)",
    "no-op run (s)",
    "floor (s)",
    "incremental +1% (s)",
    "incremental +10% (s)",
    "(full refresh - no-op) / floor",
    "(incremental +1% - no-op) / (full refresh - no-op)",
    "(incremental +10% - no-op) / (full refresh - no-op)",
    "full refresh - no-op: events/s",
    "peak RSS full refresh (MB)",
    "peak RSS no-op (MB)",
    "peak RSS incremental +1% (MB)",
    "peak RSS incremental +10% (MB)",
    "dbt seed (s)",
    "source data generated and written (events/s)",
)


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    models: dict[str, float] = field(default_factory=dict)  # model name -> dbt's execution time (s)


@dataclass
class SizeResult:
    events: int
    senders: int
    writer_events_per_second: float
    deltas: dict[str, dict[str, Any]]
    runs: dict[str, list[Measure]] = field(default_factory=dict)

    def add(self, name: str, measure: Measure) -> None:
        self.runs.setdefault(name, []).append(measure)

    def median(self, name: str) -> float:
        return statistics.median(m.seconds for m in self.runs[name])

    def peak(self, name: str) -> float:
        return max(m.peak_mb for m in self.runs[name])

    def ratio_full_over_floor(self) -> float:
        return _ratio(self.median("full") - self.median("noop"), self.median("floor"))

    def ratio_incremental(self, key: str) -> float:
        return _ratio(self.median(key) - self.median("noop"), self.median("full") - self.median("noop"))


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _log(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------- dbt in a child process


class Dbt:
    """Runs dbt commands, each in a process of its own (``in_process``: in this process, the project parsed once;
    quicker, for the smoke test, but the peak RSS is then this process's)."""

    def __init__(
        self, warehouse: Path, target: Path, log_file: Path, select: Sequence[str], in_process: bool = False
    ) -> None:
        self.warehouse = warehouse
        self.target = target
        self.log_file = log_file
        self.select = list(select)
        self.in_process = in_process
        self._manifest: Any = None

    def __call__(self, *args: str) -> Measure:
        common = [
            "--project-dir", str(ROOT), "--profiles-dir", str(ROOT), "--profile", PROFILE,
            "--target-path", str(self.target), "--log-path", str(self.target / "logs"),
            "--vars", DBT_VARS,
        ]  # fmt: skip
        cmd = [*args, *common, *(self.select if args[0] == "run" else [])]
        results = self.target / "run_results.json"
        results.unlink(missing_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n$ dbt {' '.join(args)}\n".encode())
            log.flush()
            began = time.perf_counter()
            if self.in_process:
                ok, peak_kib = self._invoke(cmd, common), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            else:
                ok, peak_kib = self._spawn(cmd, log)
            seconds = time.perf_counter() - began
        if not ok:
            raise BenchError(f"dbt {' '.join(args)} failed; see {self.log_file} and {self.target / 'logs'}")
        models: dict[str, float] = {}
        if results.exists():
            for r in json.loads(results.read_text()).get("results", []):
                models[r["unique_id"].split(".")[-1]] = float(r.get("execution_time") or 0.0)
        return Measure(seconds, peak_kib / 1024, models)  # ru_maxrss is in KiB on Linux

    def _spawn(self, cmd: list[str], log: IO[bytes]) -> tuple[bool, int]:
        env = {
            **os.environ,
            "DUCKDB_PATH": str(self.warehouse),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.dbt_child", *cmd], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        return os.waitstatus_to_exitcode(status) == 0, usage.ru_maxrss

    def _invoke(self, cmd: list[str], common: list[str]) -> bool:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        from dbt.adapters.factory import cleanup_connections
        from dbt.cli.main import dbtRunner

        os.environ["DUCKDB_PATH"] = str(self.warehouse)
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        if self._manifest is None:
            parsed = dbtRunner().invoke(["parse", *common])
            self._manifest = parsed.result if parsed.success else None
        try:
            return bool(dbtRunner(manifest=self._manifest).invoke(cmd).success)
        finally:
            # dbt-duckdb keeps the database open across commands in a process: close it (the bench copies the file)
            cleanup_connections()
            env = DuckDBConnectionManager._ENV
            if env is not None:
                env.close()
                DuckDBConnectionManager._ENV = None


# ---------------------------------------------------------------------- the floor


def floor_sql(prefix: str = PREFIX) -> str:
    return FLOOR_SQL.read_text().replace("{event_schema}", f'"{prefix}_event"')


def run_floor(warehouse: Path, prefix: str = PREFIX) -> tuple[float, int]:
    """Time the floor statement (a table of every event with its session and interaction number); returns the
    seconds and its row count. The table is dropped afterwards."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists bench_floor")
        sql = "create or replace table bench_floor.events as\n" + floor_sql(prefix)
        began = time.perf_counter()
        con.execute(sql)
        seconds = time.perf_counter() - began
        row = con.execute("select count(*) from bench_floor.events").fetchone()
        con.execute("drop schema bench_floor cascade")
    finally:
        con.close()
    return seconds, int(row[0]) if row else 0


# ---------------------------------------------------------------------- one size


def _copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", ".wal"):
        target = dst.with_name(dst.name + suffix)
        target.unlink(missing_ok=True)
        source = src.with_name(src.name + suffix)
        if source.exists():
            shutil.copyfile(source, target)


def _check_built(warehouse: Path, expected_events: int, prefix: str = PREFIX) -> None:
    """The run processed every committed load and every event is in event_sequence."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(f'select count(*) from "{prefix}_views".event_sequence').fetchone()
        pending = con.execute(
            f'select count(*) from "{prefix}_event"._loads l where l.status = 0 and not exists '
            f'(select 1 from "{prefix}_event"._loads p where p.load_id = l.load_id and p.status >= 1)'
        ).fetchone()
    finally:
        con.close()
    if not row or row[0] != expected_events:
        raise BenchError(f"event_sequence holds {row[0] if row else None} events, expected {expected_events}")
    if not pending or pending[0] != 0:
        raise BenchError(f"{pending[0] if pending else '?'} loads were not marked as processed")


def bench_size(
    n_events: int,
    repeat: int,
    seed: int,
    data_dir: Path,
    select: Sequence[str],
    workers: int | None,
    snapshots: Snapshots | None = None,
    dbt_in_process: bool = False,
) -> SizeResult:
    cache = data_dir / "cache" / f"{n_events}_s{seed}_{fingerprint(n_events, seed, DELTA_FRACTIONS, PREFIX)}"
    _log(f"== {n_events} events: source data in {cache}")
    meta = build_dataset(cache, n_events, seed, prefix=PREFIX, workers=workers, log=_log)
    base = meta["base"]
    # the whole data set (base, deltas, bot model) per second of making it; older caches: the base load's
    rate = meta.get("events_per_second") or base["events"] / max(base["seconds"], 1e-9)
    result = SizeResult(base["events"], base["senders"], rate, meta["deltas"])
    work = data_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    warehouse, built = work / "warehouse.duckdb", work / "built.duckdb"
    dbt = Dbt(warehouse, data_dir / "target", data_dir / "dbt.log", select, dbt_in_process)
    for rep in range(repeat):
        _copy_db(cache / "base.duckdb", warehouse)
        result.add("seed", dbt("seed"))
        result.add("full", m := dbt("run", "--full-refresh"))
        _log(f"  [{rep + 1}/{repeat}] full refresh {m.seconds:.1f} s, {m.peak_mb:.0f} MB")
        _check_built(warehouse, base["events"])
        if snapshots is not None and rep == 0:
            snapshots.after_full_refresh(warehouse, dbt.target)
        result.add("noop", m := dbt("run"))
        _log(f"  [{rep + 1}/{repeat}] no-op run {m.seconds:.1f} s, {m.peak_mb:.0f} MB")
        seconds, rows = run_floor(warehouse)
        if rows != base["events"]:
            raise BenchError(f"the floor numbered {rows} events, expected {base['events']}")
        result.add("floor", Measure(seconds, 0.0))
        _log(f"  [{rep + 1}/{repeat}] floor {seconds:.2f} s")
        _copy_db(warehouse, built)
        for i, fraction in enumerate(DELTA_FRACTIONS):
            name = delta_name(fraction)
            if i:
                _copy_db(built, warehouse)
            con = duckdb.connect(str(warehouse))
            try:
                added = apply_delta(con, cache / meta["deltas"][name]["file"], PREFIX)
            finally:
                con.close()
            if snapshots is not None and rep == 0 and i == 0:
                snapshots.before_incremental(warehouse)
            result.add(name, m := dbt("run"))
            if snapshots is not None and rep == 0 and i == 0:
                snapshots.after_incremental(dbt.target)
            _check_built(warehouse, base["events"] + added)
            _log(f"  [{rep + 1}/{repeat}] incremental +{fraction:.0%} ({added} events) {m.seconds:.1f} s, "
                 f"{m.peak_mb:.0f} MB")  # fmt: skip
    return result


def measure_loader(n_events: int, seed: int) -> dict[str, float]:
    """Wall time of ``python -m rasa_tracker_loader`` (process start included) on ``n_events`` generated events."""
    from rasa_tracker_loader.generator import generate

    with tempfile.TemporaryDirectory(prefix="rss_bench_loader_") as tmp:
        docs = Path(tmp) / "trackers.json"
        docs.write_text(json.dumps([{"sender_id": s, "events": e} for s, e in generate(n_events=n_events, seed=seed)]))
        began = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "rasa_tracker_loader", "--destination", f"duckdb:{Path(tmp) / 'l.duckdb'}",
             "--schema-prefix", PREFIX, "--no-progress", str(docs)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise BenchError(f"the loader failed: {proc.stderr.strip()}")
    return {"events": n_events, "seconds": seconds, "events_per_second": n_events / seconds}


# ---------------------------------------------------------------------- report


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version(), "duckdb": duckdb.__version__}
    for dist in ("dbt-core", "dbt-duckdb", "dlt"):
        try:
            out[dist] = version(dist)
        except Exception:
            out[dist] = "?"
    return out


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "cpu": cpu,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "git": (commit.stdout.strip() or "?") + (" (uncommitted changes)" if dirty.stdout.strip() else ""),
        **_versions(),
    }


def _fmt(value: float, digits: int = 2) -> str:
    if value != value:  # NaN
        return "n/a"
    return f"{value:,.{digits}f}"


def _timing(sr: SizeResult, name: str) -> str:
    values = [m.seconds for m in sr.runs[name]]
    text = _fmt(statistics.median(values))
    if len(values) > 1:
        text += f" ({_fmt(min(values))}-{_fmt(max(values))})"
    return text


def _rows(sr: SizeResult) -> dict[str, tuple[str, float]]:
    """label -> (shown text, value for the growth column)"""
    i1, i10 = (delta_name(f) for f in DELTA_FRACTIONS)
    work = sr.median("full") - sr.median("noop")
    return {
        REPORT_ROWS[0]: (f"{sr.events:,}", sr.events),
        REPORT_ROWS[1]: (f"{sr.senders:,}", sr.senders),
        REPORT_ROWS[2]: (_timing(sr, "full"), sr.median("full")),
        REPORT_ROWS[3]: (_timing(sr, "noop"), sr.median("noop")),
        REPORT_ROWS[4]: (_timing(sr, "floor"), sr.median("floor")),
        REPORT_ROWS[5]: (_timing(sr, i1), sr.median(i1)),
        REPORT_ROWS[6]: (_timing(sr, i10), sr.median(i10)),
        REPORT_ROWS[7]: (_fmt(sr.ratio_full_over_floor()), sr.ratio_full_over_floor()),
        REPORT_ROWS[8]: (_fmt(sr.ratio_incremental(i1), 3), sr.ratio_incremental(i1)),
        REPORT_ROWS[9]: (_fmt(sr.ratio_incremental(i10), 3), sr.ratio_incremental(i10)),
        REPORT_ROWS[10]: (_fmt(sr.events / work, 0) if work > 0 else "n/a", sr.events / work if work > 0 else 0.0),
        REPORT_ROWS[11]: (_fmt(sr.peak("full"), 0), sr.peak("full")),
        REPORT_ROWS[12]: (_fmt(sr.peak("noop"), 0), sr.peak("noop")),
        REPORT_ROWS[13]: (_fmt(sr.peak(i1), 0), sr.peak(i1)),
        REPORT_ROWS[14]: (_fmt(sr.peak(i10), 0), sr.peak(i10)),
        REPORT_ROWS[15]: (_timing(sr, "seed"), sr.median("seed")),
        REPORT_ROWS[16]: (_fmt(sr.writer_events_per_second, 0), sr.writer_events_per_second),
    }


def summary_line(sr: SizeResult) -> str:
    peak = max(sr.peak(k) for k in sr.runs if k != "floor")
    return (
        f"events={sr.events} full_over_floor={sr.ratio_full_over_floor():.2f} "
        f"incremental1_over_full={sr.ratio_incremental(delta_name(DELTA_FRACTIONS[0])):.3f} peak_mb={peak:.0f}"
    )


def report(sizes: list[SizeResult], info: dict[str, Any], loader: dict[str, float], repeat: dict[int, int]) -> str:
    first, last = sizes[0], sizes[-1]
    growth_label = f"growth {first.events:,} -> {last.events:,} (x{last.events / first.events:g} events)"
    lines = [
        "# rasa_semantic_schema benchmark (DuckDB)",
        "",
        "Produced by `make bench` (bench/run.py); bench/README.md explains what is measured. Times are wall-clock",
        "seconds of whole dbt processes (start-up and parsing included), medians over the repetitions with the",
        "range in parentheses; peak RSS is the largest resident set of the dbt process over the repetitions.",
        "On a shared machine absolute times are rough: compare the ratios, which are measured side by side in",
        "one run; the load average at the start and the end of the run is recorded below.",
        "",
        f"| figure | {' | '.join(f'{s.events:,} events' for s in sizes)} | {growth_label} |",
        f"| --- | {' | '.join('---:' for _ in sizes)} | ---: |",
    ]
    rows = [_rows(s) for s in sizes]
    for label in REPORT_ROWS:
        a, b = rows[0][label][1], rows[-1][label][1]
        growth = f"x{b / a:.2f}" if len(sizes) > 1 and a else "-"
        lines.append(f"| {label} | {' | '.join(r[label][0] for r in rows)} | {growth} |")
    lines += [
        "",
        "Repetitions per size: " + ", ".join(f"{n:,}: {repeat[n]}" for n in repeat) + ".",
        "",
        "Delta loads (each applied to the state after the full refresh):",
        "",
        "| size | delta | events | continuing events (senders) | new senders' events (senders) |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for s in sizes:
        for name, d in s.deltas.items():
            lines.append(
                f"| {s.events:,} | {name} | {d['events']:,} | {d['continuing_events']:,} ({d['continuing_senders']:,}) "
                f"| {d['new_events']:,} ({d['new_senders']:,}) |"
            )
    lines += ["", f"Slowest models of the full refresh at {last.events:,} events (dbt's execution time, s):", ""]
    lines += _model_table(last, "full")
    i1 = delta_name(DELTA_FRACTIONS[0])
    lines += ["", f"Slowest models of the incremental +1% run at {last.events:,} events (s):", ""]
    lines += _model_table(last, i1)
    if loader["events"]:
        lines += [
            "",
            f"Loader (`python -m rasa_tracker_loader`, one process, start-up included): {loader['events']:,} events "
            f"in {loader['seconds']:.1f} s = {loader['events_per_second']:,.0f} events/s.",
        ]
    lines += [
        "",
        "Machine: "
        + f"{info['nproc']} CPUs ({info['cpu']}), {info['memory_gb']} GB memory, load average at start "
        + f"{info['load_average']} and at end {info['load_average_end']}; Python {info['python']}, "
        + f"DuckDB {info['duckdb']}, dbt-core {info['dbt-core']}, dbt-duckdb {info['dbt-duckdb']}, dlt {info['dlt']}; "
        + f"git {info['git']}; {info['date']}.",
        "",
    ]
    lines += [summary_line(s) for s in sizes]
    return "\n".join(lines) + "\n"


def _model_table(sr: SizeResult, run: str, top: int = 10) -> list[str]:
    per_model: dict[str, list[float]] = {}
    for m in sr.runs.get(run, []):
        for name, seconds in m.models.items():
            per_model.setdefault(name, []).append(seconds)
    ranked = sorted(((statistics.median(v), k) for k, v in per_model.items()), reverse=True)[:top]
    total = sum(statistics.median(v) for v in per_model.values())
    out = ["| model | seconds | share of all models |", "| --- | ---: | ---: |"]
    out += [f"| {k} | {v:.2f} | {v / total:.0%} |" for v, k in ranked] if total else []
    return out


def _results_json(sizes: list[SizeResult], info: dict[str, Any], loader: dict[str, float]) -> dict[str, Any]:
    return {
        "machine": info,
        "loader": loader,
        "sizes": [
            {
                "events": s.events,
                "senders": s.senders,
                "writer_events_per_second": s.writer_events_per_second,
                "deltas": s.deltas,
                "runs": {k: [vars(m) for m in v] for k, v in s.runs.items()},
                "summary": summary_line(s),
            }
            for s in sizes
        ],
    }


# ---------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000], help="events of the base load (default 1M)")
    p.add_argument("--repeat", type=int, help="repetitions per size (default: 3 below 5M events, 1 from 5M on)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--loader-events", type=int, default=20_000, help="events for the loader throughput (0: skip)")
    p.add_argument("--data-dir", type=Path, default=BENCH / "data", help="cache, warehouse copies, dbt target, logs")
    p.add_argument("--out", type=Path, default=BENCH / "results.md", help="results (and .json next to it)")
    p.add_argument(
        "--workers",
        type=int,
        help="processes that simulate and encode the source data (0: none; default: one per CPU but one, from 100k "
        "events)",
    )
    p.add_argument(
        "--dbt-in-process",
        action="store_true",
        help="run dbt in this process, the project parsed once (quicker, for the smoke test; the peak RSS is then "
        "this process's, not the command's)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="also profile the full refresh of the largest size with EXPLAIN ANALYZE (bench/profile.md)",
    )
    p.add_argument(
        "--select",
        nargs=argparse.REMAINDER,
        default=[],
        help="the rest of the command line is passed to dbt run (e.g. --select --exclude models/kpis)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes = sorted(set(args.sizes))
    if any(n < 1000 for n in sizes):
        raise SystemExit("sizes must be at least 1000 events")
    info = machine()
    _log(f"bench: sizes {sizes}, machine {info['nproc']} CPUs, load average {info['load_average']}")
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    loader = {"events": 0, "seconds": 0.0, "events_per_second": 0.0}
    if args.loader_events:
        loader = measure_loader(args.loader_events, args.seed)
        _log(f"loader: {loader['events']} events in {loader['seconds']:.1f} s ({loader['events_per_second']:,.0f}/s)")
    repeat = {n: args.repeat or (3 if n < 5_000_000 else 1) for n in sizes}
    results = []
    profile_dir = data_dir / "profile"
    for n in sizes:
        snapshots = Snapshots(profile_dir) if args.profile and n == sizes[-1] else None
        results.append(
            bench_size(n, repeat[n], args.seed, data_dir, args.select, args.workers, snapshots, args.dbt_in_process)
        )
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    text = report(results, info, loader, repeat)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(_results_json(results, info, loader), indent=2))
    if args.profile:
        from bench.explain import profile

        profile_md = out.with_name("profile.md")
        profile(profile_dir, profile_md, sizes[-1])
        _log(f"profile written to {profile_md}")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
