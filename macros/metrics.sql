{#-
  Count metrics and story intents, from vars and from seeds.

  `count_metrics` accepts two forms, which may be mixed:
    1.x form:      - intents_frustrated: [react_frustrated]     (kind from the name prefix: intent… / action…)
    explicit form: - {name: handoffs, kind: action, values: [action_human_handoff]}
  kinds: intent (a user message's intent), action (an action event), utterance (a bot message's response name).
  Seeds listed in var `count_metrics_seeds` (columns metric_name, kind, value) add metrics or values.
-#}

{% macro rss_metric_kinds() -%}
  {{ return({'intent': 'user', 'action': 'action', 'utterance': 'bot'}) }}
{%- endmacro %}

{% macro rss_seed_rows(seed_names, columns) -%}
  {#- rows of the seeds named, read at execution time; a seed that was not built yet counts as empty.
      Dispatched, so that an offline compile (dialect_check/) can answer it without a warehouse. -#}
  {{ return(adapter.dispatch('rss_seed_rows', 'rasa_semantic_schema')(seed_names, columns)) }}
{%- endmacro %}

{% macro default__rss_seed_rows(seed_names, columns) -%}
  {%- set rows = [] -%}
  {%- if execute -%}
    {%- for seed_name in seed_names -%}
      {%- set relation = rasa_semantic_schema.rss_node_relation(seed_name) -%}
      {%- if relation is not none -%}
        {%- set result = run_query('select ' ~ columns | join(', ') ~ ' from ' ~ relation) -%}
        {%- for row in result.rows -%}{%- do rows.append(row) -%}{%- endfor -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(rows) }}
{%- endmacro %}

{% macro rss_metric_reserved_names() -%}
  {#- metric names whose {name}_count / {name}_session_id columns the views already have (interactions, sessions) -#}
  {{ return(['events', 'bot_messages', 'actions', 'interactions', 'distinct_story_intent', 'bounced']) }}
{%- endmacro %}

{% macro rss_var_metric_entries() -%}
  {#- {'entries': the metrics var count_metrics defines (name, kind, values, where from), 'problems': what is wrong
      with them (its shape, names, kinds)}. rss_check_vars reports the problems while dbt parses. -#}
  {%- set entries = [] -%}
  {%- set problems = [] -%}
  {%- set configured = var('count_metrics', []) or [] -%}
  {%- if configured is string or configured is mapping or configured is not iterable -%}
    {{ return({'entries': [], 'problems': ["var 'count_metrics' must be a list of {metric_name: [values]} maps or {name, kind, values} maps, got: " ~ rasa_semantic_schema.rss_shown(configured)]}) }}
  {%- endif -%}
  {%- for item in configured -%}
    {%- if item is mapping and 'name' in item -%}
      {%- if item['name'] is none -%}
        {%- do problems.append("var 'count_metrics': a metric of the explicit form has no name: " ~ rasa_semantic_schema.rss_shown(item)) -%}
      {%- else -%}
        {%- do entries.append({'name': item['name'], 'kind': item.get('kind'), 'values': item.get('values', []), 'source': "var 'count_metrics'", 'var': 'count_metrics'}) -%}
      {%- endif -%}
    {%- elif item is mapping -%}
      {%- for name, values in item.items() -%}
        {%- set n = name | string | lower -%}
        {%- set kind = 'intent' if n.startswith('intent') else ('action' if n.startswith('action') else none) -%}
        {%- if kind is none -%}
          {%- do problems.append("var 'count_metrics': metric " ~ rasa_semantic_schema.rss_shown(name) ~ " uses the 1.x form, whose kind comes from the name prefix, but the name starts with neither 'intent' nor 'action'. Rename it or use the explicit form {name: ..., kind: intent|action|utterance, values: [...]}") -%}
        {%- else -%}
          {%- do entries.append({'name': name, 'kind': kind, 'values': values, 'source': "var 'count_metrics'", 'var': 'count_metrics'}) -%}
        {%- endif -%}
      {%- endfor -%}
    {%- else -%}
      {%- do problems.append("var 'count_metrics' must be a list of {metric_name: [values]} maps or {name, kind, values} maps, got: " ~ rasa_semantic_schema.rss_shown(item)) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- for e in entries -%}
    {%- do problems.append(rasa_semantic_schema.rss_metric_entry_problem(e)) -%}
  {%- endfor -%}
  {{ return({'entries': entries, 'problems': problems | select | list}) }}
{%- endmacro %}

{% macro rss_metric_entry_problem(e) -%}
  {#- '' when a metric's name is an identifier that does not clash with the views' columns and its kind is known -#}
  {%- set raw = e['name'] | string | trim -%}
  {%- set problem = rasa_semantic_schema.rss_identifier_problem(raw, e['var']) -%}
  {%- if problem -%}{{ return(problem) }}{%- endif -%}
  {%- set name = raw | lower -%}
  {%- if name in rasa_semantic_schema.rss_metric_reserved_names() -%}
    {{ return("metric '" ~ name ~ "' (" ~ e['source'] ~ "): its columns " ~ name ~ "_count / " ~ name ~ "_session_id would clash with the views' own columns; choose another name") }}
  {%- endif -%}
  {%- if name | length > 52 -%}
    {{ return("metric '" ~ name ~ "' (" ~ e['source'] ~ "): the name is longer than 52 characters (with _session_id more than PostgreSQL's 63); choose a shorter one") }}
  {%- endif -%}
  {%- set kind = (e['kind'] or '') | string | trim | lower -%}
  {%- if kind not in rasa_semantic_schema.rss_metric_kinds() -%}
    {{ return("metric '" ~ name ~ "' (" ~ e['source'] ~ ") has kind " ~ rasa_semantic_schema.rss_shown(kind) ~ "; the kind must be one of intent, action, utterance") }}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}

{% macro rss_count_metrics() -%}
  {%- set kinds = rasa_semantic_schema.rss_metric_kinds() -%}
  {%- set metrics = [] -%}
  {%- set by_name = {} -%}
  {%- set from_var = rasa_semantic_schema.rss_var_metric_entries() -%}
  {%- if from_var['problems'] -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: " ~ from_var['problems'][0]) }}
  {%- endif -%}
  {%- set entries = from_var['entries'] -%}
  {%- for seed_name in rasa_semantic_schema.rss_seed_names('count_metrics_seeds', ['rasa_count_metrics']) -%}
    {%- for row in rasa_semantic_schema.rss_seed_rows([seed_name], ['metric_name', 'kind', 'value']) -%}
      {%- set e = {'name': row[0], 'kind': row[1], 'values': [row[2]], 'source': 'seed ' ~ seed_name ~ " of var 'count_metrics_seeds'", 'var': 'count_metrics_seeds (seed ' ~ seed_name ~ ', column metric_name)'} -%}
      {%- set problem = rasa_semantic_schema.rss_metric_entry_problem(e) -%}
      {%- if problem -%}{{ exceptions.raise_compiler_error("rasa_semantic_schema: " ~ problem) }}{%- endif -%}
      {%- do entries.append(e) -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- for e in entries -%}
    {%- set name = e['name'] | string | trim | lower -%}
    {%- set kind = (e['kind'] or '') | string | trim | lower -%}
    {%- set values = e['values'] if (e['values'] is iterable and e['values'] is not string and e['values'] is not mapping) else [e['values']] -%}
    {%- if name in by_name -%}
      {%- if by_name[name]['kind'] != kind -%}
        {{ exceptions.raise_compiler_error("rasa_semantic_schema: metric '" ~ name ~ "' is defined with two kinds: " ~ by_name[name]['kind'] ~ " and " ~ kind ~ " (" ~ e['source'] ~ ")") }}
      {%- endif -%}
      {%- for v in values -%}{%- if v is not none and (v | string) not in by_name[name]['values'] -%}{%- do by_name[name]['values'].append(v | string) -%}{%- endif -%}{%- endfor -%}
    {%- else -%}
      {%- set metric = {'name': name, 'kind': kind, 'event': kinds[kind], 'values': []} -%}
      {%- for v in values -%}{%- if v is not none and (v | string) not in metric['values'] -%}{%- do metric['values'].append(v | string) -%}{%- endif -%}{%- endfor -%}
      {%- do by_name.update({name: metric}) -%}
      {%- do metrics.append(metric) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(metrics) }}
{%- endmacro %}

{% macro rss_story_intents() -%}
  {#- the intent names only ever reach SQL as string literals (rss_literal) -#}
  {%- set intents = [] -%}
  {%- set configured = var('story_intents', []) or [] -%}
  {%- if configured is string -%}{%- set configured = configured.split(',') -%}{%- endif -%}
  {%- if configured is mapping or configured is not iterable -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: var 'story_intents' must be a list of intent names, got: " ~ rasa_semantic_schema.rss_shown(configured)) }}
  {%- endif -%}
  {%- for i in configured -%}
    {%- if i is not none and (i | string | trim) not in intents -%}{%- do intents.append(i | string | trim) -%}{%- endif -%}
  {%- endfor -%}
  {%- for row in rasa_semantic_schema.rss_seed_rows(rasa_semantic_schema.rss_seed_names('story_intents_seeds', ['rasa_story_intents']), ['intent']) -%}
    {%- if row[0] is not none and (row[0] | string | trim) not in intents -%}{%- do intents.append(row[0] | string | trim) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(intents) }}
{%- endmacro %}

{% macro rss_metric_count_columns(alias) -%}
  {#- one `{metric}_count` column per metric, counting the interaction's matching events; each preceded by a comma -#}
  {%- for m in rasa_semantic_schema.rss_count_metrics() %}
    , sum(case when {{ alias }}.event = '{{ m.event }}' and {{ alias }}.value in ({{ rasa_semantic_schema.rss_literal_list(m['values']) if m['values'] else 'null' }}) then 1 else 0 end) as {{ m.name }}_count
  {%- endfor -%}
{%- endmacro %}

{% macro rss_metric_sum_columns(alias) -%}
  {%- for m in rasa_semantic_schema.rss_count_metrics() %}
    , sum({{ alias }}.{{ m.name }}_count) as {{ m.name }}_count
  {%- endfor -%}
{%- endmacro %}

{% macro rss_metric_session_id_columns(alias) -%}
  {%- for m in rasa_semantic_schema.rss_count_metrics() %}
    , case when {{ alias }}.{{ m.name }}_count > 0 then {{ alias }}.session_id end as {{ m.name }}_session_id
  {%- endfor -%}
{%- endmacro %}

{% macro rss_metric_depends_on() -%}
  {#- makes every model that reads metric or story-intent seeds run after them. dbt renders this while it parses
      the project, before it sends anything to the warehouse: so it is also where every identifier and number var
      is checked (rss_check_vars, macros/config.sql) -#}
  {%- do rasa_semantic_schema.rss_check_vars() -%}
  {%- set lines = [] -%}
  {%- for s in (rasa_semantic_schema.rss_seed_names('count_metrics_seeds', ['rasa_count_metrics']) + rasa_semantic_schema.rss_seed_names('story_intents_seeds', ['rasa_story_intents'])) -%}
    {%- do lines.append('-- depends_on: ' ~ ref(s)) -%}
  {%- endfor -%}
  {{ return(lines | join('\n') ~ '\n') }}
{%- endmacro %}
