{#- The run lock: at most one `dbt run` / `dbt build` at a time per destination.

    Two runs that process the same new loads at the same time would both delete and re-insert the same senders'
    rows (macros/lifecycle/incremental.sql) and both append status-1 rows for the same loads to the ledger: rows
    duplicated, loads marked twice. So a run detects another live run and refuses to start.

    The lock is a table next to the ledger of processed loads (the `_loads` model, in {dest}_event):
    `{dest}_event._run_lock(run_id, started_at, command)`, one row per run that holds or tries to take the lock.
    on-run-start (`dbt run`, `dbt build` and `dbt retry` only; not test, seed, compile, docs, run-operation):
      1. create the schema and the table when missing;
      2. delete the rows older than var `run_lock_timeout_minutes` (default 120): runs that were killed, or that
         are still running after that long, no longer hold the lock;
      3. insert this run's row (run_id = dbt's invocation_id) and commit;
      4. read the other rows. When there is one, delete this run's row again and stop the whole invocation with an
         error naming the other run, the lock table and how to release it. Nothing is built, nothing is marked.
    on-run-end (which dbt runs after failed models too): delete this run's row.

    Every statement is committed before the next, so of two runs that start at the same moment at least one sees
    the other's row: either one of them refuses or both do (both then retry at their next schedule; harmless).
    A run that dbt could not end (killed, machine lost, connection gone before on-run-end) leaves its row: the
    next runs refuse until the row is older than the timeout, or until
    `dbt run-operation rasa_semantic_schema.release_run_lock` deletes it. Times are the dbt process clocks' UTC
    (run_started_at): machines that share a destination should keep their clocks in sync well within the timeout.

    Dialects: types and string literals come from macros/dialect (rss_type_text, rss_type_timestamp, rss_literal),
    deletes from rss_delete_rows (a MERGE on BigQuery); the statements themselves are dispatched
    (rss_run_lock_create_sql) where a warehouse needs other DDL. -#}

