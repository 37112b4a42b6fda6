{#- SQL syntax that differs between warehouses (implementations per adapter in macros/dialect/<adapter>.sql). -#}

{% macro rss_no_rows() -%}
  {#- the tail of a select without FROM that makes it return no rows: `select cast(null as ...) as x {{ rss_no_rows() }}` -#}
  {{ return(adapter.dispatch('rss_no_rows', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__rss_no_rows() -%}
  {{ return('where 1 = 0') }}
{%- endmacro %}
