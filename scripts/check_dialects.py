"""Compile rasa_semantic_schema for Redshift and BigQuery without a warehouse and check the SQL of each dialect.

    python scripts/check_dialects.py            # both warehouses; exit 1 when a problem is found
    python scripts/check_dialects.py --warehouse redshift
    python scripts/check_dialects.py --write-layout rasa_semantic_schema.duckdb   # refresh the source fixture

How: one worker process per warehouse runs dbt (dbt-redshift / dbt-bigquery) in-process on the check project
``dialect_check/`` (which installs this package with ``packages: - local: ../``) against a profile that points
nowhere, with ``--no-introspect --no-populate-cache``. Everything the package asks a warehouse is answered by that
project's macros (dialect_check/macros/offline.sql) from ``dialect_check/source_layout.json`` (the tables and
columns rasa_tracker_loader writes) and from the seeds' CSV files. The worker compiles twice: with
``--full-refresh`` (none of the package's models exists yet: every model renders its full-refresh branch) and
without (all of them exist: the incremental branch). For every model it also renders, in the model's own runtime
context, the pre-hooks (the views' deletes from rss_delete_affected) and the CREATE TABLE statement dbt would send
(with the adapter's physical design: Redshift dist/sort keys, BigQuery partitioning/clustering).

Every statement is then parsed with sqlglot in the warehouse's dialect, and checked for what the warehouse rejects
although a parser accepts it (see ``check_sql``), and the DDL's distribution, sort, partition and cluster keys are
checked against the model's output columns.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECK_PROJECT = REPO_ROOT / "dialect_check"
LAYOUT_FILE = "source_layout.json"
PROFILES = {"redshift": "dialect_check_redshift", "bigquery": "dialect_check_bigquery"}
BRANCHES = ("full", "incremental")

# ------------------------------------------------------------------------------------------------ dialect rules

# Words Redshift reserves: an identifier spelled like one must be double-quoted.
REDSHIFT_RESERVED = frozenset(
    """
    aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup between binary
    blanksasnull blanksnulls both bytedict bzip2 case cast check collate column constraint create credentials cross
    current_date current_time current_timestamp current_user current_user_id default deferrable deflate defrag delta
    delta32k desc disable distinct do else emptyasnull enable encode encrypt encryption end except explicit false for
    foreign freeze from full globaldict256 globaldict64k grant group gzip having identity ignore ilike in initially
    inner intersect interval into is isnull join language leading left like limit localtime localtimestamp lun luns
    lzo lzop minus mostly16 mostly32 mostly8 natural new not notnull null nulls off offline offset oid old on only
    open or order outer overlaps parallel partition percent permissions pivot placing primary raw readratio recover
    references rejectlog resort respect restore right select session_user similar snapshot some sysdate system table
    tag tdes text255 text32k then timestamp to top trailing true truncatecolumns union unique unnest unpivot user
    using verbose wallet when where with without
    """.split()
)

# GoogleSQL reserved keywords. (`timestamp` is not one: a column of that name may stay unquoted in BigQuery.)
BIGQUERY_RESERVED = frozenset(
    """
    all and any array as asc assert_rows_modified at between by case cast collate contains create cross cube current
    default define desc distinct else end enum escape except exclude exists extract false fetch following for from full
    group grouping groups hash having if ignore in inner intersect interval into is join lateral left like limit lookup
    merge natural new no not null nulls of on or order outer over partition preceding proto qualify range recursive
    respect right rollup rows select set some struct tablesample then to treat true unbounded union unnest using when
    where window with within
    """.split()
)

# Functions a warehouse does not have (or, on Redshift, runs only on the leader node, so that a query that also reads
# a table fails), by the name written in the SQL.
REDSHIFT_FUNCTIONS = {
    **dict.fromkeys(
        """safe_cast safe_divide timestamp_diff timestamp_add timestamp_sub timestamp_trunc date_diff datetime_diff
        datetime_add datetime_sub datetime_trunc format_timestamp format_date format_datetime parse_timestamp
        parse_date parse_datetime generate_uuid generate_array generate_date_array array_agg string_agg
        countif logical_or logical_and if ifnull regexp_contains regexp_extract split struct unnest current_datetime
        safe_offset safe_ordinal to_json_string json_extract_scalar json_value farm_fingerprint unix_seconds
        unix_micros timestamp_seconds timestamp_micros""".split(),
        "is BigQuery SQL; Redshift has no such function",
    ),
    **dict.fromkeys(
        """now age isfinite current_schema current_schemas generate_series version substr factorial
        has_database_privilege has_schema_privilege has_table_privilege getbit get_byte set_bit set_byte
        to_ascii""".split(),
        "runs on the Redshift leader node only: a query that reads a table fails",
    ),
}
REDSHIFT_LEADER_KEYWORDS = {"current_timestamp", "current_time", "localtime", "localtimestamp"}

BIGQUERY_FUNCTIONS = dict.fromkeys(
    """datediff dateadd date_part getdate sysdate now nvl nvl2 listagg bool_or bool_and len charindex convert_timezone
    to_char to_number isnull decode split_part string_to_array median strtol json_extract_path_text
    convert""".split(),
    "is not a BigQuery function",
)

# Window functions that take a frame; Redshift requires an explicit ROWS frame when they have an ORDER BY.
FRAMED_WINDOW_FUNCTIONS = {
    "avg",
    "count",
    "sum",
    "min",
    "max",
    "first_value",
    "last_value",
    "nth_value",
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "variance",
    "var_samp",
    "var_pop",
    "listagg",
    "ratio_to_report",
}
# Redshift window functions whose OVER clause takes a partition only (no ORDER BY, no frame).
PARTITION_ONLY_WINDOW_FUNCTIONS = {"median", "percentile_cont", "percentile_disc"}
ORDERED_WINDOW_FUNCTIONS = {
    "lag",
    "lead",
    "ntile",
    "first_value",
    "last_value",
    "nth_value",
    "percent_rank",
    "cume_dist",
}
REDSHIFT_NOT_WINDOW = {"bool_or", "bool_and", "array_agg", "string_agg"}

REDSHIFT_TYPES = {
    "smallint",
    "int2",
    "integer",
    "int",
    "int4",
    "bigint",
    "int8",
    "decimal",
    "numeric",
    "real",
    "float4",
    "double precision",
    "float8",
    "float",
    "boolean",
    "bool",
    "char",
    "character",
    "nchar",
    "bpchar",
    "varchar",
    "character varying",
    "nvarchar",
    "text",
    "date",
    "timestamp",
    "timestamp without time zone",
    "timestamptz",
    "timestamp with time zone",
    "time",
    "time without time zone",
    "timetz",
    "time with time zone",
    "varbyte",
    "varbinary",
    "binary varying",
    "geometry",
    "geography",
    "hllsketch",
    "super",
    "interval",
}
BIGQUERY_TYPES = {
    "string",
    "bytes",
    "int64",
    "int",
    "smallint",
    "integer",
    "bigint",
    "tinyint",
    "byteint",
    "numeric",
    "decimal",
    "bignumeric",
    "bigdecimal",
    "float64",
    "bool",
    "boolean",
    "date",
    "datetime",
    "time",
    "timestamp",
    "json",
    "geography",
    "interval",
    "array",
    "struct",
    "range",
}
TYPE_CONTINUATIONS = {"precision", "varying", "with", "without", "time", "zone"}


@dataclass
class Statement:
    """One SQL statement dbt would send: a model's select, its pre-hook or DDL, or a data test."""

    node: str
    resource_type: str
    kind: str
    sql: str
    branches: list[str] = field(default_factory=list)
    relation: list[str] | None = None


