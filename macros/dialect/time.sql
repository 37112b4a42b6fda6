{#- Time arithmetic that must give the same answer on every warehouse. -#}

{% macro rss_gap_exceeded(previous_ts, ts, seconds) -%}
  {#- true when `ts` is more than `seconds` after `previous_ts`, exact to the microsecond (a datediff in seconds
      counts second boundaries, which differs between engines for fractional seconds) -#}
  {{ return(adapter.dispatch('rss_gap_exceeded', 'rasa_semantic_schema')(previous_ts, ts, seconds)) }}
{%- endmacro %}

{% macro default__rss_gap_exceeded(previous_ts, ts, seconds) -%}
  {{ return(ts ~ ' > ' ~ dbt.dateadd('second', seconds, previous_ts)) }}
{%- endmacro %}
