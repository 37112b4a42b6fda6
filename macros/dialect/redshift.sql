{#- Redshift implementations of the package's dispatched macros (adapter `redshift`). dbt-redshift dispatches
    redshift__, then postgres__, then default__: every macro whose postgres__ or default__ version is not right for
    Redshift, or that Redshift should not inherit by accident, is pinned here. The dispatching macros and their
    defaults live in macros/dialect/, macros/config.sql and macros/lifecycle/incremental.sql.
    Checked offline by `make check-dialects` (scripts/check_dialects.py): the whole package compiled with
    dbt-redshift and parsed as Redshift SQL, both branches of every incremental model. -#}

{#- ---------------------------------------------------------------- types (macros/dialect/types.sql) -#}

{% macro redshift__rss_type_text() -%}
  {#- plain varchar, and text, are varchar(256) on Redshift; 65535 bytes is its maximum -#}
  {{ return('varchar(65535)') }}
{%- endmacro %}

{% macro redshift__rss_type_timestamp() -%}
  {#- timestamp without time zone, in UTC (rss_to_timestamp) -#}
  {{ return('timestamp') }}
{%- endmacro %}

{% macro redshift__rss_to_timestamp(expr) -%}
  {#- the loader's timestamps are timestamptz; a plain cast would use the session time zone, AT TIME ZONE does not -#}
  {{ return("cast(" ~ expr ~ " at time zone 'UTC' as timestamp)") }}
{%- endmacro %}

{% macro redshift__rss_current_timestamp() -%}
  {#- getdate() runs on the compute nodes; now() and current_timestamp are leader-node-only functions, which
      Redshift rejects in a query that reads tables -#}
  {{ return('cast(getdate() as timestamp)') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- time (macros/dialect/time.sql) -#}

{% macro redshift__rss_gap_exceeded(previous_ts, ts, seconds) -%}
  {#- exact to the microsecond; DATEADD takes a 32-bit interval, which holds about 68 years of seconds -#}
  {{ return(ts ~ ' > dateadd(second, ' ~ seconds ~ ', ' ~ previous_ts ~ ')') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- literals (macros/config.sql) -#}

{% macro redshift__rss_literal(value) -%}
  {#- a backslash escapes in Redshift string literals, so it is doubled as well as the quote -#}
  {{ return("'" ~ (value | string).replace("\\", "\\\\").replace("'", "''") ~ "'") }}
{%- endmacro %}

{#- ---------------------------------------------------------------- syntax (macros/dialect/syntax.sql) -#}

{% macro redshift__rss_no_rows() -%}
  {#- a select without FROM may have a WHERE clause on Redshift -#}
  {{ return('where 1 = 0') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- incremental (macros/lifecycle/incremental.sql) -#}

{% macro redshift__rss_incremental_strategy() -%}
  {#- the pre-hook (rss_delete_affected) has deleted the rows this run recomputes: the new ones are appended -#}
  {{ return('append') }}
{%- endmacro %}

{% macro redshift__rss_delete_rows(relation, column, keys_sql) -%}
  {#- the views' pre-hook: a plain DELETE ... WHERE ... IN (subquery), which Redshift runs on the compute nodes -#}
  {{ return('delete from ' ~ relation ~ ' where ' ~ column ~ ' in (' ~ keys_sql ~ ')') }}
{%- endmacro %}

{#- ---------------------------------------------------------------- physical design (macros/dialect/physical.sql) -#}

{% macro redshift__rss_physical(model_name) -%}
  {#- dbt-redshift's `dist` and `sort` configs. Event, session and staging tables are distributed on sender_id:
      the staging models join and window per sender, and every view's pre-hook deletes by sender_id, so both stay
      on one slice; so are the per-sender KPI tables (models/kpis). `users` is keyed, deleted and joined by user_id.
      Small tables (the loads of a run, the bot models, the ledger, the daily KPIs) are copied to every node
      (`all`). Sort keys are the time columns the tables are queried and deleted by. dbt-redshift pastes dist and
      sort into the DDL as they are, so the reserved word timestamp is quoted. A model not listed gets Redshift's
      automatic distribution and sort keys. -#}
  {%- set ts = adapter.quote('timestamp') -%}
  {%- set by_model = {
      'stg_load_ids': ('all', none),
      'stg_sender_ids': ('sender_id', ['sender_id']),
      'stg_events': ('sender_id', [ts]),
      'stg_event_sequence': ('sender_id', [ts]),
      'stg_interactions': ('sender_id', ['interaction_initiation_timestamp']),
      'stg_sessions': ('sender_id', ['session_initiation_timestamp']),
      'stg_senders': ('sender_id', ['sender_conversation_initiation_timestamp']),
      'stg_slots': ('sender_id', [ts]),
      'event_sequence': ('sender_id', [ts]),
      'interactions': ('sender_id', ['interaction_initiation_timestamp']),
      'sessions': ('sender_id', ['session_initiation_timestamp']),
      'senders': ('sender_id', ['sender_conversation_initiation_timestamp']),
      'users': ('user_id', ['first_seen_timestamp']),
      'user_messages': ('sender_id', [ts]),
      'bot_actions': ('sender_id', [ts]),
      'actions': ('sender_id', [ts]),
      'slots': ('sender_id', [ts]),
      'models': ('all', none),
      '_loads': ('all', none),
      'message_latency': ('sender_id', [ts]),
      'interaction_latency': ('sender_id', ['user_message_timestamp']),
      'session_latency': ('sender_id', none),
      'session_outcomes': ('sender_id', ['session_initiation_timestamp']),
      'daily_kpis': ('all', ['kpi_date']),
  } -%}
  {%- if model_name not in by_model -%}
    {{ return({}) }}
  {%- endif -%}
  {%- set dist, sort = by_model[model_name] -%}
  {%- set cfg = {'dist': dist} -%}
  {%- if sort -%}
    {%- do cfg.update({'sort': sort, 'sort_type': 'compound'}) -%}
  {%- endif -%}
  {{ return(cfg) }}
{%- endmacro %}