@dataclass
class Problem:
    warehouse: str
    node: str
    branches: list[str]
    kind: str
    message: str

    def line(self) -> str:
        return f"  {self.warehouse} {self.node} [{'+'.join(self.branches)}] {self.kind}: {self.message}"


# ------------------------------------------------------------------------------------------------ raw text scans


def _scan(sql: str) -> Iterable[tuple[str, str]]:
    """Split SQL into ('code' | 'single' | 'double' | 'backtick' | 'comment', text) pieces."""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            yield "comment", sql[i:j]
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            yield "comment", sql[i:j]
            i = j
        elif c in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == "\\" and c == "'":
                    j += 2
                    continue
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # doubled quote
                        j += 2
                        continue
                    break
                j += 1
            kind = {"'": "single", '"': "double", "`": "backtick"}[c]
            yield kind, sql[i : j + 1]
            i = j + 1
        else:
            j = i
            while j < n and sql[j] not in "'\"`" and not sql.startswith("--", j) and not sql.startswith("/*", j):
                j += 1
            yield "code", sql[i:j]
            i = j


def raw_problems(sql: str, dialect: str) -> list[str]:
    problems = []
    for kind, text in _scan(sql):
        if dialect == "redshift" and kind == "backtick":
            problems.append(f"backtick-quoted identifier {text}: Redshift quotes identifiers with double quotes")
        if dialect == "bigquery" and kind == "double":
            problems.append(f"double-quoted {text}: a string in BigQuery, where identifiers are quoted with backticks")
        if dialect == "bigquery" and kind == "single" and "''" in text[1:-1]:
            problems.append(f"string literal {text} escapes a quote by doubling it: BigQuery escapes with a backslash")
    return problems


