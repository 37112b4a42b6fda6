{#-
  rss_one_value_per_partition: every partition holds exactly one value of the column; NULL counts as a value of its
  own, so a partition with 'a' and NULL fails. Returns one row per failing partition with its number of values.

    columns:
      - name: user_id
        data_tests:
          - rasa_semantic_schema.rss_one_value_per_partition:
              partition_by: sender_id        # a column or a list of columns
-#}
{% test rss_one_value_per_partition(model, column_name, partition_by) %}
{%- set partition_cols = [partition_by] if partition_by is string else partition_by -%}
{%- set ns = namespace(partition=[]) -%}
{%- for c in partition_cols -%}
  {%- do ns.partition.append(adapter.quote(c) if (c | lower) == 'timestamp' else c) -%}
{%- endfor -%}
{%- set value = adapter.quote(column_name) if (column_name | lower) == 'timestamp' else column_name -%}

with values_per_partition as (
    select
        {% for c in ns.partition %}{{ c }},
        {% endfor -%}
        count(distinct {{ value }}) + max(case when {{ value }} is null then 1 else 0 end) as distinct_values,
        min({{ value }}) as min_value,
        max({{ value }}) as max_value
    from {{ model }}
    group by {{ ns.partition | join(', ') }}
)

select *
from values_per_partition
where distinct_values <> 1
{% endtest %}
