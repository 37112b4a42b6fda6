"""Print what the demo built: rows per semantic-schema table and the headline conversation figures."""

from __future__ import annotations

import argparse
import sys

import duckdb

TABLES = (
    "event_sequence",
    "interactions",
    "sessions",
    "senders",
    "users",
    "user_messages",
    "bot_actions",
    "actions",
    "slots",
    "models",
)


def headline(con: duckdb.DuckDBPyConnection, views: str) -> dict[str, float]:
    """Headline figures from the views; rates are shares of sessions."""
    columns = {r[0] for r in con.execute(f"describe {views}.sessions").fetchall()}
    fallback = [c for c in ("intent_nlu_fallback_count", "action_default_fallback_count") if c in columns]
    fallback_expr = " or ".join(f"{c} > 0" for c in fallback) or "false"
    handover = "actions_agent_handoff_count > 0" if "actions_agent_handoff_count" in columns else "false"
    row = con.execute(
        f"""
        select
            (select count(*) from {views}.users),
            count(*),
            (select count(*) from {views}.interactions where interaction_nr > 0),
            avg(case when is_bounced then 1.0 else 0.0 end),
            avg(case when {handover} then 1.0 else 0.0 end),
            avg(case when {fallback_expr} then 1.0 else 0.0 end)
        from {views}.sessions
        """
    ).fetchone()
    assert row is not None
    keys = ("users", "sessions", "interactions", "bounce_rate", "handover_rate", "fallback_rate")
    return {k: (v if v is not None else 0.0) for k, v in zip(keys, row, strict=True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duckdb", required=True, help="path of the DuckDB database")
    parser.add_argument("--prefix", default="rasa", help="destination schema prefix")
    args = parser.parse_args(argv)
    views = f"{args.prefix}_views"
    con = duckdb.connect(args.duckdb, read_only=True)
    print(f"\nrasa_semantic_schema built in {args.duckdb} (schema {views}):")
    for table in TABLES:
        count = con.execute(f"select count(*) from {views}.{table}").fetchone()
        print(f"  {table:<16} {count[0] if count else 0:>10,} rows")
    figures = headline(con, views)
    print("\nheadline figures:")
    for key, value in figures.items():
        text = f"{value:.1%}" if key.endswith("_rate") else f"{int(value):,}"
        print(f"  {key:<16} {text:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