# ------------------------------------------------------------------------------------------------ token scans


def _type_at(tokens, i: int, stop_on_alias: bool) -> tuple[str, list[str], int]:
    """The type name (lower case, words joined) and its parameters starting at token i, and the next index."""
    words = [tokens[i].text.lower()]
    i += 1
    while i < len(tokens) and tokens[i].text.lower() in TYPE_CONTINUATIONS and tokens[i].token_type.name != "L_PAREN":
        if stop_on_alias and tokens[i].token_type.name == "ALIAS":
            break
        words.append(tokens[i].text.lower())
        i += 1
    params: list[str] = []
    if i < len(tokens) and tokens[i].token_type.name == "L_PAREN":
        depth, j = 1, i + 1
        while j < len(tokens) and depth:
            name = tokens[j].token_type.name
            depth += name == "L_PAREN"
            depth -= name == "R_PAREN"
            if depth == 1 and name not in ("COMMA",):
                params.append(tokens[j].text.lower())
            j += 1
        i = j
    return " ".join(words), params, i


def type_problems(name: str, params: list[str], dialect: str) -> list[str]:
    spelled = name + (f"({','.join(params)})" if params else "")
    if dialect == "redshift":
        if name in ("varchar", "character varying", "nvarchar"):
            if not params:
                return [f"type {spelled} without a length is varchar(256) on Redshift: use rss_type_text()"]
            if params[0].isdigit() and int(params[0]) > 65535:
                return [f"type {spelled}: Redshift varchar holds at most 65535 bytes"]
        if name == "text":
            return ["type text is varchar(256) on Redshift: use rss_type_text()"]
        if name in ("char", "character", "nchar", "bpchar") and not params:
            return [f"type {spelled} without a length is char(1) on Redshift"]
        if name not in REDSHIFT_TYPES:
            return [f"type {spelled} does not exist on Redshift"]
    else:
        if name not in BIGQUERY_TYPES:
            hint = " (use STRING)" if name in ("varchar", "text", "char", "character", "character varying") else ""
            hint = hint or (" (use FLOAT64)" if name in ("float", "double", "double precision", "real") else "")
            return [f"type {spelled} does not exist in BigQuery{hint}"]
    return []


def token_problems(tokens, dialect: str) -> list[str]:
    problems: list[str] = []
    # parentheses opened right after CAST / SAFE_CAST / TRY_CAST: their AS introduces a type
    cast_depths: list[int] = []
    depth = 0
    for i, tok in enumerate(tokens):
        name = tok.token_type.name
        text = tok.text.lower()
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        nxt_name = nxt.token_type.name if nxt else ""
        if name == "L_PAREN":
            depth += 1
            prev = tokens[i - 1].text.lower() if i else ""
            if prev in ("cast", "safe_cast", "try_cast"):
                cast_depths.append(depth)
        elif name == "R_PAREN":
            if cast_depths and cast_depths[-1] == depth:
                cast_depths.pop()
            depth -= 1
        elif name == "ALIAS" and cast_depths and cast_depths[-1] == depth and nxt:
            type_name, params, _ = _type_at(tokens, i + 1, stop_on_alias=False)
            problems += type_problems(type_name, params, dialect)
        elif name == "DCOLON":
            if dialect == "bigquery":
                problems.append("`::` cast: BigQuery has only CAST(x AS type)")
            if nxt:
                type_name, params, _ = _type_at(tokens, i + 1, stop_on_alias=True)
                problems += type_problems(type_name, params, dialect)
        # functions, by the name as written
        if nxt_name == "L_PAREN" and name != "IDENTIFIER" and (i == 0 or tokens[i - 1].token_type.name != "DOT"):
            table = REDSHIFT_FUNCTIONS if dialect == "redshift" else BIGQUERY_FUNCTIONS
            if text in table:
                problems.append(f"function {text}(): {table[text]}")
        if dialect == "redshift" and text in REDSHIFT_LEADER_KEYWORDS and name != "IDENTIFIER":
            problems.append(f"{text} runs on the Redshift leader node only: use getdate() (rss_current_timestamp())")
        set_operation = name in ("UNION", "INTERSECT") or (name == "EXCEPT" and i and tokens[i - 1].text != "*")
        if dialect == "bigquery" and set_operation and nxt_name not in ("ALL", "DISTINCT"):
            problems.append(f"{text.upper()} without ALL or DISTINCT: BigQuery requires one of them")
    return problems


