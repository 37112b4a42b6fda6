"""Where the time of a full refresh goes: DuckDB's profiler on the SQL that dbt compiled for it.

``python -m bench --profile`` keeps copies of the warehouse and of dbt's compiled SQL and run results in its largest
size's first repetition (:class:`Snapshots`): after the full refresh, and just before the incremental +1% run.
:func:`profile` then runs the compiled statements again with DuckDB's JSON profiling on and writes
``bench/profile.md``: the models by time, the most expensive operators overall and per model. The full operator
trees are kept as text in ``bench/data/profile/*/*.plan.txt``.

Also usable on its own: ``python -m bench.explain [--dir bench/data/profile] [--out bench/profile.md]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "rasa_semantic_schema"
SCRATCH = "bench_profile"


def _copy_warehouse(warehouse: Path, dest: Path) -> None:
    """The DuckDB file (same file name: compiled SQL names its catalog) and its WAL."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, dest / warehouse.name)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dest / wal.name)


def _copy_target(target: Path, dest: Path) -> None:
    """dbt's compiled SQL and run results of the command that just finished."""
    if (dest / "compiled").exists():
        shutil.rmtree(dest / "compiled")
    shutil.copytree(target / "compiled", dest / "compiled")
    shutil.copyfile(target / "run_results.json", dest / "run_results.json")


class Snapshots:
    """What the profile needs, taken during the benchmark: the warehouse after the full refresh with that run's
    SQL (``full/``), and the warehouse just before the incremental +1% run with that run's SQL (``incremental/``)."""

    def __init__(self, profile_dir: Path) -> None:
        self.dir = profile_dir
        if profile_dir.exists():
            shutil.rmtree(profile_dir)
        profile_dir.mkdir(parents=True)

    def after_full_refresh(self, warehouse: Path, target: Path) -> None:
        _copy_warehouse(warehouse, self.dir / "full")
        _copy_target(target, self.dir / "full")

    def before_incremental(self, warehouse: Path) -> None:
        _copy_warehouse(warehouse, self.dir / "incremental")

    def after_incremental(self, target: Path) -> None:
        _copy_target(target, self.dir / "incremental")


@dataclass
class Operator:
    model: str
    name: str
    seconds: float
    rows: int
    detail: str
    depth: int


@dataclass
class ModelProfile:
    model: str
    dbt_seconds: float
    seconds: float
    rows: int
    peak_buffer_mb: float
    spilled_mb: float
    operators: list[Operator]


def _detail(extra: Any) -> str:
    if not isinstance(extra, dict):
        return str(extra or "")
    parts = []
    for key in ("Table", "Join Type", "Conditions", "Groups", "Aggregates", "Projections", "Filters"):
        value = extra.get(key)
        if value:
            text = ", ".join(value) if isinstance(value, list) else str(value)
            parts.append(f"{key}: {text}")
    text = "; ".join(parts).replace("\n", " ").replace("|", "/")
    return text if len(text) <= 160 else text[:157] + "..."


def _walk(model: str, node: dict[str, Any], depth: int, out: list[Operator]) -> None:
    out.append(
        Operator(
            model,
            str(node.get("name") or node.get("operator_name") or node.get("type") or "?"),
            float(node.get("timing") or node.get("operator_timing") or 0.0),
            int(node.get("intermediate_rows") or node.get("operator_cardinality") or 0),
            _detail(node.get("extra_info")),
            depth,
        )
    )
    for child in node.get("children") or []:
        _walk(model, child, depth + 1, out)


def _models(profile_dir: Path) -> list[tuple[str, float, Path]]:
    """(model, dbt's execution time, compiled SQL) in the order dbt finished them."""
    results = json.loads((profile_dir / "run_results.json").read_text())["results"]
    out = []
    for r in results:
        uid = r["unique_id"]
        if not uid.startswith(f"model.{PROJECT}."):
            continue
        name = uid.split(".")[-1]
        found = list((profile_dir / "compiled").rglob(f"{name}.sql"))
        if found:
            out.append((name, float(r.get("execution_time") or 0.0), found[0]))
    return out


def run_profiles(
    snapshot: Path, staging_only: bool = False, staging_schema: str = "rasa_staging"
) -> list[ModelProfile]:
    """Run every model's compiled SQL with the profiler on the snapshot's warehouse.

    Full refresh (default): each model as ``create table`` in a scratch schema; it reads the upstream tables the
    run built, which hold what a full refresh gives them. ``staging_only`` (an incremental run's snapshot, taken
    before the run): the staging models replayed in order into their own tables, as dbt runs them, so that each
    reads what the one before it computed for this run."""
    warehouse = next(p for p in snapshot.glob("*.duckdb"))
    catalog = warehouse.stem
    con = duckdb.connect(str(warehouse))
    profiles = []
    try:
        con.execute(f"create schema if not exists {SCRATCH}")
        for model, dbt_seconds, path in _models(snapshot):
            if staging_only and not path.parent.name == "staging":
                continue
            sql = path.read_text().strip().rstrip(";")
            out = snapshot / f"{model}.json"
            target = f'"{catalog}"."{staging_schema}"."{model}"' if staging_only else f'{SCRATCH}."{model}"'
            con.execute("pragma enable_profiling = 'json'")
            con.execute(f"pragma profiling_output = '{out}'")
            began = time.perf_counter()
            con.execute(f"create or replace table {target} as\n{sql}")
            wall = time.perf_counter() - began
            con.execute("pragma disable_profiling")
            data = json.loads(out.read_text())
            ops: list[Operator] = []
            for root in data.get("operator") or data.get("children") or []:
                _walk(model, root, 0, ops)
            query = data.get("query") or {}
            system = data.get("system") or {}
            row = con.execute(f"select count(*) from {target}").fetchone()
            profiles.append(
                ModelProfile(
                    model,
                    dbt_seconds,
                    float(query.get("total_time") or wall),
                    int(row[0]) if row else 0,
                    float(system.get("peak_buffer_memory") or 0) / 2**20,
                    float(system.get("total_bytes_spilled") or 0) / 2**20,
                    ops,
                )
            )
            (snapshot / f"{model}.plan.txt").write_text(
                f"-- {model}: {wall:.2f} s\n"
                + "\n".join(f"{'  ' * o.depth}{o.name}  {o.seconds:.3f}s  rows={o.rows:,}  {o.detail}" for o in ops)
                + "\n"
            )
        con.execute(f"drop schema {SCRATCH} cascade")
    finally:
        con.close()
    return profiles


