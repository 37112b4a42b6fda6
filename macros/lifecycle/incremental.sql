{#- How the views are kept equal to a full refresh: each run recomputes every sender of every affected user
    (stg_sender_ids) and replaces all of their rows: delete them (pre-hook), then insert the recomputed rows.
    Rows of renumbered sessions or of a user id that changed cannot survive as orphans. -#}

{% macro rss_incremental_strategy() -%}
  {{ return(adapter.dispatch('rss_incremental_strategy', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__rss_incremental_strategy() -%}
  {{ return('append') }}
{%- endmacro %}

{% macro rss_delete_affected(key='sender_id') -%}
  {#- pre-hook of every view: on an incremental run, remove the rows this run recomputes -#}
  {%- if is_incremental() -%}
    {%- set affected = ref('stg_sender_ids') -%}
    {%- if key == 'user_id' -%}
      {{ rasa_semantic_schema.rss_delete_rows(this, 'user_id',
           'select user_id from ' ~ affected
           ~ ' union all select previous_user_id from ' ~ affected ~ ' where previous_user_id is not null'
           ~ ' union all select pending_user_id from ' ~ affected ~ ' where pending_user_id is not null') }}
    {%- else -%}
      {{ rasa_semantic_schema.rss_delete_rows(this, key, 'select ' ~ key ~ ' from ' ~ affected) }}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}

{% macro rss_delete_rows(relation, column, keys_sql) -%}
  {#- the statement that deletes the rows of `relation` whose `column` is in `keys_sql`, a select of one column
      named `column` -#}
  {{ return(adapter.dispatch('rss_delete_rows', 'rasa_semantic_schema')(relation, column, keys_sql)) }}
{%- endmacro %}

{% macro default__rss_delete_rows(relation, column, keys_sql) -%}
  {{ return('delete from ' ~ relation ~ ' where ' ~ column ~ ' in (' ~ keys_sql ~ ')') }}
{%- endmacro %}

{% macro rss_view_config(model_name, key='sender_id') -%}
  {#- the config of every incremental view: strategy, the pre-hook that deletes the recomputed rows (by `key`),
      and the warehouse's physical design -#}
  {%- set cfg = {
      'materialized': 'incremental',
      'incremental_strategy': rasa_semantic_schema.rss_incremental_strategy(),
      'pre_hook': "{{ rasa_semantic_schema.rss_delete_affected('" ~ key ~ "') }}",
  } -%}
  {%- do cfg.update(rasa_semantic_schema.rss_physical(model_name)) -%}
  {{ return(cfg) }}
{%- endmacro %}
