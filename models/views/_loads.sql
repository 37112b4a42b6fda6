{{ config(materialized='incremental', incremental_strategy=rasa_semantic_schema.rss_incremental_strategy(),
          schema='event', full_refresh=false, tags=['rasa_semantic_schema', 'lifecycle']) }}
{{ config(rasa_semantic_schema.rss_physical('_loads')) }}
{#- The ledger of processed loads: {dest}_event._loads. With the destination prefix equal to the source prefix this
    IS the source `_loads` table, and status 1 rows are appended to it (as 1.x did); with another destination prefix
    it is that destination's own record, and the source schemas are never written.
    It refs every model that consumes the loads, so dbt builds it last and skips it when any of them failed:
    a failed run marks nothing. #}
-- depends_on: {{ ref('event_sequence') }}, {{ ref('interactions') }}, {{ ref('sessions') }}, {{ ref('senders') }}
-- depends_on: {{ ref('users') }}, {{ ref('user_messages') }}, {{ ref('bot_actions') }}, {{ ref('actions') }}
-- depends_on: {{ ref('slots') }}, {{ ref('models') }}, {{ ref('_sender_users') }}
-- depends_on: {{ ref('message_latency') }}, {{ ref('interaction_latency') }}, {{ ref('session_latency') }}
-- depends_on: {{ ref('session_outcomes') }}, {{ ref('daily_kpis') }}, {{ ref('slot_funnel') }}, {{ ref('intent_transitions') }}
{%- set loads = rasa_semantic_schema.rss_source_relation('_loads', required=true) %}
{#- dlt's `_loads` has schema_name and schema_version_hash; the contract's minimal one (load_id, status,
    inserted_at) does not: NULLs then, which an append into such a table leaves out #}
{%- set load_columns = rasa_semantic_schema.rss_columns(loads) %}
{%- set t_text = rasa_semantic_schema.rss_type_text() %}
select
    l.load_id,
    max({{ rasa_semantic_schema.rss_column_or_null(load_columns, 'schema_name', t_text, 'l') }}) as schema_name,
    cast(1 as {{ dbt.type_bigint() }}) as status,
    {{ rasa_semantic_schema.rss_current_timestamp() }} as inserted_at,
    max({{ rasa_semantic_schema.rss_column_or_null(load_columns, 'schema_version_hash', t_text, 'l') }}) as schema_version_hash
from {{ loads }} l
where l.status = 0
  and l.load_id in (select load_id from {{ ref('stg_load_ids') }})
{%- if is_incremental() %}
  and not exists (select 1 from {{ this }} p where p.load_id = l.load_id and p.status >= 1)
{%- endif %}
group by l.load_id
