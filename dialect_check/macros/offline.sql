{#- Offline answers to everything rasa_semantic_schema asks the warehouse while compiling.

    vars the checker passes (scripts/check_dialects.py):
      dialect_check_layout   {schema suffix: {table: [column, ...]}}: the source layout rasa_tracker_loader writes
                             (source_layout.json), the suffixes being `event` and `model` of var source_schema_prefix
      dialect_check_seeds    {seed name: [{column: value}, ...]}: the rows of the seeds, read from their CSV files
    The branch is the --full-refresh flag: with it, none of the package's models exists yet (a first run, or a full
    refresh: every model renders its full-refresh branch); without it, all of them exist (an incremental run:
    is_incremental() is true for the incremental models). Seeds count as loaded in both. -#}

{% macro dialect_check_source_columns(schema, identifier) -%}
  {#- the columns of a source table of the fixture, or none when the fixture has no such table -#}
  {%- set layout = var('dialect_check_layout', {}) -%}
  {%- set prefix = rasa_semantic_schema.rss_source_prefix() -%}
  {%- for suffix, tables in layout.items() -%}
    {%- if (prefix ~ '_' ~ suffix) | lower == schema | lower -%}
      {%- for table, columns in tables.items() -%}
        {%- if table | lower == identifier | lower -%}{{ return(columns) }}{%- endif -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(none) }}
{%- endmacro %}

{% macro dialect_check_node(schema, identifier) -%}
  {#- the model or seed of the graph stored as schema.identifier, or none -#}
  {%- for node in graph.nodes.values() -%}
    {%- if node.resource_type in ('model', 'seed') and (node.schema | lower) == (schema | lower)
          and ((node.alias or node.name) | lower) == (identifier | lower) -%}
      {{ return(node) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(none) }}
{%- endmacro %}

{% macro default__rss_get_relation(database, schema, identifier) -%}
  {%- set relation = api.Relation.create(database=database, schema=schema, identifier=identifier, type='table') -%}
  {%- if dialect_check_source_columns(schema, identifier) is not none -%}{{ return(relation) }}{%- endif -%}
  {%- set node = dialect_check_node(schema, identifier) -%}
  {%- if node is none -%}{{ return(none) }}{%- endif -%}
  {%- if node.resource_type == 'seed' or not flags.FULL_REFRESH -%}{{ return(relation) }}{%- endif -%}
  {{ return(none) }}
{%- endmacro %}

{% macro default__rss_get_columns(relation) -%}
  {%- set columns = [] -%}
  {%- for name in (dialect_check_source_columns(relation.schema, relation.identifier) or []) -%}
    {%- do columns.append(api.Column.create(name, 'string')) -%}
  {%- endfor -%}
  {{ return(columns) }}
{%- endmacro %}

{% macro default__rss_seed_rows(seed_names, columns) -%}
  {%- set seeds = var('dialect_check_seeds', {}) -%}
  {%- set rows = [] -%}
  {%- for seed_name in seed_names -%}
    {%- for row in seeds.get(seed_name, []) -%}
      {%- set values = [] -%}
      {%- for c in columns -%}{%- do values.append(row.get(c)) -%}{%- endfor -%}
      {%- do rows.append(values) -%}
    {%- endfor -%}
  {%- endfor -%}
  {{ return(rows) }}
{%- endmacro %}

{#- dbt's own is_incremental() asks adapter.get_relation (a warehouse query); this one asks the fixture. A root
    project's macro takes precedence over dbt's global one, also for the package's models and pre-hooks. -#}
{% macro is_incremental() -%}
  {%- if not execute -%}{{ return(false) }}{%- endif -%}
  {%- set relation = rasa_semantic_schema.rss_get_relation(this.database, this.schema, this.identifier) -%}
  {{ return(relation is not none and model.config.materialized == 'incremental' and not should_full_refresh()) }}
{%- endmacro %}

{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ rasa_semantic_schema.rss_generate_schema_name(custom_schema_name, node) }}
{%- endmacro %}