def render(profiles: list[ModelProfile], title: str, intro: str, level: str = "##") -> str:
    total = sum(p.seconds for p in profiles) or 1.0
    lines = [
        f"{level} {title}",
        "",
        intro,
        "",
        f"{level}# Models",
        "",
        "| model | query s (profiled) | share | dbt s (in the snapshotted run) | rows | peak buffer MB | spilled MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in sorted(profiles, key=lambda p: p.seconds, reverse=True):
        lines.append(
            f"| {p.model} | {p.seconds:.2f} | {p.seconds / total:.0%} | {p.dbt_seconds:.2f} | {p.rows:,} "
            f"| {p.peak_buffer_mb:,.0f} | {p.spilled_mb:,.0f} |"
        )
    ops = [o for p in profiles for o in p.operators if o.name not in ("RESULT_COLLECTOR", "EXPLAIN_ANALYZE")]
    op_total = sum(o.seconds for o in ops) or 1.0
    lines += [
        "",
        f"{level}# The 25 most expensive operators",
        "",
        "| model | operator | s | share of all operator time | rows out | detail |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for o in sorted(ops, key=lambda o: o.seconds, reverse=True)[:25]:
        share = o.seconds / op_total
        lines.append(f"| {o.model} | {o.name} | {o.seconds:.2f} | {share:.0%} | {o.rows:,} | {o.detail} |")
    by_kind: dict[str, float] = {}
    for o in ops:
        by_kind[o.name] = by_kind.get(o.name, 0.0) + o.seconds
    lines += ["", f"{level}# Operator time by kind", "", "| operator | s | share |", "| --- | ---: | ---: |"]
    for name, seconds in sorted(by_kind.items(), key=lambda kv: kv[1], reverse=True)[:12]:
        lines.append(f"| {name} | {seconds:.2f} | {seconds / op_total:.0%} |")
    lines += ["", f"{level}# Per model (top 5 operators of the 5 slowest models)", ""]
    for p in sorted(profiles, key=lambda p: p.seconds, reverse=True)[:5]:
        model_ops = [o for o in p.operators if o.name not in ("RESULT_COLLECTOR", "EXPLAIN_ANALYZE")]
        mt = sum(o.seconds for o in model_ops) or 1.0
        lines += [
            f"{level}## {p.model} ({p.seconds:.2f} s, {p.rows:,} rows)",
            "",
            "| operator | s | share | rows out | detail |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for o in sorted(model_ops, key=lambda o: o.seconds, reverse=True)[:5]:
            lines.append(f"| {o.name} | {o.seconds:.2f} | {o.seconds / mt:.0%} | {o.rows:,} | {o.detail} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def profile(profile_dir: Path, out: Path, n_events: int | None = None) -> str:
    size = f" at {n_events:,} events" if n_events else ""
    text = f"# Where the time goes{size} (DuckDB EXPLAIN ANALYZE)\n\n" + (
        "Produced by `python -m bench --profile` (bench/explain.py) on copies of the benchmark's warehouse.\n"
        "Operator times are DuckDB's per-operator timings (summed over threads), so they can exceed the wall\n"
        "time; read them as shares. The machine was shared with other work, so absolute times are rough.\n\n"
    )
    text += render(
        run_profiles(profile_dir / "full"),
        "Full refresh",
        "Every model's compiled full-refresh SQL run again as `create table <scratch>.<model> as <select>` on the\n"
        "warehouse the full refresh built.",
    )
    if (profile_dir / "incremental" / "run_results.json").exists():
        text += "\n" + render(
            run_profiles(profile_dir / "incremental", staging_only=True),
            "Incremental run after a +1% load: staging models",
            "The staging models of the incremental run's compiled SQL replayed in order into their own tables on\n"
            "the warehouse as it was just before that run (the views' delete+insert are not replayed; their times\n"
            "are in results.md).",
        )
    out.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=ROOT / "bench" / "data" / "profile", help="Snapshots folder")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "profile.md")
    p.add_argument("--events", type=int, help="size of the profiled data (for the title)")
    args = p.parse_args(argv)
    print(profile(args.dir, args.out, args.events), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
