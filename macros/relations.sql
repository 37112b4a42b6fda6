{#- Looking up relations that may not exist (optional source tables, the package's own earlier output). -#}

{% macro rss_node_relation(name) -%}
  {#- the existing relation of a model or seed (of any package) called `name`, or none; never a DAG edge -#}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set found = [] -%}
  {%- for node in graph.nodes.values() -%}
    {%- if node.resource_type in ('model', 'seed') and node.name == name and not found -%}
      {%- do found.append(node) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if not found -%}{{ return(none) }}{%- endif -%}
  {{ return(rasa_semantic_schema.rss_get_relation(found[0].database, found[0].schema, found[0].alias)) }}
{%- endmacro %}

{% macro rss_source_relation(table_name, required=false) -%}
  {#- the relation of source table events.<table_name> if it exists, else none (or an error when required) -#}
  {%- set declared = source('events', table_name) -%}
  {%- if not execute -%}{{ return(declared) }}{%- endif -%}
  {%- set relation = rasa_semantic_schema.rss_get_relation(declared.database, declared.schema, declared.identifier) -%}
  {%- if relation is none and required -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: required source table " ~ declared ~ " does not exist. Check var 'source_schema_prefix' (now '" ~ rasa_semantic_schema.rss_source_prefix() ~ "') and that the loader has written schema " ~ declared.schema ~ "; `dbt test -s tag:prerequisites` lists what is missing.") }}
  {%- endif -%}
  {{ return(relation) }}
{%- endmacro %}

{% macro rss_columns(relation) -%}
  {#- lower-cased column names of a relation (empty when it does not exist or at parse time) -#}
  {{ return(rasa_semantic_schema.rss_source_column_types(relation).keys() | list) }}
{%- endmacro %}

{% macro rss_column_or_null(columns, name, type, alias='') -%}
  {#- `alias.name` when the column exists, else a NULL of the given type (missing optional columns) -#}
  {%- if name | lower in columns -%}
    {{- (alias ~ '.' if alias else '') ~ adapter.quote(name | lower) -}}
  {%- else -%}
    cast(null as {{ type }})
  {%- endif -%}
{%- endmacro %}

{% macro rss_is_full_run() -%}
  {#- true on --full-refresh, and when the views were never built (first run): then every load is processed -#}
  {%- if flags.FULL_REFRESH -%}{{ return(true) }}{%- endif -%}
  {{ return(rasa_semantic_schema.rss_node_relation('event_sequence') is none) }}
{%- endmacro %}

{#- Introspection goes through these two dispatched macros, so that an offline compile (macros/dialect checks
    without a warehouse connection) can answer them from a fixture instead of the warehouse. -#}
{% macro rss_get_relation(database, schema, identifier) -%}
  {{ return(adapter.dispatch('rss_get_relation', 'rasa_semantic_schema')(database, schema, identifier)) }}
{%- endmacro %}

{% macro default__rss_get_relation(database, schema, identifier) -%}
  {{ return(adapter.get_relation(database=database, schema=schema, identifier=identifier)) }}
{%- endmacro %}

{% macro rss_get_columns(relation) -%}
  {{ return(adapter.dispatch('rss_get_columns', 'rasa_semantic_schema')(relation)) }}
{%- endmacro %}

{% macro default__rss_get_columns(relation) -%}
  {{ return(adapter.get_columns_in_relation(relation)) }}
{%- endmacro %}