# ------------------------------------------------------------------------------------------------ syntax tree checks


def _func_name(node, dialect: str) -> str:
    """The name of a function call as the dialect spells it (sqlglot normalizes names: bool_or is LogicalOr)."""
    return node.sql(dialect).split("(", 1)[0].strip().lower()


def ast_problems(tree, dialect: str) -> list[str]:
    from sqlglot import exp

    problems: list[str] = []
    reserved = REDSHIFT_RESERVED if dialect == "redshift" else BIGQUERY_RESERVED
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}

    for ident in tree.find_all(exp.Identifier):
        if not ident.quoted and ident.name.lower() in reserved:
            problems.append(f"identifier {ident.name} is a reserved word in {dialect} and must be quoted")

    for table in tree.find_all(exp.Table):
        if not table.name or isinstance(table.this, exp.Func):
            continue
        if not table.args.get("db") and table.name.lower() not in ctes:
            problems.append(f"table {table.name} is not qualified with its schema (dataset)")

    for window in tree.find_all(exp.Window):
        if window.args.get("this") is None or not isinstance(window.parent, exp.Expression):
            continue
        func = window.this
        fname = _func_name(func, dialect)
        order, spec = window.args.get("order"), window.args.get("spec")
        if func.find(exp.Distinct):
            if dialect == "redshift":
                problems.append(f"{fname}(distinct ...) over (...): Redshift window functions take no DISTINCT")
            elif order is not None:
                problems.append(f"{fname}(distinct ...) over (order by ...): BigQuery allows DISTINCT only unordered")
        if fname in ORDERED_WINDOW_FUNCTIONS and order is None:
            problems.append(f"{fname}() over (...) without ORDER BY")
        if dialect == "redshift":
            if fname in FRAMED_WINDOW_FUNCTIONS and order is not None and spec is None:
                problems.append(
                    f"{fname}() over (... order by ...) without a frame clause: Redshift requires ROWS BETWEEN ..."
                )
            if spec is not None and str(spec.args.get("kind", "")).lower() != "rows":
                problems.append(f"{spec.args.get('kind')} frame: Redshift supports ROWS frames only")
            if fname in PARTITION_ONLY_WINDOW_FUNCTIONS and (order is not None or spec is not None):
                problems.append(f"{fname}() over (... order by / frame ...): Redshift allows a PARTITION BY only")
            if fname in REDSHIFT_NOT_WINDOW:
                problems.append(f"{fname}() is not a window function on Redshift")

    for select in tree.find_all(exp.Select):
        if dialect == "redshift":
            problems += _sort_aggregate_problems(select)
        distinct = select.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            problems.append("SELECT DISTINCT ON: neither Redshift nor BigQuery has it")
        if dialect == "redshift" and select.args.get("windows"):
            problems.append("WINDOW clause (named windows): Redshift does not support it")
        if dialect == "bigquery" and select.args.get("where") is not None and select.args.get("from_") is None:
            problems.append("SELECT without FROM has a WHERE clause: BigQuery rejects it (rss_no_rows())")
        if dialect == "bigquery" and select.args.get("qualify") is not None:
            if not any(select.args.get(k) is not None for k in ("where", "group", "having")):
                problems.append("QUALIFY without WHERE, GROUP BY or HAVING: BigQuery rejects it")
        for join in select.args.get("joins") or []:
            if join.args.get("kind", "").upper() == "LATERAL" or isinstance(join.this, exp.Lateral):
                problems.append("LATERAL join: not supported")

    if dialect == "redshift":
        problems += _correlation_problems(tree)
    if tree.find(exp.Filter):
        problems.append("aggregate FILTER (WHERE ...) clause: neither Redshift nor BigQuery has it")
    if tree.find(exp.Lateral):
        problems.append("LATERAL: not supported")
    if dialect == "bigquery" and tree.find(exp.ILike):
        problems.append("ILIKE: BigQuery has no ILIKE (lower(x) like ...)")
    if dialect == "redshift" and (tree.find(exp.NullSafeEQ) or tree.find(exp.NullSafeNEQ)):
        problems.append("IS [NOT] DISTINCT FROM: not a Redshift comparison condition")
    for delete in tree.find_all(exp.Delete):
        if dialect == "bigquery" and delete.args.get("where") is None:
            problems.append("DELETE without WHERE: BigQuery requires a WHERE clause")
    return problems


