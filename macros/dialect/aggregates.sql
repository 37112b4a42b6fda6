{#- Order-aware aggregates of a group-by: the first / last non-NULL text value by a position (an integer that is
    unique within the group, e.g. sequence_nr). A window per group (min/max of the position, then a join back) costs
    a second pass over the rows; these are one aggregate each. -#}

{% macro rss_first_text_by(value, position) -%}
  {{ return(adapter.dispatch('rss_first_text_by', 'rasa_semantic_schema')(value, position)) }}
{%- endmacro %}

{% macro rss_last_text_by(value, position) -%}
  {{ return(adapter.dispatch('rss_last_text_by', 'rasa_semantic_schema')(value, position)) }}
{%- endmacro %}

{#- PostgreSQL, Redshift: the position, zero-padded to 12 digits, prefixed to the value; min/max of that, prefix cut
    off again. Positions are >= 0 and below 10^12. -#}
{% macro rss_position_prefixed(value, position) -%}
  {{ return('case when ' ~ value ~ ' is not null then '
            ~ dbt.concat(['lpad(cast(' ~ position ~ ' as ' ~ rasa_semantic_schema.rss_type_text() ~ "), 12, '0')", value])
            ~ ' end') }}
{%- endmacro %}

{% macro default__rss_first_text_by(value, position) -%}
  {{ return('substring(min(' ~ rasa_semantic_schema.rss_position_prefixed(value, position) ~ '), 13)') }}
{%- endmacro %}

{% macro default__rss_last_text_by(value, position) -%}
  {{ return('substring(max(' ~ rasa_semantic_schema.rss_position_prefixed(value, position) ~ '), 13)') }}
{%- endmacro %}

{% macro duckdb__rss_first_text_by(value, position) -%}
  {{ return('arg_min(' ~ value ~ ', case when ' ~ value ~ ' is not null then ' ~ position ~ ' end)') }}
{%- endmacro %}

{% macro duckdb__rss_last_text_by(value, position) -%}
  {{ return('arg_max(' ~ value ~ ', case when ' ~ value ~ ' is not null then ' ~ position ~ ' end)') }}
{%- endmacro %}

{% macro bigquery__rss_first_text_by(value, position) -%}
  {{ return('array_agg(' ~ value ~ ' ignore nulls order by ' ~ position ~ ' limit 1)[safe_offset(0)]') }}
{%- endmacro %}

{% macro bigquery__rss_last_text_by(value, position) -%}
  {{ return('array_agg(' ~ value ~ ' ignore nulls order by ' ~ position ~ ' desc limit 1)[safe_offset(0)]') }}
{%- endmacro %}
