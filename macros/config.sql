{#- Configuration read from vars, validated so that no var can inject SQL.

    Every var that becomes an identifier (schema prefixes, column names, metric names, seed names) must be one:
    letters, digits and underscores (rss_validate_identifier); every number must be a whole number; every other
    value (intents, actions, utterances) only ever reaches SQL as a string literal (rss_literal).

    rss_check_vars checks all identifier and number vars at once and stops with one compile error that lists every
    bad var. It runs while dbt parses the project (generate_schema_name calls it through rss_dest_prefix, and
    macros/metrics.sql through rss_metric_depends_on, for projects with a generate_schema_name of their own), so a
    bad var stops any dbt command before a single statement reaches the warehouse. That matters for
    source_schema_prefix above all: dbt itself puts the source schema (models/sources/sources.yml) into its
    introspection queries as it is. The macros that use a var check it again where they read it. -#}

{% macro rss_check_vars() -%}
  {%- set problems = [] -%}
  {%- for var_name, default in [('source_schema_prefix', 'rasa'), ('user_id', 'sender_id'), ('external_session_id', 'sender_id')] -%}
    {%- do problems.append(rasa_semantic_schema.rss_identifier_problem(var(var_name, default) | string | trim, var_name)) -%}
  {%- endfor -%}
  {%- set dest = (var('dest_schema_prefix', '') or '') | string | trim -%}
  {%- if dest != '' -%}{%- do problems.append(rasa_semantic_schema.rss_identifier_problem(dest, 'dest_schema_prefix')) -%}{%- endif -%}
  {%- do problems.append(rasa_semantic_schema.rss_gap_problem()) -%}
  {%- for var_name, default in [('count_metrics_seeds', ['rasa_count_metrics']), ('story_intents_seeds', ['rasa_story_intents']), ('kpi_settings_seeds', ['rasa_kpi_settings'])] -%}
    {%- do problems.extend(rasa_semantic_schema.rss_seed_names_checked(var_name, default)['problems']) -%}
  {%- endfor -%}
  {%- do problems.extend(rasa_semantic_schema.rss_var_metric_entries()['problems']) -%}
  {%- do problems.extend(rasa_semantic_schema.rss_kpi_var_problems()) -%}
  {%- set problems = problems | select | list -%}
  {%- if problems -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: invalid configuration (" ~ problems | length ~ " problem" ~ ("s" if problems | length > 1 else "") ~ "):\n  - " ~ problems | join("\n  - ")) }}
  {%- endif -%}
{%- endmacro %}

{% macro rss_source_prefix() -%}
  {%- set value = var('source_schema_prefix', 'rasa') | string | trim -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(value, 'source_schema_prefix')) }}
{%- endmacro %}

{% macro rss_dest_prefix() -%}
  {#- every var is checked first (rss_check_vars), the source prefix too when the destination has its own:
      generate_schema_name calls this for every model while dbt parses, before dbt lists the source schema -#}
  {%- do rasa_semantic_schema.rss_check_vars() -%}
  {%- set source_prefix = rasa_semantic_schema.rss_source_prefix() -%}
  {%- set value = (var('dest_schema_prefix', '') or '') | string | trim -%}
  {%- if value == '' -%}{{ return(source_prefix) }}{%- endif -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(value, 'dest_schema_prefix')) }}
{%- endmacro %}

