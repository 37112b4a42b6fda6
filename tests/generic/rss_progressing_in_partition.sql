{#-
  rss_progressing_in_partition: within each partition, ordered by `order_by`, the difference between a row's value
  and the previous row's value lies in [min_diff, max_diff]. Returns the rows that break the rule.

    columns:
      - name: session_nr
        data_tests:
          - rasa_semantic_schema.rss_progressing_in_partition:
              partition_by: user_id          # a column or a list of columns
              order_by: session_nr           # a column or a list of columns (default: the tested column)
              min_diff: 1
              max_diff: 1

  The first row of each partition has no previous row and always passes (check the start with rss_starts_with).
  A NULL value fails when it follows a value, and the value after a NULL is compared with nothing (passes).
  A column called `timestamp` (a reserved word) is quoted with the adapter's quote character.
-#}
{% test rss_progressing_in_partition(model, column_name, partition_by, order_by=none, min_diff=0, max_diff=1) %}
{%- if min_diff is not number or max_diff is not number -%}
  {{ exceptions.raise_compiler_error("rss_progressing_in_partition on " ~ model ~ "." ~ column_name ~ ": min_diff and max_diff must be numbers, got " ~ min_diff ~ " and " ~ max_diff) }}
{%- endif -%}
{%- set partition_cols = [partition_by] if partition_by is string else partition_by -%}
{%- set order_cols = [column_name] if order_by is none else ([order_by] if order_by is string else order_by) -%}
{%- set ns = namespace(partition=[], order=[], shown=[]) -%}
{%- for c in partition_cols -%}
  {%- do ns.partition.append(adapter.quote(c) if (c | lower) == 'timestamp' else c) -%}
{%- endfor -%}
{%- for c in order_cols -%}
  {%- do ns.order.append(adapter.quote(c) if (c | lower) == 'timestamp' else c) -%}
{%- endfor -%}
{%- set value = adapter.quote(column_name) if (column_name | lower) == 'timestamp' else column_name -%}
{#- failing rows show the partition and order columns (once each) next to the two values -#}
{%- for c in ns.partition + ns.order -%}
  {%- if c not in ns.shown -%}{%- do ns.shown.append(c) -%}{%- endif -%}
{%- endfor -%}

with ordered as (
    select
        {% for c in ns.shown %}{{ c }},
        {% endfor -%}
        {{ value }} as current_value,
        lag({{ value }}) over (partition by {{ ns.partition | join(', ') }} order by {{ ns.order | join(', ') }}) as previous_value,
        row_number() over (partition by {{ ns.partition | join(', ') }} order by {{ ns.order | join(', ') }}) as position_in_partition
    from {{ model }}
)

select *
from ordered
where position_in_partition > 1
  and previous_value is not null
  and (current_value is null
       or current_value - previous_value < {{ min_diff }}
       or current_value - previous_value > {{ max_diff }})
{% endtest %}
