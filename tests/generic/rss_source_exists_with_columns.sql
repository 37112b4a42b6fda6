{#-
  rss_source_exists_with_columns: the prerequisite gate. Put it on a source table with tag `prerequisites`:

    tables:
      - name: event_user
        data_tests:
          - rasa_semantic_schema.rss_source_exists_with_columns:
              columns: [_record_hash, _load_id, sender_id, timestamp]
              config: {tags: [prerequisites]}

  At run time it asks the adapter whether the source schema and table exist and which of `columns` the table lacks
  (case-insensitive). When something is missing it stops with a compile error that names the schema, the table and
  the missing columns, so `dbt test -s tag:prerequisites` exits non-zero before a run starts. Otherwise it returns
  no rows. With `optional: true` a missing table passes (the package reads it as empty) and only the columns of an
  existing one are checked.
-#}
{% test rss_source_exists_with_columns(model, columns=[], optional=false) %}
{%- if execute -%}
  {%- if model.identifier is not defined or model.schema is not defined -%}
    {{ exceptions.raise_compiler_error("rss_source_exists_with_columns needs a source table (a relation), got: " ~ model ~ ". A `where` config is not supported on this test.") }}
  {%- endif -%}
  {%- set prefix = var('source_schema_prefix', 'rasa') -%}
  {%- set hint = "Check var 'source_schema_prefix' (now '" ~ prefix ~ "'; the package reads schemas " ~ prefix ~ "_event and " ~ prefix ~ "_model) and run the loader first: python -m rasa_tracker_loader --destination ... --schema-prefix " ~ prefix ~ " INPUT..." -%}
  {%- set column_hint = "The package reads the layout that rasa_tracker_loader writes (README_SOURCE_SCHEMA.md); load the trackers with it, or check var 'source_schema_prefix' (now '" ~ prefix ~ "')." -%}
  {%- set table_name = model.schema ~ "." ~ model.identifier -%}
  {%- set relation = rasa_semantic_schema.rss_get_relation(model.database, model.schema, model.identifier) -%}
  {%- if relation is none and optional -%}
    {#- an optional table may be missing (the package reads it as empty); its columns are checked when it exists -#}
  {%- elif relation is none -%}
    {%- if not adapter.check_schema_exists(model.database, model.schema) -%}
      {{ exceptions.raise_compiler_error("rasa_semantic_schema prerequisites: schema " ~ model.schema ~ " does not exist" ~ (" in database " ~ model.database if model.database else "") ~ ", so the required table " ~ table_name ~ " is missing. " ~ hint) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema prerequisites: required table " ~ table_name ~ " does not exist (schema " ~ model.schema ~ " exists). " ~ hint) }}
  {%- endif -%}
  {%- set present = [] -%}
  {%- set missing = [] -%}
  {%- if relation is not none -%}
    {%- for c in rasa_semantic_schema.rss_get_columns(relation) -%}
      {%- do present.append(c.name | lower) -%}
    {%- endfor -%}
    {%- for c in ([columns] if columns is string else columns) -%}
      {%- if (c | lower) not in present -%}{%- do missing.append(c) -%}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if missing -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema prerequisites: table " ~ table_name ~ " lacks the required column(s) " ~ missing | join(', ') ~ " (it has: " ~ (present | join(', ') if present else 'no columns') ~ "). " ~ column_hint) }}
  {%- endif -%}
{%- endif %}
select 1 as ok {{ rasa_semantic_schema.rss_no_rows() }}
{% endtest %}
