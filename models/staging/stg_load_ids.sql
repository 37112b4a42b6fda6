{{ config(rasa_semantic_schema.rss_physical('stg_load_ids')) }}
{#- The loads this run processes: committed loads (status 0 rows in the source `_loads`) that this destination has
    not processed yet (no status >= 1 row in its ledger, the `_loads` model). A full run takes every load. #}
{%- set loads = rasa_semantic_schema.rss_source_relation('_loads', required=true) -%}
{%- set ledger = rasa_semantic_schema.rss_node_relation('_loads') -%}
{%- set full = rasa_semantic_schema.rss_is_full_run() -%}

select distinct cast(l.load_id as {{ rasa_semantic_schema.rss_type_text() }}) as load_id
from {{ loads }} l
where l.status = 0
{%- if not full and ledger is not none %}
  and not exists (
    select 1 from {{ ledger }} p
    where p.load_id = l.load_id and p.status >= 1
  )
{%- endif %}
