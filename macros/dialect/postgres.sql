{#- PostgreSQL implementations of the package's dispatched macros (adapter `postgres`). Built and tested for real
    by the test suite, which starts a throwaway PostgreSQL server (tests/conftest.py) and runs the same end-to-end
    and incremental = full refresh suites as on DuckDB.
    dbt-redshift dispatches redshift__, then postgres__, then default__: what is here must either be valid on
    Redshift too or have a redshift__ twin in macros/dialect/redshift.sql: every macro here has one. -#}

{#- ---------------------------------------------------------------- types (macros/dialect/types.sql) -#}

{% macro postgres__rss_to_timestamp(expr) -%}
  {#- dlt writes `timestamp with time zone`. A plain cast to `timestamp` would convert it to the session's time zone
      (the server's TimeZone setting, or PGTZ); AT TIME ZONE 'UTC' turns it into the UTC wall clock time whatever
      the session's zone. (On a column without time zone, AT TIME ZONE goes the other way: the source layer reads
      the loader's layout, whose timestamps always carry the zone.) -#}
  {{ return("cast(" ~ expr ~ " at time zone 'UTC' as timestamp)") }}
{%- endmacro %}

{% macro postgres__rss_current_timestamp() -%}
  {#- The time a run marks its loads (`_loads.inserted_at`), with time zone: the source `_loads` that dlt writes, to
      which a run appends when the destination prefix is the source prefix, has a timestamptz column, and the
      ledger of another destination gets the same type. A value without zone would be the session's local time,
      which PostgreSQL reads back in that zone: right in dlt's table but shifted in a ledger created by dbt. -#}
  {{ return('now()') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- physical design (macros/dialect/physical.sql) -#}

{% macro postgres__rss_physical(model_name) -%}
  {#- dbt-postgres `indexes` (btree) on the keys the views are deleted, joined and looked up by: every view's
      pre-hook deletes the recomputed rows by sender_id (users: by user_id), the tables are joined by session_id and
      interaction_id (README_SCHEMA.md), and each has its primary key. Not unique: the data tests check uniqueness,
      an index should not turn a test failure into a failed run. dbt creates them when it creates a table (staging
      on every run, views on the first and on full-refresh runs). The staging tables are written once and read by
      full scans or hash joins, so only the small stg_sender_ids, which every pre-hook reads, gets one. The ledger
      `_loads` is looked up by load_id (dbt indexes it only when it creates it: not dlt's own `_loads`). -#}
  {%- set by_model = {
      'stg_sender_ids': ['sender_id'],
      'event_sequence': ['_record_hash', 'sender_id', 'user_id', 'session_id', 'interaction_id'],
      'interactions': ['interaction_id', 'sender_id', 'user_id', 'session_id'],
      'sessions': ['session_id', 'sender_id', 'user_id'],
      'senders': ['sender_id', 'user_id'],
      'users': ['user_id'],
      'user_messages': ['user_message_record_hash', 'sender_id', 'session_id', 'interaction_id'],
      'bot_actions': ['bot_record_hash', 'sender_id', 'session_id', 'interaction_id'],
      'actions': ['action_record_hash', 'sender_id', 'session_id', 'interaction_id'],
      'slots': ['slot_record_hash', 'sender_id', 'session_id', 'interaction_id'],
      '_loads': ['load_id'],
  } -%}
  {%- if model_name not in by_model -%}
    {{ return({}) }}
  {%- endif -%}
  {%- set indexes = [] -%}
  {%- for column in by_model[model_name] -%}
    {%- do indexes.append({'columns': [column], 'type': 'btree'}) -%}
  {%- endfor -%}
  {{ return({'indexes': indexes}) }}
{%- endmacro %}