{% macro rss_identifier_problem(value, var_name) -%}
  {#- '' for an identifier (letters, digits, underscores; not starting with a digit), else what is wrong -#}
  {%- if not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', value | string) -%}
    {{ return("var '" ~ var_name ~ "' must be an identifier (letters, digits, underscores; not starting with a digit), got: " ~ rasa_semantic_schema.rss_shown(value)) }}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}

{% macro rss_validate_identifier(value, var_name) -%}
  {#- identifiers that become table, schema or column names: letters, digits and underscores only -#}
  {%- set problem = rasa_semantic_schema.rss_identifier_problem(value, var_name) -%}
  {%- if problem -%}{{ exceptions.raise_compiler_error("rasa_semantic_schema: " ~ problem) }}{%- endif -%}
  {{ return(value | string) }}
{%- endmacro %}

{% macro rss_shown(value) -%}
  {#- a var value for an error message: on one line, between double quotes -#}
  {{ return('"' ~ (value | string).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n').replace('\r', '\\r') ~ '"') }}
{%- endmacro %}

{% macro rss_seed_names_checked(var_name, default) -%}
  {#- {'names': the seeds a var lists (a list, or one name / comma-separated names), 'problems': what is wrong} -#}
  {%- set configured = var(var_name, default) -%}
  {%- if configured is none -%}{%- set configured = [] -%}{%- endif -%}
  {%- if configured is string -%}{%- set configured = configured.split(',') -%}{%- endif -%}
  {%- if configured is mapping or configured is not iterable -%}
    {{ return({'names': [], 'problems': ["var '" ~ var_name ~ "' must be a list of seed names, got: " ~ rasa_semantic_schema.rss_shown(configured)]}) }}
  {%- endif -%}
  {%- set names = [] -%}
  {%- set problems = [] -%}
  {%- for s in configured -%}
    {%- set name = s | string | trim -%}
    {%- set problem = rasa_semantic_schema.rss_identifier_problem(name, var_name) -%}
    {%- if problem -%}{%- do problems.append(problem) -%}
    {%- elif name not in names -%}{%- do names.append(name) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return({'names': names, 'problems': problems}) }}
{%- endmacro %}

{% macro rss_seed_names(var_name, default) -%}
  {#- the seeds a var lists, each an identifier -#}
  {%- set checked = rasa_semantic_schema.rss_seed_names_checked(var_name, default) -%}
  {%- if checked['problems'] -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: " ~ checked['problems'][0]) }}
  {%- endif -%}
  {{ return(checked['names']) }}
{%- endmacro %}

{% macro rss_user_id_column() -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(var('user_id', 'sender_id') | trim, 'user_id') | lower) }}
{%- endmacro %}

{% macro rss_external_session_id_column() -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(var('external_session_id', 'sender_id') | trim, 'external_session_id') | lower) }}
{%- endmacro %}

{% macro rss_gap_problem() -%}
  {#- '' when var compat_old_session_gap_minutes is a whole number of minutes, 0 or more (a number, or a string of
      digits as --vars may give it), else what is wrong -#}
  {%- set value = var('compat_old_session_gap_minutes', 5256000) -%}
  {%- set ok = (value is number and value is not boolean and value == (value | int) and value >= 0)
               or (value is string and (value | trim).isdigit()) -%}
  {%- if not ok -%}
    {{ return("var 'compat_old_session_gap_minutes' must be a whole number of minutes (0 or more), got: " ~ rasa_semantic_schema.rss_shown(value)) }}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}

{% macro rss_gap_minutes() -%}
  {%- set problem = rasa_semantic_schema.rss_gap_problem() -%}
  {%- if problem -%}{{ exceptions.raise_compiler_error("rasa_semantic_schema: " ~ problem) }}{%- endif -%}
  {{ return(var('compat_old_session_gap_minutes', 5256000) | int) }}
{%- endmacro %}

{% macro rss_literal(value) -%}
  {{ return(adapter.dispatch('rss_literal', 'rasa_semantic_schema')(value)) }}
{%- endmacro %}

{% macro default__rss_literal(value) -%}
  {#- standard SQL: a quote is doubled; backslashes and newlines are ordinary characters (DuckDB; the dialects
      with backslash escapes have their own: macros/dialect/redshift.sql, bigquery.sql, and PostgreSQL below) -#}
  {{ return("'" ~ (value | string).replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro postgres__rss_literal(value) -%}
  {#- a value with a backslash becomes an escape string (E'...', backslash and quote doubled), which means the same
      whatever the server's standard_conforming_strings; a plain '...' would let a backslash escape the closing
      quote on a server where it is off -#}
  {%- set text = value | string -%}
  {%- if '\\' in text -%}
    {{ return("E'" ~ text.replace("\\", "\\\\").replace("'", "''") ~ "'") }}
  {%- endif -%}
  {{ return("'" ~ text.replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro rss_literal_list(values) -%}
  {%- set quoted = [] -%}
  {%- for v in values -%}{%- do quoted.append(rasa_semantic_schema.rss_literal(v)) -%}{%- endfor -%}
  {{ return(quoted | join(', ')) }}
{%- endmacro %}