def _sort_aggregate_problems(select) -> list[str]:
    """Redshift: the sort-based aggregates (MEDIAN, PERCENTILE_CONT, LISTAGG) of one query must share their ordering."""
    from sqlglot import exp

    orderings: dict[str, str] = {}
    for node in select.find_all(exp.Median, exp.WithinGroup):
        if node.find_ancestor(exp.Select) is not select or node.find_ancestor(exp.Window):
            continue
        if isinstance(node, exp.WithinGroup) and node.find_ancestor(exp.WithinGroup):
            continue
        if isinstance(node, exp.Median):
            ordering = node.this.sql("redshift")
        else:
            order = node.args.get("expression")
            ordering = ", ".join(o.sql("redshift") for o in order.expressions) if order is not None else ""
        orderings.setdefault(ordering, node.sql("redshift"))
    if len(orderings) > 1:
        return [
            "sort-based aggregates with different orderings in one query ("
            + "; ".join(orderings.values())
            + "): Redshift requires MEDIAN, PERCENTILE_CONT and LISTAGG of a statement to order by the same values"
        ]
    return []


def _sources(select) -> set[str]:
    """The names a query block's columns can be qualified with: its FROM and JOIN tables and subqueries."""
    from sqlglot import exp

    names = set()
    from_ = select.args.get("from_")
    for source in ([from_.this] if from_ is not None else []) + [j.this for j in select.args.get("joins") or []]:
        if isinstance(source, exp.Table | exp.Subquery):
            names.add(source.alias_or_name.lower())
    return names


def _enclosing_select(node):
    """The query block a correlated subquery `node` (a Select) is nested in, or None when it is not correlatable
    (a CTE body, a derived table in FROM/JOIN, the top of the statement)."""
    from sqlglot import exp

    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        if isinstance(parent, exp.CTE | exp.From) or (isinstance(parent, exp.Join) and parent.this is node):
            return None
        node, parent = parent, parent.parent
    return parent


def _correlation_problems(tree) -> list[str]:
    """Redshift's unsupported correlated subqueries: skip-level references, and correlation from a subquery in an
    ON clause, from a subquery with a window function, or from an IN subquery that aggregates with GROUP BY."""
    from sqlglot import exp

    problems = []
    for column in tree.find_all(exp.Column):
        qualifier = column.table.lower()
        inner = column.find_ancestor(exp.Select)
        if not qualifier or inner is None or qualifier in _sources(inner):
            continue
        chain, block = [inner], _enclosing_select(inner)
        while block is not None and qualifier not in _sources(block):
            chain.append(block)
            block = _enclosing_select(block)
        if block is None:
            continue  # not a correlation (or an unknown name, which the warehouse reports itself)
        ref = column.sql("redshift")
        if len(chain) > 1:
            problems.append(f"correlated reference {ref} skips a query block: Redshift cannot decorrelate it")
            continue
        sub = chain[0]
        if sub.find_ancestor(exp.Join) is not None and sub.find_ancestor(exp.Join).find_ancestor(exp.Select) is block:
            problems.append(f"correlated reference {ref} from a subquery in an ON clause: not supported on Redshift")
        if sub.find(exp.Window):
            problems.append(f"correlated reference {ref} from a subquery with a window function: not supported")
        if isinstance(sub.parent, exp.Subquery | exp.In) and sub.find_ancestor(exp.In) and sub.args.get("group"):
            if any(sub.find(f) for f in (exp.AggFunc,)):
                problems.append(f"correlated reference {ref} from an IN subquery with GROUP BY: not supported")
    return problems


def check_sql(sql: str, dialect: str) -> list[str]:
    """The problems `dialect` ('redshift' or 'bigquery') would have with `sql` (one or more statements)."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    problems = raw_problems(sql, dialect)
    try:
        tokens = sqlglot.tokenize(sql, read=dialect)
    except TokenError as ex:
        return problems + [f"does not tokenize as {dialect} SQL: {_first_line(ex)}"]
    problems += token_problems(tokens, dialect)
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except ParseError as ex:
        return _unique(problems + [f"does not parse as {dialect} SQL: {_first_line(ex)}"])
    for tree in trees:
        problems += ast_problems(tree, dialect)
    return _unique(problems)


def _first_line(ex: Exception) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", str(ex)).strip().splitlines()[0]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ------------------------------------------------------------------------------------------------ physical design


def output_columns(sql: str, dialect: str, schema: dict) -> list[str] | None:
    """The column names a select returns (stars expanded from `schema`), or None when they cannot be resolved."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
        tree = qualify(tree, schema=schema, dialect=dialect, validate_qualify_columns=False, identify=False)
    except Exception:  # noqa: BLE001 - unresolvable: the key check is skipped for this model
        return None
    query = tree
    while isinstance(query, exp.SetOperation):
        query = query.left
    if not isinstance(query, exp.Select) or any(isinstance(e, exp.Star) or e.is_star for e in query.expressions):
        return None  # a star that could not be expanded
    return [name.lower() for name in query.named_selects]


