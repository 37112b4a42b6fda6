{#-
  Conversation KPIs (models/kpis): their configuration, the warehouse-specific SQL they need, and their generic
  data tests. README "Conversation KPIs" lists the definitions.

  Vars (all optional; seeds listed in var `kpi_settings_seeds`, default [rasa_kpi_settings], add values):
    kpi_handoff_metric      the count metric whose count > 0 marks a handover (default actions_agent_handoff)
    kpi_fallback_metrics    count metrics whose count > 0 marks a fallback session
                            (default [intent_nlu_fallback, action_default_fallback]; seed setting fallback_metric)
    kpi_start_intents       intents that do not make a session engaged
                            (default [greet, session_start, start, get_started, restart]; seed setting start_intent)
    kpi_question_utterances bot responses that ask the user something; an entry ending in * is a prefix
                            (default ['utter_ask_*']; seed setting question_utterance)
-#}

{% macro rss_kpi_setting_rows(setting) -%}
  {#- the values of one setting from the KPI seeds (columns setting, value), read at execution time -#}
  {%- set values = [] -%}
  {%- for row in rasa_semantic_schema.rss_seed_rows(rasa_semantic_schema.rss_seed_names('kpi_settings_seeds', ['rasa_kpi_settings']), ['setting', 'value']) -%}
    {%- if row[0] is not none and row[1] is not none and (row[0] | string | trim | lower) == setting -%}
      {%- do values.append(row[1] | string | trim) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(values) }}
{%- endmacro %}

{% macro rss_kpi_list(var_name, default, setting) -%}
  {#- a var holding a list (or a comma-separated string), plus the seed values of `setting`, without duplicates -#}
  {%- set configured = var(var_name, default) -%}
  {%- if configured is none -%}{%- set configured = [] -%}{%- endif -%}
  {%- if configured is string -%}{%- set configured = configured.split(',') -%}{%- endif -%}
  {%- set out = [] -%}
  {%- for v in (configured | list) + rasa_semantic_schema.rss_kpi_setting_rows(setting) -%}
    {%- set v = v | string | trim -%}
    {%- if v and v not in out -%}{%- do out.append(v) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(out) }}
{%- endmacro %}

{% macro rss_kpi_metric_names() -%}
  {%- set names = [] -%}
  {%- for m in rasa_semantic_schema.rss_count_metrics() -%}{%- do names.append(m.name) -%}{%- endfor -%}
  {{ return(names) }}
{%- endmacro %}

{% macro rss_kpi_check_metric(name, var_name) -%}
  {#- a metric name from a KPI var: an identifier and one of the count metrics (only checked when they are known) -#}
  {%- set name = rasa_semantic_schema.rss_validate_identifier(name | string | trim, var_name) | lower -%}
  {%- set known = rasa_semantic_schema.rss_kpi_metric_names() -%}
  {%- if execute and name not in known -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: var '" ~ var_name ~ "' names the count metric '" ~ name ~ "', which is not defined (var count_metrics or its seeds). Defined metrics: " ~ (known | join(', ') or 'none')) }}
  {%- endif -%}
  {{ return(name) }}
{%- endmacro %}

{% macro rss_kpi_var_problems() -%}
  {#- what is wrong with the KPI vars that name count metrics (identifiers; whether the metrics exist is checked
      when the models compile): rss_check_vars reports it while dbt parses -#}
  {%- set problems = [] -%}
  {%- set handoff = var('kpi_handoff_metric', 'actions_agent_handoff') -%}
  {%- if handoff is none or (handoff | string | trim) == '' -%}
    {%- do problems.append("var 'kpi_handoff_metric' must name the count metric that marks a handover (default actions_agent_handoff)") -%}
  {%- else -%}
    {%- do problems.append(rasa_semantic_schema.rss_identifier_problem(handoff | string | trim, 'kpi_handoff_metric')) -%}
  {%- endif -%}
  {%- set fallbacks = var('kpi_fallback_metrics', []) -%}
  {%- if fallbacks is string -%}{%- set fallbacks = fallbacks.split(',') -%}{%- endif -%}
  {%- if fallbacks is not none and (fallbacks is mapping or fallbacks is not iterable) -%}
    {%- do problems.append("var 'kpi_fallback_metrics' must be a list of count metric names, got: " ~ rasa_semantic_schema.rss_shown(fallbacks)) -%}
    {%- set fallbacks = [] -%}
  {%- endif -%}
  {%- for f in (fallbacks or []) if f is not none and (f | string | trim) -%}
    {%- do problems.append(rasa_semantic_schema.rss_identifier_problem(f | string | trim, 'kpi_fallback_metrics')) -%}
  {%- endfor -%}
  {{ return(problems | select | list) }}
{%- endmacro %}

{% macro rss_kpi_handoff_metric() -%}
  {%- set name = var('kpi_handoff_metric', 'actions_agent_handoff') -%}
  {%- if name is none or (name | string | trim) == '' -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: var 'kpi_handoff_metric' must name the count metric that marks a handover (default actions_agent_handoff)") }}
  {%- endif -%}
  {{ return(rasa_semantic_schema.rss_kpi_check_metric(name, 'kpi_handoff_metric')) }}
{%- endmacro %}

{% macro rss_kpi_fallback_metrics() -%}
  {%- set names = [] -%}
  {%- for n in rasa_semantic_schema.rss_kpi_list('kpi_fallback_metrics', ['intent_nlu_fallback', 'action_default_fallback'], 'fallback_metric') -%}
    {%- set n = rasa_semantic_schema.rss_kpi_check_metric(n, 'kpi_fallback_metrics') -%}
    {%- if n not in names -%}{%- do names.append(n) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(names) }}
{%- endmacro %}

{% macro rss_kpi_start_intents() -%}
  {{ return(rasa_semantic_schema.rss_kpi_list('kpi_start_intents', ['greet', 'session_start', 'start', 'get_started', 'restart'], 'start_intent')) }}
{%- endmacro %}

{% macro rss_kpi_question_utterances() -%}
  {{ return(rasa_semantic_schema.rss_kpi_list('kpi_question_utterances', ['utter_ask_*'], 'question_utterance')) }}
{%- endmacro %}

{% macro rss_kpi_in_list(expr, values) -%}
  {#- `expr` is one of `values`; a value ending in * matches as a prefix; false for an empty list -#}
  {%- set exact = [] -%}
  {%- set parts = [] -%}
  {%- for v in values -%}
    {%- if v.endswith('*') -%}
      {%- set prefix = v[:-1] -%}
      {%- if prefix == '' -%}
        {%- do parts.append(expr ~ ' is not null') -%}
      {%- else -%}
        {#- substring, not substr: substr runs on the Redshift leader node only -#}
        {%- do parts.append('substring(' ~ expr ~ ', 1, ' ~ (prefix | length) ~ ') = ' ~ rasa_semantic_schema.rss_literal(prefix)) -%}
      {%- endif -%}
    {%- else -%}
      {%- do exact.append(v) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if exact -%}{%- do parts.append(expr ~ ' in (' ~ rasa_semantic_schema.rss_literal_list(exact) ~ ')') -%}{%- endif -%}
  {{ return('(' ~ (parts | join(' or ') if parts else '1 = 0') ~ ')') }}
{%- endmacro %}

{% macro rss_kpi_depends_on() -%}
  {#- the KPI seeds and the metric seeds are read while compiling: build them first -#}
  {%- set lines = [] -%}
  {%- for s in rasa_semantic_schema.rss_seed_names('kpi_settings_seeds', ['rasa_kpi_settings']) -%}
    {%- do lines.append('-- depends_on: ' ~ ref(s)) -%}
  {%- endfor -%}
  {{ return(lines | join('\n') ~ '\n' ~ rasa_semantic_schema.rss_metric_depends_on()) }}
{%- endmacro %}

{#- ------------------------------------------------------------------ lifecycle -#}

{% macro rss_kpi_config(model_name, key='sender_id') -%}
  {#- an incremental KPI table in {dest}_views: like the views, it replaces the rows of the senders a run recomputes
      (key sender_id), or of the days their events fall on (key kpi_date) -#}
  {%- if key == 'kpi_date' -%}
    {%- set cfg = {
        'materialized': 'incremental',
        'incremental_strategy': rasa_semantic_schema.rss_incremental_strategy(),
        'pre_hook': "{{ rasa_semantic_schema.rss_kpi_delete_affected_days() }}",
    } -%}
    {%- do cfg.update(rasa_semantic_schema.rss_physical(model_name)) -%}
  {%- else -%}
    {%- set cfg = rasa_semantic_schema.rss_view_config(model_name, key) -%}
  {%- endif -%}
  {%- do cfg.update({'schema': 'views', 'tags': ['rasa_semantic_schema', 'kpis']}) -%}
  {{ return(cfg) }}
{%- endmacro %}

{% macro rss_kpi_affected_senders(alias) -%}
  {#- on an incremental run: a condition that keeps the rows of the senders this run recomputes -#}
  {%- if is_incremental() -%}
    {{ return('and ' ~ alias ~ '.sender_id in (select sender_id from ' ~ ref('stg_sender_ids') ~ ')') }}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}

{% macro rss_kpi_affected_days() -%}
  {#- the days this run recomputes: every day with an event of a recomputed sender. A session's day is the day of
      its first event, and events are never removed, so this covers the days of the senders' sessions before and
      after the run (sessions that merged, split or moved to another user included). -#}
  {#- stg_event_sequence holds exactly the recomputed senders' events: no scan of the whole event_sequence table -#}
  {{ return('select distinct cast(e.' ~ adapter.quote('timestamp') ~ ' as date) as kpi_date from ' ~ ref('stg_event_sequence') ~ ' e') }}
{%- endmacro %}

{% macro rss_kpi_delete_affected_days() -%}
  {#- pre-hook of daily_kpis: on an incremental run, remove the days this run recomputes (rss_delete_rows: the
      warehouse's way to delete by a subquery) -#}
  {%- if is_incremental() -%}
    {{ rasa_semantic_schema.rss_delete_rows(this, 'kpi_date', rasa_semantic_schema.rss_kpi_affected_days()) }}
  {%- endif -%}
{%- endmacro %}

{#- ------------------------------------------------------------------ dialect -#}

{% macro rss_type_double() -%}
  {{ return(adapter.dispatch('rss_type_double', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__rss_type_double() -%}
  {{ return('double precision') }}
{%- endmacro %}

{% macro bigquery__rss_type_double() -%}
  {{ return('float64') }}
{%- endmacro %}

{% macro rss_ratio(numerator, denominator) -%}
  {#- a share as a floating-point number; NULL when the denominator is 0 -#}
  {{ return('cast(' ~ numerator ~ ' as ' ~ rasa_semantic_schema.rss_type_double() ~ ') / nullif(' ~ denominator ~ ', 0)') }}
{%- endmacro %}

{% macro rss_seconds_between(start, end) -%}
  {#- seconds from `start` to `end` (timestamps), with fractions (microsecond precision) -#}
  {{ return(adapter.dispatch('rss_seconds_between', 'rasa_semantic_schema')(start, end)) }}
{%- endmacro %}

{% macro default__rss_seconds_between(start, end) -%}
  {{ return('cast(' ~ dbt.datediff(start, end, 'microsecond') ~ ' as ' ~ rasa_semantic_schema.rss_type_double() ~ ') / 1000000') }}
{%- endmacro %}

{% macro postgres__rss_seconds_between(start, end) -%}
  {{ return('cast(extract(epoch from (' ~ end ~ ') - (' ~ start ~ ')) as double precision)') }}
{%- endmacro %}

{% macro duckdb__rss_seconds_between(start, end) -%}
  {{ return("cast(date_diff('microsecond', " ~ start ~ ", " ~ end ~ ") as double) / 1000000") }}
{%- endmacro %}

{% macro redshift__rss_seconds_between(start, end) -%}
  {{ return('cast(datediff(microsecond, ' ~ start ~ ', ' ~ end ~ ') as double precision) / 1000000') }}
{%- endmacro %}

{% macro bigquery__rss_seconds_between(start, end) -%}
  {{ return('timestamp_diff(' ~ end ~ ', ' ~ start ~ ', microsecond) / 1000000') }}
{%- endmacro %}

{% macro rss_median(expr) -%}
  {#- the median of `expr` as an aggregate (NULLs ignored; NULL for no values). Exact (interpolated) on PostgreSQL,
      DuckDB and Redshift; on BigQuery approximate: approx_quantiles, an element of the data near the middle.
      Redshift allows only one ordering of sort-based aggregates per query: models compute each median in a
      select of its own. -#}
  {{ return(adapter.dispatch('rss_median', 'rasa_semantic_schema')(expr)) }}
{%- endmacro %}

{% macro default__rss_median(expr) -%}
  {{ return('percentile_cont(0.5) within group (order by cast(' ~ expr ~ ' as ' ~ rasa_semantic_schema.rss_type_double() ~ '))') }}
{%- endmacro %}

{% macro postgres__rss_median(expr) -%}
  {{ return('percentile_cont(0.5) within group (order by cast(' ~ expr ~ ' as double precision))') }}
{%- endmacro %}

{% macro duckdb__rss_median(expr) -%}
  {{ return('median(cast(' ~ expr ~ ' as double))') }}
{%- endmacro %}

{% macro redshift__rss_median(expr) -%}
  {{ return('median(cast(' ~ expr ~ ' as double precision))') }}
{%- endmacro %}

{% macro bigquery__rss_median(expr) -%}
  {{ return('approx_quantiles(cast(' ~ expr ~ ' as float64), 100)[safe_offset(50)]') }}
{%- endmacro %}

{#- ------------------------------------------------------------------ data tests -#}

{#-
  rss_kpi_between: every non-NULL value lies in [min_value, max_value] (either bound may be left out).
-#}
{% test rss_kpi_between(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }} as out_of_range_value
from {{ model }}
where {{ column_name }} is not null
  and ({% if min_value is not none %}{{ column_name }} < {{ min_value }}{% else %}1 = 0{% endif %}
       or {% if max_value is not none %}{{ column_name }} > {{ max_value }}{% else %}1 = 0{% endif %})
{% endtest %}

{#-
  rss_kpi_unique_combination: no two rows share the values of `columns` (NULL counts as a value).
-#}
{% test rss_kpi_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#-
  rss_kpi_totals_match: an aggregate over the model equals an aggregate over the model `to`, for example the sessions
  of daily_kpis add up to the rows of session_outcomes:

    data_tests:
      - rasa_semantic_schema.rss_kpi_totals_match:
          arguments: {expression: sum(sessions_count), to: ref('session_outcomes'), to_expression: count(*)}

  Returns one row with both totals when they differ.
-#}
{% test rss_kpi_totals_match(model, expression, to, to_expression='count(*)', model_where='1 = 1', to_where='1 = 1') %}
select a.total as model_total, b.total as reference_total
from (select coalesce({{ expression }}, 0) as total from {{ model }} where {{ model_where }}) a
cross join (select coalesce({{ to_expression }}, 0) as total from {{ to }} where {{ to_where }}) b
where a.total <> b.total
{% endtest %}
