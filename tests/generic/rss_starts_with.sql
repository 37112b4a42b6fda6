{#-
  rss_starts_with: the lowest value of the column in every partition is one of `allowed`. Returns one row per
  partition whose minimum is not allowed (or NULL: the partition has no value at all).

    columns:
      - name: interaction_nr
        data_tests:
          - rasa_semantic_schema.rss_starts_with:
              partition_by: session_id       # a column or a list of columns
              allowed: [0, 1]                # numbers are compared as numbers, strings as quoted literals
-#}
{% test rss_starts_with(model, column_name, partition_by, allowed=[0, 1]) %}
{%- set partition_cols = [partition_by] if partition_by is string else partition_by -%}
{%- set ns = namespace(partition=[], allowed=[]) -%}
{%- for c in partition_cols -%}
  {%- do ns.partition.append(adapter.quote(c) if (c | lower) == 'timestamp' else c) -%}
{%- endfor -%}
{%- for v in ([allowed] if (allowed is string or allowed is number) else allowed) -%}
  {%- do ns.allowed.append(v | string if v is number else rasa_semantic_schema.rss_literal(v)) -%}
{%- endfor -%}
{%- if not ns.allowed -%}
  {{ exceptions.raise_compiler_error("rss_starts_with on " ~ model ~ "." ~ column_name ~ ": `allowed` must list at least one value") }}
{%- endif -%}
{%- set value = adapter.quote(column_name) if (column_name | lower) == 'timestamp' else column_name -%}

with starts as (
    select
        {% for c in ns.partition %}{{ c }},
        {% endfor -%}
        min({{ value }}) as first_value
    from {{ model }}
    group by {{ ns.partition | join(', ') }}
)

select *
from starts
where first_value is null
   or first_value not in ({{ ns.allowed | join(', ') }})
{% endtest %}