def ddl_key_problems(ddl: str, dialect: str, columns: list[str] | None) -> list[str]:
    """Distribution, sort, partition and cluster keys of a CREATE TABLE that are not columns of the table."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(ddl, read=dialect)
    except Exception:  # noqa: BLE001 - the parse problem itself is reported by check_sql
        return []
    keys: list[tuple[str, exp.Expression]] = []
    for prop in tree.find_all(exp.DistKeyProperty):
        keys.append(("distkey", prop.this))
    for prop in tree.find_all(exp.SortKeyProperty):
        keys += [("sortkey", e) for e in prop.this.expressions] if isinstance(prop.this, exp.Tuple) else []
        keys += [("sortkey", e) for e in prop.args.get("this") or []] if isinstance(prop.this, list) else []
    for prop in tree.find_all(exp.PartitionedByProperty):
        keys += [("partition by", c) for c in prop.find_all(exp.Column)]
    for prop in tree.find_all(exp.Property):
        if "cluster" in type(prop).__name__.lower():
            keys += [("cluster by", c) for c in prop.find_all(exp.Column)]
    problems = []
    for what, key in keys:
        name = key.name.lower() if hasattr(key, "name") else str(key).lower()
        if columns is not None and name not in columns:
            problems.append(f"{what} {name} is not a column of the table (it has: {', '.join(columns)})")
    return problems


# ------------------------------------------------------------------------------------------------ compiling (worker)


def seed_rows(project: Path) -> dict[str, list[dict[str, str]]]:
    """The rows of every seed CSV of the package and of the check project, by seed name."""
    rows: dict[str, list[dict[str, str]]] = {}
    for folder in (REPO_ROOT / "seeds", project / "seeds"):
        for path in sorted(folder.glob("*.csv")):
            with path.open(newline="") as f:
                rows[path.stem] = [dict(r) for r in csv.DictReader(f)]
    return rows


def dbt_vars(project: Path) -> dict:
    layout = json.loads((project / LAYOUT_FILE).read_text())
    return {"dialect_check_layout": layout, "dialect_check_seeds": seed_rows(project)}


def ensure_package_link(project: Path) -> None:
    """Install the package into the check project as `dbt deps` would for `local: ../` (a symlink), offline."""
    link = project / "dbt_packages" / "rasa_semantic_schema"
    if link.is_symlink() and link.resolve() == REPO_ROOT.resolve():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(REPO_ROOT, link.parent), target_is_directory=True)


def compile_warehouse(warehouse: str, project: Path, work_dir: Path) -> dict:
    """Compile the check project for one warehouse, both branches; return the statements (JSON-able)."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from dbt.adapters.factory import get_adapter_by_type
    from dbt.cli.main import dbtRunner
    from dbt.clients.jinja import get_rendered
    from dbt.context.providers import generate_runtime_model_context

    os.chdir(project)
    common = [
        "--quiet", "--log-level-file", "none", "--log-path", str(work_dir / "logs"),
        "--target-path", str(project / "target" / warehouse),
        "--profiles-dir", str(project), "--profile", PROFILES[warehouse], "--vars", json.dumps(dbt_vars(project)),
    ]  # fmt: skip
    parsed = dbtRunner().invoke(["parse", *common])
    if not parsed.success:
        return {"error": f"dbt parse failed: {parsed.exception}"}
    manifest = parsed.result
    statements: list[dict] = []
    errors: list[dict] = []
    compiled_models: set[str] = set()
    for branch in BRANCHES:
        args = ["compile", "--no-introspect", "--no-populate-cache", "--no-write-json"]
        # data tests do not depend on the branch: compiled once, with the incremental branch
        if branch == "full":
            args += ["--full-refresh", "--select", "resource_type:model", "--indirect-selection", "empty"]
        args += ["--exclude", "resource_type:unit_test", "resource_type:seed"]
        res = dbtRunner(manifest=manifest).invoke([*args, *common])
        if res.result is None:
            return {"error": f"dbt compile ({branch}) failed: {res.exception}"}
        adapter = get_adapter_by_type(warehouse)
        for result in res.result.results:
            node = result.node
            name = node.name
            if str(result.status) not in ("success", "RunStatus.Success"):
                errors.append({"node": name, "branch": branch, "message": result.message or str(result.status)})
                continue
            base = {"node": name, "resource_type": node.resource_type.value, "branch": branch}
            if node.resource_type.value == "test":
                statements.append({**base, "kind": "test", "sql": node.compiled_code})
                continue
            if node.resource_type.value != "model":
                continue
            compiled_models.add(node.unique_id)
            relation = [node.database or "", node.schema, node.alias or node.name]
            statements.append({**base, "kind": "select", "sql": node.compiled_code, "relation": relation})
            ctx = generate_runtime_model_context(node, adapter.config, manifest)
            for hook in node.config.pre_hook:
                sql = get_rendered(hook.sql, ctx, node).strip()
                if sql:
                    statements.append({**base, "kind": "pre-hook", "sql": sql})
            if branch == "full":
                ddl = ctx["create_table_as"](False, ctx["this"], node.compiled_code)
                statements.append({**base, "kind": "ddl", "sql": str(ddl), "relation": relation})
    statements += run_lock_statements(warehouse, manifest)
    return {"models": len(compiled_models), "statements": statements, "errors": errors}


