{#- Types and conversions that differ between warehouses. -#}

{% macro rss_type_text() -%}
  {{ return(adapter.dispatch('rss_type_text', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__rss_type_text() -%}
  {{ return(dbt.type_string()) }}
{%- endmacro %}

{% macro rss_type_timestamp() -%}
  {{ return(adapter.dispatch('rss_type_timestamp', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__rss_type_timestamp() -%}
  {{ return(dbt.type_timestamp()) }}
{%- endmacro %}

{% macro rss_type_float() -%}
  {#- a double-precision float (intent and action confidences) -#}
  {{ return(adapter.dispatch('rss_type_float', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__rss_type_float() -%}
  {#- `float` is double precision on PostgreSQL and Redshift, FLOAT64 on BigQuery -#}
  {{ return(dbt.type_float()) }}
{%- endmacro %}

{% macro duckdb__rss_type_float() -%}
  {#- FLOAT is a 4-byte REAL in DuckDB: confidences would lose digits and differ from the other warehouses -#}
  {{ return('double') }}
{%- endmacro %}

{% macro rss_to_timestamp(expr) -%}
  {#- source timestamps as a timestamp without time zone, in UTC -#}
  {{ return(adapter.dispatch('rss_to_timestamp', 'rasa_semantic_schema')(expr)) }}
{%- endmacro %}

{% macro default__rss_to_timestamp(expr) -%}
  {{ return('cast(' ~ expr ~ ' as ' ~ rasa_semantic_schema.rss_type_timestamp() ~ ')') }}
{%- endmacro %}

{% macro duckdb__rss_to_timestamp(expr) -%}
  {#- dlt writes timestamptz; casting it to timestamp in DuckDB would use the session time zone -#}
  {{ return("cast(timezone('UTC', " ~ expr ~ ") as timestamp)") }}
{%- endmacro %}

{% macro rss_current_timestamp() -%}
  {{ return(adapter.dispatch('rss_current_timestamp', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__rss_current_timestamp() -%}
  {{ return('cast(' ~ dbt.current_timestamp() ~ ' as ' ~ rasa_semantic_schema.rss_type_timestamp() ~ ')') }}
{%- endmacro %}
