{#- Physical design per warehouse, one dispatched macro: config keys for a model (partitioning, clustering,
    distribution, sort keys, indexes). Each adapter's implementation lives in macros/dialect/<adapter>.sql;
    adapters ignore the keys of the others. -#}

{% macro rss_physical(model_name) -%}
  {{ return(adapter.dispatch('rss_physical', 'rasa_semantic_schema')(model_name)) }}
{%- endmacro %}

{% macro default__rss_physical(model_name) -%}
  {{ return({}) }}
{%- endmacro %}