def run_lock_statements(warehouse: str, manifest: object) -> list[dict]:
    """The statements of the run lock (the on-run-start and on-run-end hooks, macros/lifecycle/run_lock.sql), rendered
    by the package's own macro in a model's context: create, expire, take, check, release."""
    from datetime import datetime

    from dbt.adapters.factory import get_adapter_by_type
    from dbt.context.providers import generate_runtime_model_context

    nodes = manifest.nodes.values()  # type: ignore[attr-defined]
    ledger = next(n for n in nodes if n.resource_type.value == "model" and n.name == "_loads")
    ctx = generate_runtime_model_context(ledger, get_adapter_by_type(warehouse).config, manifest)
    package = ctx["rasa_semantic_schema"]
    lock = package["rss_run_lock_relation"]()
    started = datetime(2026, 1, 2, 3, 4, 5, 678901)
    rendered = package["rss_run_lock_statements"](lock, "3f2c-run'id", "run", started, 120)
    return [
        {"node": "run_lock", "resource_type": "macro", "branch": branch, "kind": f"lock {step}", "sql": str(sql)}
        for step, sql in rendered.items()
        for branch in BRANCHES
    ]


# ------------------------------------------------------------------------------------------------ checking


def check_warehouse(warehouse: str, compiled: dict, layout: dict, source_prefix: str) -> tuple[int, int, list[Problem]]:
    """(models compiled, statements checked, problems) of one warehouse's compile output."""
    if "error" in compiled:
        return 0, 0, [Problem(warehouse, "(project)", list(BRANCHES), "compile", compiled["error"])]
    problems = [
        Problem(warehouse, e["node"], [e["branch"]], "compile", e["message"].strip().splitlines()[0])
        for e in compiled["errors"]
    ]
    # the same statement in both branches is checked once
    grouped: dict[tuple[str, str, str], Statement] = {}
    for s in compiled["statements"]:
        key = (s["node"], s["kind"], s["sql"])
        if key not in grouped:
            grouped[key] = Statement(s["node"], s["resource_type"], s["kind"], s["sql"], [], s.get("relation"))
        grouped[key].branches.append(s["branch"])
    schema = _source_schema(warehouse, layout, source_prefix, compiled)
    # the columns of each model as its full-refresh branch creates them (the branch the DDL is rendered for)
    selects = [s for s in grouped.values() if s.kind == "select" and "full" in s.branches]
    columns_of: dict[str, list[str]] = {}
    for _ in range(len(selects) + 1):  # resolve models whose inputs are known, until nothing changes
        progress = False
        for s in selects:
            if s.node in columns_of:
                continue
            cols = output_columns(s.sql, warehouse, schema)
            if cols is not None:
                columns_of[s.node] = cols
                _schema_add(schema, warehouse, s.relation, cols)
                progress = True
        if not progress:
            break
    for s in grouped.values():
        for message in check_sql(s.sql, warehouse):
            problems.append(Problem(warehouse, s.node, s.branches, s.kind, message))
        if s.kind == "ddl":
            for message in ddl_key_problems(s.sql, warehouse, columns_of.get(s.node)):
                problems.append(Problem(warehouse, s.node, s.branches, s.kind, message))
    return compiled["models"], len(grouped), problems


