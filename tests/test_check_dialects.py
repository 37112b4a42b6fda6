"""The Redshift / BigQuery checker (scripts/check_dialects.py, `make check-dialects`).

The statement checks are tested on SQL strings (each known trap is flagged, valid SQL passes); one end-to-end test
compiles the check project with an extra model that is wrong on each warehouse (backticks for Redshift, a `::` cast
for BigQuery): the checker fails on exactly that model and finds nothing in the package.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.check_dialects import CHECK_PROJECT, REPO_ROOT, check_sql, ddl_key_problems

REDSHIFT_TRAPS = [
    ("select `sender_id` from s.t", "backtick"),
    ("select cast(a as varchar) from s.t", "varchar(256)"),
    ("select a::varchar from s.t", "varchar(256)"),
    ("select cast(a as text) from s.t", "text is varchar(256)"),
    ("select cast(a as string) from s.t", "string does not exist on Redshift"),
    ("select cast(a as varchar(70000)) from s.t", "at most 65535"),
    ("select safe_cast(a as int) from s.t", "safe_cast(): is BigQuery SQL"),
    ("select timestamp_diff(a, b, second) from s.t", "timestamp_diff(): is BigQuery SQL"),
    ("select date_diff(a, b, day) from s.t", "date_diff()"),
    ("select format_timestamp('%Y', a) from s.t", "format_timestamp()"),
    ("select array_agg(a) over (partition by b) from s.t", "array_agg()"),
    ("select now() as t from s.t", "leader node"),
    ("select current_timestamp as t from s.t", "leader node"),
    ("select substr(a, 1, 2) from s.t", "leader node"),
    ("select sum(a) over (partition by b order by c) from s.t", "without a frame clause"),
    ("select first_value(a) over (partition by b order by c) from s.t", "without a frame clause"),
    ("select count(distinct a) over (partition by b) from s.t", "no DISTINCT"),
    ("select bool_or(a) over (partition by b) from s.t", "not a window function"),
    ("select sum(a) over (order by c range between unbounded preceding and current row) from s.t", "ROWS frames"),
    ("select lag(a) over (partition by b) from s.t", "without ORDER BY"),
    ("select sum(a) over w from s.t window w as (partition by b)", "WINDOW clause"),
    ("select distinct on (a) a, b from s.t", "DISTINCT ON"),
    ("select a from s.t where a is distinct from b", "IS [NOT] DISTINCT FROM"),
    ("select e.user from s.t e", "reserved word"),
    ("select a from t", "not qualified"),
    ("select median(a), percentile_cont(0.5) within group (order by b) from s.t", "sort-based aggregates"),
    ("select median(a) over (partition by b order by c) from s.t", "PARTITION BY only"),
    (
        "select e.name from s.event e where not exists"
        " (select 1 from s.listing l where not exists (select 1 from s.sales x where x.event_id = e.id))",
        "skips a query block",
    ),
    (
        "select c.id from s.category c left join s.event e on c.id = e.category_id"
        " and e.id = (select max(x.event_id) from s.sales x where x.event_id = e.id)",
        "ON clause",
    ),
]

BIGQUERY_TRAPS = [
    ('select "sender_id" from d.t', "double-quoted"),
    ("select a::string from d.t", "`::` cast"),
    ("select cast(a as varchar) from d.t", "varchar does not exist in BigQuery"),
    ("select cast(a as text) from d.t", "text does not exist in BigQuery"),
    ("select cast(a as float) from d.t", "FLOAT64"),
    ("select a from d.t where a ilike 'x%'", "ILIKE"),
    ("select a from d.t union select b from d.u", "UNION without ALL or DISTINCT"),
    ("select datediff(second, a, b) from d.t", "datediff(): is not a BigQuery function"),
    ("select nvl(a, b) from d.t", "nvl()"),
    ("select listagg(a, ',') from d.t", "listagg()"),
    ("select getdate() from d.t", "getdate()"),
    ("select 'it''s' from d.t", "doubling it"),
    ("select cast(null as string) as x where 1 = 0", "SELECT without FROM has a WHERE clause"),
    ("delete from d.t", "DELETE without WHERE"),
    ("select e.rows from d.t e", "reserved word"),
    ("select count(distinct a) over (partition by b order by c) from d.t", "DISTINCT only unordered"),
]


@pytest.mark.parametrize(("sql", "expected"), REDSHIFT_TRAPS)
def test_redshift_traps_are_flagged(sql: str, expected: str) -> None:
    problems = check_sql(sql, "redshift")
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("sql", "expected"), BIGQUERY_TRAPS)
def test_bigquery_traps_are_flagged(sql: str, expected: str) -> None:
    problems = check_sql(sql, "bigquery")
    assert any(expected in p for p in problems), problems


def test_valid_sql_passes() -> None:
    redshift = """
        with ordered as (
            select e.sender_id, e."timestamp", cast(e.value as varchar(65535)) as value,
                   row_number() over (partition by e.sender_id order by e."timestamp", e._event_pos nulls last) as nr,
                   sum(case when e.event = 'user' then 1 else 0 end)
                       over (partition by e.sender_id order by e."timestamp"
                             rows between unbounded preceding and current row) as n,
                   first_value(e.value ignore nulls)
                       over (partition by e.sender_id order by e."timestamp"
                             rows between unbounded preceding and unbounded following) as f
            from "db"."rasa_event"."event_user" e
            where e."timestamp" > dateadd(second, 60, getdate()) and e.name ilike 'x%'
        )
        select o.sender_id, o.value::varchar(20) as v, datediff(second, min(o."timestamp"), max(o."timestamp")) as d,
               bool_or(o.nr = 1) as any_first, median(o.nr) as m, percentile_cont(0.5) within group (order by o.nr) as p
        from ordered o
        group by o.sender_id, o.value
        union
        select 'a', 'b', 1, true, 1, 1
        """
    assert check_sql(redshift, "redshift") == []
    bigquery = """
        select e.sender_id, cast(e.value as string) as value, e.timestamp, cast(e.x as float64) as x,
               timestamp_diff(e.`timestamp`, e.b, second) as d, safe_cast(e.c as int64) as c,
               count(distinct e.sender_id) over (partition by e.user_id) as senders,
               'it\\'s' as quoted
        from `project`.`dataset`.`event_user` e
        where e.name like 'x%'
        union all
        select 'a', 'b', null, null, 1, 1, 1, 'c' from (select 1 as rss_one) where false
        """
    assert check_sql(bigquery, "bigquery") == []


def test_ddl_keys_must_be_columns() -> None:
    ddl = 'create table "a"."b"."c" diststyle key distkey (user_id) compound sortkey("timestamp", ts) as (select 1)'
    problems = ddl_key_problems(ddl, "redshift", ["sender_id", "timestamp"])
    assert any("distkey user_id" in p for p in problems) and any("sortkey ts" in p for p in problems), problems
    assert ddl_key_problems(ddl, "redshift", ["user_id", "timestamp", "ts"]) == []
    assert any("reserved word" in p for p in check_sql(ddl.replace('"timestamp"', "timestamp"), "redshift"))
    bq = "create or replace table `p`.`d`.`t` partition by timestamp_trunc(`ts`, day) cluster by s, u as (select 1)"
    assert len(ddl_key_problems(bq, "bigquery", ["s"])) == 2


WRONG_MODEL = """\
{#- wrong on purpose: backticks on Redshift, a `::` cast on BigQuery -#}
{%- if target.type == 'redshift' %}
select `sender_id` from {{ source('events', 'event_user') }}
{%- else %}
select sender_id::string as sender_id from {{ source('events', 'event_user') }}
{%- endif %}
"""


def test_checker_fails_on_a_wrong_model_and_passes_on_the_package(tmp_path: Path) -> None:
    project = tmp_path / "dialect_check"
    # target/ holds dbt's partial-parse state of `make check-dialects`, when it has run: it makes the parse quick
    shutil.copytree(CHECK_PROJECT, project, ignore=shutil.ignore_patterns("dbt_packages", "logs"))
    (project / "models").mkdir(exist_ok=True)
    (project / "models" / "dialect_check_wrong.sql").write_text(WRONG_MODEL)
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "check_dialects.py"), "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    summary = re.compile(r"^(\w+): (\d+) models compiled, (\d+) checked, (\d+) problems$", re.MULTILINE)
    summaries = {m.group(1): m for m in summary.finditer(out)}
    assert set(summaries) == {"redshift", "bigquery"}, out
    problem_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert problem_lines, out
    # every problem is in the wrong model: the package itself compiles and checks clean on both warehouses
    assert all(" dialect_check_wrong " in line for line in problem_lines), out
    assert any(line.startswith("  redshift dialect_check_wrong") and "backtick" in line for line in problem_lines), out
    assert any(line.startswith("  bigquery dialect_check_wrong") and "`::` cast" in line for line in problem_lines), out
    for warehouse, match in summaries.items():
        assert int(match.group(2)) > 20 and int(match.group(3)) > 100, (warehouse, out)
