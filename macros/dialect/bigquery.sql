{#- BigQuery implementations of the package's dispatched macros (adapter `bigquery`). The dispatching macros and
    their defaults live next to the other warehouses' in macros/dialect/, macros/config.sql and
    macros/lifecycle/incremental.sql. Tested on a local emulator (tests/test_bigquery_emulator.py). -#}

{#- ---------------------------------------------------------------- types (macros/dialect/types.sql) -#}

{% macro bigquery__rss_to_timestamp(expr) -%}
  {#- TIMESTAMP is an instant in UTC in BigQuery; the loader's timestamps are TIMESTAMP already -#}
  {{ return('cast(' ~ expr ~ ' as timestamp)') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- time (macros/dialect/time.sql) -#}

{% macro bigquery__rss_gap_exceeded(previous_ts, ts, seconds) -%}
  {#- dbt.dateadd on BigQuery yields a DATETIME, which does not compare with a TIMESTAMP -#}
  {{ return(ts ~ ' > timestamp_add(' ~ previous_ts ~ ', interval ' ~ seconds ~ ' second)') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- literals (macros/config.sql) -#}

{% macro bigquery__rss_literal(value) -%}
  {#- GoogleSQL string literals escape with backslashes; a doubled quote ('') would end the literal -#}
  {{ return("'" ~ (value | string).replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r") ~ "'") }}
{%- endmacro %}

{#- ---------------------------------------------------------------- syntax (macros/dialect/syntax.sql) -#}

{% macro bigquery__rss_no_rows() -%}
  {#- "Query without FROM clause cannot have a WHERE clause": give the FROM-less select a one-row FROM -#}
  {{ return('from (select 1 as rss_one) where false') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- seeds (macros/metrics.sql) -#}

{% macro bigquery__rss_seed_rows(seed_names, columns) -%}
  {#- dbt-bigquery creates no table for a seed without rows (it skips the load job, and its create_csv_table does
      nothing), yet within one `dbt build` dbt's relation cache lists the seed as built. So a seed counts as
      empty unless BigQuery itself knows the table (rss_get_columns reads it; a missing table has no columns). -#}
  {%- set rows = [] -%}
  {%- if execute -%}
    {%- for seed_name in seed_names -%}
      {%- set relation = rasa_semantic_schema.rss_node_relation(seed_name) -%}
      {%- if relation is not none and rasa_semantic_schema.rss_get_columns(relation) -%}
        {%- set result = run_query('select ' ~ columns | join(', ') ~ ' from ' ~ relation) -%}
        {%- for row in result.rows -%}{%- do rows.append(row) -%}{%- endfor -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(rows) }}
{%- endmacro %}

{#- ---------------------------------------------------------------- incremental (macros/lifecycle/incremental.sql) -#}

{% macro bigquery__rss_incremental_strategy() -%}
  {#- dbt-bigquery has merge, insert_overwrite and microbatch, no append. A merge without unique_key matches
      nothing (`on (FALSE)`) and inserts every row, which is append; the rows this run recomputes were deleted
      by the pre-hook (rss_delete_affected). insert_overwrite would replace whole partitions and needs scripting. -#}
  {{ return('merge') }}
{%- endmacro %}

{% macro bigquery__rss_delete_rows(relation, column, keys_sql) -%}
  {#- The rows default__rss_delete_rows deletes, deleted by a MERGE (WHEN MATCHED THEN DELETE) instead of a DELETE
      statement: the same on BigQuery (one DML statement either way), and it runs on the emulator of
      tests/test_bigquery_emulator.py (emulator: no DELETE statement). The keys are distinct: BigQuery lets a target
      row match one source row only. -#}
  {%- set sql -%}
    merge into {{ relation }} as rss_target
    using (select distinct rss_keys.{{ column }} as rss_key from ({{ keys_sql }}) as rss_keys) as rss_affected
    on rss_target.{{ column }} = rss_affected.rss_key
    when matched then delete
  {%- endset -%}
  {{ return(sql) }}
{%- endmacro %}

{#- ---------------------------------------------------------------- physical design (macros/dialect/physical.sql) -#}

{% macro bigquery__rss_physical(model_name) -%}
  {#- Day partitions on a timestamp that is never NULL (the event time, or the min of event times), clustering on
      the keys the pre-hook deletes by (sender_id; user_id for users) and the joins use (session_id).
      Small tables are not partitioned: stg_sender_ids is only clustered; stg_load_ids, models, _loads and the
      KPI tables get nothing. -#}
  {%- set ts = 'timestamp' -%}
  {%- set by_model = {
      'stg_events': (ts, ['sender_id', 'user_id']),
      'stg_event_sequence': (ts, ['sender_id', 'session_id']),
      'stg_interactions': ('interaction_initiation_timestamp', ['sender_id', 'session_id']),
      'stg_sessions': ('session_initiation_timestamp', ['sender_id', 'user_id']),
      'stg_senders': ('sender_conversation_initiation_timestamp', ['sender_id', 'user_id']),
      'stg_slots': (ts, ['sender_id', 'session_id']),
      'event_sequence': (ts, ['sender_id', 'session_id']),
      'interactions': ('interaction_initiation_timestamp', ['sender_id', 'session_id']),
      'sessions': ('session_initiation_timestamp', ['sender_id', 'user_id']),
      'senders': ('sender_conversation_initiation_timestamp', ['sender_id', 'user_id']),
      'users': ('first_seen_timestamp', ['user_id']),
      'user_messages': (ts, ['sender_id', 'session_id']),
      'bot_actions': (ts, ['sender_id', 'session_id']),
      'actions': (ts, ['sender_id', 'session_id']),
      'slots': (ts, ['sender_id', 'session_id']),
  } -%}
  {%- if model_name == 'stg_sender_ids' -%}
    {{ return({'cluster_by': ['sender_id', 'user_id']}) }}
  {%- endif -%}
  {%- if model_name not in by_model -%}
    {{ return({}) }}
  {%- endif -%}
  {%- set field, cluster = by_model[model_name] -%}
  {{ return({
      'partition_by': {'field': field, 'data_type': 'timestamp', 'granularity': 'day'},
      'cluster_by': cluster,
  }) }}
{%- endmacro %}