def _norm(name: str, warehouse: str) -> str:
    return name if warehouse == "bigquery" else name.lower()


def _schema_add(schema: dict, warehouse: str, relation: list[str] | None, columns: list[str]) -> None:
    if not relation:
        return
    database, db, table = (_norm(p, warehouse) for p in relation)
    schema.setdefault(database, {}).setdefault(db, {})[table] = dict.fromkeys(columns, "text")


def _source_schema(warehouse: str, layout: dict, source_prefix: str, compiled: dict) -> dict:
    """A sqlglot schema {database: {schema: {table: {column: type}}}} of the source fixture."""
    databases = {s["relation"][0] for s in compiled["statements"] if s.get("relation")}
    schema: dict = {}
    for database in databases or {""}:
        for suffix, tables in layout.items():
            for table, columns in tables.items():
                _schema_add(schema, warehouse, [database, f"{source_prefix}_{suffix}", table], columns)
    return schema


# ------------------------------------------------------------------------------------------------ command line


def write_layout(duckdb_path: str, project: Path, prefix: str) -> None:
    """Write the source fixture from a DuckDB file that rasa_tracker_loader has loaded (schema prefix `prefix`)."""
    import duckdb

    con = duckdb.connect(duckdb_path, read_only=True)
    rows = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in (?, ?) order by table_schema, table_name, ordinal_position",
        [f"{prefix}_event", f"{prefix}_model"],
    ).fetchall()
    layout: dict[str, dict[str, list[str]]] = {}
    for schema_name, table, column in rows:
        layout.setdefault(schema_name[len(prefix) + 1 :], {}).setdefault(table, []).append(column)
    (project / LAYOUT_FILE).write_text(json.dumps(layout, indent=2) + "\n")
    print(f"wrote {project / LAYOUT_FILE}: {sum(len(t) for t in layout.values())} tables")


def run(warehouses: list[str], project: Path) -> int:
    ensure_package_link(project)
    started = time.perf_counter()
    layout = json.loads((project / LAYOUT_FILE).read_text())
    source_prefix = _project_var(project, "source_schema_prefix", "rasa")
    with tempfile.TemporaryDirectory(prefix="check_dialects_") as tmp:
        workers = {}
        for warehouse in warehouses:
            out = Path(tmp) / f"{warehouse}.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", warehouse, "--project", str(project)]
            cmd += ["--out", str(out), "--work-dir", str(Path(tmp) / warehouse)]
            workers[warehouse] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT), out)
        exit_code = 0
        for warehouse, (proc, out) in workers.items():
            output = proc.communicate()[0].decode(errors="replace")
            if proc.returncode != 0 or not out.exists():
                print(f"{warehouse}: the compile worker failed (exit {proc.returncode})\n{output}")
                exit_code = 1
                continue
            models, checked, problems = check_warehouse(warehouse, json.loads(out.read_text()), layout, source_prefix)
            print(f"{warehouse}: {models} models compiled, {checked} checked, {len(problems)} problems")
            for problem in problems:
                print(problem.line())
            exit_code = exit_code or (1 if problems else 0)
    print(f"({time.perf_counter() - started:.0f} s)")
    return exit_code


def _project_var(project: Path, name: str, default: str) -> str:
    match = re.search(rf"^\s*{name}:\s*(\S+)", (project / "dbt_project.yml").read_text(), re.MULTILINE)
    return match.group(1).strip("'\"") if match else default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", choices=sorted(PROFILES), action="append", help="default: all")
    parser.add_argument("--project", type=Path, default=CHECK_PROJECT, help="the check project (default: %(default)s)")
    parser.add_argument("--write-layout", metavar="DUCKDB", help="write source_layout.json from a loaded DuckDB file")
    parser.add_argument("--prefix", default="rasa", help="schema prefix of --write-layout's DuckDB (default: rasa)")
    parser.add_argument("--worker", choices=sorted(PROFILES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    project = args.project.resolve()
    if args.write_layout:
        write_layout(args.write_layout, project, args.prefix)
        return 0
    if args.worker:
        result = compile_warehouse(args.worker, project, args.work_dir or Path(tempfile.mkdtemp()))
        args.out.write_text(json.dumps(result))
        return 0
    return run(args.warehouse or sorted(PROFILES, reverse=True), project)


if __name__ == "__main__":
    sys.exit(main())
