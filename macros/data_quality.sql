{% macro rss_dq_key_mismatches(referencing, referenced, key, missing, unused, column=none) -%}
  {#- For the data-quality tests (tests/singular/rss_dq_*): the values of column `key` that only one side has, as
      rows (<column, default key>, problem). `referencing` is a relation whose rows point to rows of `referenced` by
      `key` (its distinct values are read); `problem` is the text `missing` where `referenced` has no row for a value,
      and `unused` where no row of `referencing` points to a row of `referenced`. One scan of each relation. `key`
      and `column` are the tests' own constants, not vars. -#}
  {%- set sql -%}
    select
        coalesce(r.{{ key }}, d.{{ key }}) as {{ column or key }},
        case when d.{{ key }} is null then {{ rasa_semantic_schema.rss_literal(missing) }}
             else {{ rasa_semantic_schema.rss_literal(unused) }} end as problem
    from (select distinct {{ key }} from {{ referencing }}) r
    full outer join {{ referenced }} d on d.{{ key }} = r.{{ key }}
    where r.{{ key }} is null or d.{{ key }} is null
  {%- endset -%}
  {{ return(sql) }}
{%- endmacro %}

{% macro rss_dq_processed_loads() -%}
  {#- For the data-quality tests: the loads this destination has processed, a status >= 1 row in its `_loads` ledger -#}
  {{ return('select l.load_id from ' ~ ref('_loads') ~ ' l where l.status >= 1') }}
{%- endmacro %}