{% macro rss_run_lock_relation() -%}
  {#- {dest}_event._run_lock: the database and schema of the package's `_loads` ledger model -#}
  {%- set ledger = [] -%}
  {%- if execute -%}
    {%- for node in graph.nodes.values() -%}
      {%- if node.resource_type == 'model' and node.package_name == 'rasa_semantic_schema' and node.name == '_loads' and not ledger -%}
        {%- do ledger.append(node) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if ledger -%}
    {{ return(api.Relation.create(database=ledger[0].database, schema=ledger[0].schema, identifier='_run_lock', type='table')) }}
  {%- endif -%}
  {{ return(api.Relation.create(database=target.database, schema=rasa_semantic_schema.rss_dest_prefix() ~ '_event', identifier='_run_lock', type='table')) }}
{%- endmacro %}

{% macro rss_run_lock_timeout_minutes() -%}
  {%- set value = var('run_lock_timeout_minutes', 120) -%}
  {%- if value is not number and not (value | string | trim).isdigit() or (value | int) < 1 -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: var 'run_lock_timeout_minutes' must be a whole number of minutes (1 or more), got: " ~ value) }}
  {%- endif -%}
  {{ return(value | int) }}
{%- endmacro %}

{% macro rss_run_lock_command() -%}
  {#- the dbt command of this invocation when it takes the lock (run, build, retry), else none -#}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set which = flags.WHICH or invocation_args_dict.get('which') -%}
  {{ return(which if which in ('run', 'build', 'retry') else none) }}
{%- endmacro %}

{% macro rss_run_lock_timestamp(value) -%}
  {#- a UTC datetime as a timestamp literal of the warehouse -#}
  {{ return('cast(' ~ rasa_semantic_schema.rss_literal(value.strftime('%Y-%m-%d %H:%M:%S.%f')) ~ ' as ' ~ rasa_semantic_schema.rss_type_timestamp() ~ ')') }}
{%- endmacro %}

{% macro rss_run_lock_holder(row) -%}
  {#- a row of the lock table for a message: run <id> (dbt <command>, started at <UTC time>) -#}
  {%- set started = row[1].strftime('%Y-%m-%d %H:%M:%S') if row[1].strftime is defined else row[1] -%}
  {{ return("run " ~ row[0] ~ " (dbt " ~ row[2] ~ ", started at " ~ started ~ " UTC)") }}
{%- endmacro %}

{% macro rss_run_lock_create_sql(relation) -%}
  {{ return(adapter.dispatch('rss_run_lock_create_sql', 'rasa_semantic_schema')(relation)) }}
{%- endmacro %}

{% macro default__rss_run_lock_create_sql(relation) -%}
  {#- CREATE TABLE IF NOT EXISTS: DuckDB, PostgreSQL, Redshift and BigQuery (GoogleSQL) all have it -#}
  {%- set text = rasa_semantic_schema.rss_type_text() -%}
  {{ return('create table if not exists ' ~ relation ~ ' (run_id ' ~ text ~ ', started_at '
            ~ rasa_semantic_schema.rss_type_timestamp() ~ ', command ' ~ text ~ ')') }}
{%- endmacro %}

{% macro redshift__rss_run_lock_create_sql(relation) -%}
  {#- a few rows: a copy on every node, no sort key -#}
  {{ return(rasa_semantic_schema.default__rss_run_lock_create_sql(relation) ~ ' diststyle all') }}
{%- endmacro %}

{% macro rss_run_lock_statements(relation, run_id, command, started_at, timeout_minutes) -%}
  {#- the SQL of the lock, by step (also what scripts and checks can render without a warehouse) -#}
  {%- set cutoff = started_at - modules.datetime.timedelta(minutes=timeout_minutes) -%}
  {%- set own = rasa_semantic_schema.rss_literal(run_id) -%}
  {{ return({
      'create': rasa_semantic_schema.rss_run_lock_create_sql(relation),
      'expired': 'select run_id, started_at, command from ' ~ relation ~ ' where started_at < '
                 ~ rasa_semantic_schema.rss_run_lock_timestamp(cutoff),
      'delete_expired': rasa_semantic_schema.rss_delete_rows(relation, 'run_id',
                 'select run_id from ' ~ relation ~ ' where started_at < ' ~ rasa_semantic_schema.rss_run_lock_timestamp(cutoff)),
      'insert': 'insert into ' ~ relation ~ ' (run_id, started_at, command) values (' ~ own ~ ', '
                ~ rasa_semantic_schema.rss_run_lock_timestamp(started_at) ~ ', ' ~ rasa_semantic_schema.rss_literal(command) ~ ')',
      'others': 'select run_id, started_at, command from ' ~ relation ~ ' where run_id <> ' ~ own ~ ' order by started_at, run_id',
      'delete_own': rasa_semantic_schema.rss_delete_rows(relation, 'run_id',
                 'select run_id from ' ~ relation ~ ' where run_id = ' ~ own),
  }) }}
{%- endmacro %}

{% macro rss_run_lock_execute(sql, fetch=false) -%}
  {#- one statement in a transaction of its own, committed before the next (a no-op begin/commit where the
      warehouse commits every statement, as BigQuery and autocommit Redshift do) -#}
  {%- set response, table = adapter.execute(sql, auto_begin=true, fetch=fetch) -%}
  {%- do adapter.commit() -%}
  {{ return(table) }}
{%- endmacro %}

{% macro rss_run_lock_acquire() -%}
  {#- on-run-start: take the lock or stop the invocation (see the top of this file) -#}
  {%- set command = rasa_semantic_schema.rss_run_lock_command() -%}
  {%- if command is none -%}{{ return('') }}{%- endif -%}
  {%- set lock = rasa_semantic_schema.rss_run_lock_relation() -%}
  {%- set timeout = rasa_semantic_schema.rss_run_lock_timeout_minutes() -%}
  {%- set sql = rasa_semantic_schema.rss_run_lock_statements(lock, invocation_id, command, run_started_at, timeout) -%}
  {%- do adapter.create_schema(api.Relation.create(database=lock.database, schema=lock.schema)) -%}
  {%- do rasa_semantic_schema.rss_run_lock_execute(sql['create']) -%}
  {%- set expired = rasa_semantic_schema.rss_run_lock_execute(sql['expired'], fetch=true) -%}
  {%- if expired.rows | length > 0 -%}
    {%- for row in expired.rows -%}
      {{ log("rasa_semantic_schema: the run lock of " ~ rasa_semantic_schema.rss_run_lock_holder(row) ~ " is older than var run_lock_timeout_minutes (" ~ timeout ~ "): released", info=true) }}
    {%- endfor -%}
    {%- do rasa_semantic_schema.rss_run_lock_execute(sql['delete_expired']) -%}
  {%- endif -%}
  {%- do rasa_semantic_schema.rss_run_lock_execute(sql['insert']) -%}
  {%- set others = rasa_semantic_schema.rss_run_lock_execute(sql['others'], fetch=true) -%}
  {%- if others.rows | length > 0 -%}
    {%- do rasa_semantic_schema.rss_run_lock_execute(sql['delete_own']) -%}
    {%- set holders = [] -%}
    {%- for row in others.rows -%}
      {%- do holders.append(rasa_semantic_schema.rss_run_lock_holder(row)) -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "rasa_semantic_schema: another dbt run holds the run lock of this destination: " ~ holders | join(', ')
        ~ ". This run (" ~ invocation_id ~ ") stops before building or marking anything: two runs at once would "
        ~ "process the same loads twice. The lock is a row in " ~ lock ~ ". If that run is no longer running "
        ~ "(killed, machine lost), release the lock with `dbt run-operation rasa_semantic_schema.release_run_lock` "
        ~ "(--args '{run_id: ...}' releases one run only) and run again; a lock older than var "
        ~ "run_lock_timeout_minutes (now " ~ timeout ~ ") expires by itself.") }}
  {%- endif -%}
  {{ log("rasa_semantic_schema: run lock taken in " ~ lock ~ " by run " ~ invocation_id) }}
  {{ return('') }}
{%- endmacro %}

{% macro rss_run_lock_release() -%}
  {#- on-run-end: delete this run's row (dbt runs on-run-end after failed models too) -#}
  {%- set command = rasa_semantic_schema.rss_run_lock_command() -%}
  {%- if command is none -%}{{ return('') }}{%- endif -%}
  {%- set lock = rasa_semantic_schema.rss_run_lock_relation() -%}
  {%- set sql = rasa_semantic_schema.rss_run_lock_statements(lock, invocation_id, command, run_started_at, 1) -%}
  {%- do rasa_semantic_schema.rss_run_lock_execute(sql['delete_own']) -%}
  {{ log("rasa_semantic_schema: run lock released in " ~ lock ~ " by run " ~ invocation_id) }}
  {{ return('') }}
{%- endmacro %}

{% macro release_run_lock(run_id=none) -%}
  {#- `dbt run-operation rasa_semantic_schema.release_run_lock [--args '{run_id: <id>}']`: delete the lock rows
      (all of them, or one run's) after a run was killed. Only when that run is really gone: a live run whose lock
      is released can overlap with the next one. -#}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set lock = rasa_semantic_schema.rss_run_lock_relation() -%}
  {%- if rasa_semantic_schema.rss_get_relation(lock.database, lock.schema, lock.identifier) is none -%}
    {{ log("rasa_semantic_schema: no run lock table " ~ lock ~ ": nothing to release", info=true) }}
    {{ return('') }}
  {%- endif -%}
  {%- set condition = '' if run_id is none else ' where run_id = ' ~ rasa_semantic_schema.rss_literal(run_id | string) -%}
  {%- set held = rasa_semantic_schema.rss_run_lock_execute('select run_id, started_at, command from ' ~ lock ~ condition ~ ' order by started_at, run_id', fetch=true) -%}
  {%- if held.rows | length == 0 -%}
    {{ log("rasa_semantic_schema: " ~ lock ~ " holds no lock" ~ ('' if run_id is none else ' of run ' ~ run_id) ~ ": nothing to release", info=true) }}
    {{ return('') }}
  {%- endif -%}
  {%- set keys = 'select run_id from ' ~ lock ~ condition -%}
  {%- do rasa_semantic_schema.rss_run_lock_execute(rasa_semantic_schema.rss_delete_rows(lock, 'run_id', keys)) -%}
  {%- for row in held.rows -%}
    {{ log("rasa_semantic_schema: released the run lock of " ~ rasa_semantic_schema.rss_run_lock_holder(row) ~ " in " ~ lock, info=true) }}
  {%- endfor -%}
  {{ return('') }}
{%- endmacro %}
