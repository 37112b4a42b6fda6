{#-
  rss_at_least_one_value: the column holds at least one non-NULL value (proves that a derived key is generated at
  all). Fails with a single row when every value is NULL, or the model is empty.
-#}
{% test rss_at_least_one_value(model, column_name) %}
{%- set value = adapter.quote(column_name) if (column_name | lower) == 'timestamp' else column_name -%}
select non_null_values
from (
    select count({{ value }}) as non_null_values
    from {{ model }}
) counted
where non_null_values = 0
{% endtest %}
