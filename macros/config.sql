{#- Configuration read from vars, validated once so that no var can inject SQL. -#}

{% macro rss_source_prefix() -%}
  {%- set value = var('source_schema_prefix', 'rasa') | string | trim -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(value, 'source_schema_prefix')) }}
{%- endmacro %}

{% macro rss_dest_prefix() -%}
  {%- set value = (var('dest_schema_prefix', '') or '') | string | trim -%}
  {%- if value == '' -%}{{ return(rasa_semantic_schema.rss_source_prefix()) }}{%- endif -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(value, 'dest_schema_prefix')) }}
{%- endmacro %}

{% macro rss_validate_identifier(value, var_name) -%}
  {#- identifiers that become table, schema or column names: letters, digits and underscores only -#}
  {%- set value = value | string -%}
  {%- if not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', value) -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: var '" ~ var_name ~ "' must be an identifier (letters, digits, underscores; not starting with a digit), got: " ~ value) }}
  {%- endif -%}
  {{ return(value) }}
{%- endmacro %}

{% macro rss_user_id_column() -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(var('user_id', 'sender_id') | trim, 'user_id') | lower) }}
{%- endmacro %}

{% macro rss_external_session_id_column() -%}
  {{ return(rasa_semantic_schema.rss_validate_identifier(var('external_session_id', 'sender_id') | trim, 'external_session_id') | lower) }}
{%- endmacro %}

{% macro rss_gap_minutes() -%}
  {%- set value = var('compat_old_session_gap_minutes', 5256000) -%}
  {%- if value is not number and not (value | string | trim).isdigit() -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: var 'compat_old_session_gap_minutes' must be a whole number of minutes, got: " ~ value) }}
  {%- endif -%}
  {{ return(value | int) }}
{%- endmacro %}

{% macro rss_literal(value) -%}
  {{ return(adapter.dispatch('rss_literal', 'rasa_semantic_schema')(value)) }}
{%- endmacro %}

{% macro default__rss_literal(value) -%}
  {{ return("'" ~ (value | string).replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro rss_literal_list(values) -%}
  {%- set quoted = [] -%}
  {%- for v in values -%}{%- do quoted.append(rasa_semantic_schema.rss_literal(v)) -%}{%- endfor -%}
  {{ return(quoted | join(', ')) }}
{%- endmacro %}
