"""One dbt command in a process of its own (so that its peak memory can be read): ``python -m bench.dbt_child ARGS``.

dbt runs in this process through ``dbtRunner`` (dbt-duckdb runs DuckDB in-process too); the exit code is 0 when
the command succeeded.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(argv)
    if result.exception is not None:
        print(f"dbt failed: {result.exception}", file=sys.stderr)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
