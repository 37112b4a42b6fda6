{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (run after every scheduled run: dbt test -s tag:data_quality). Every event of a load this destination
    has processed (a status >= 1 row in its `_loads` ledger) reaches event_sequence, including senders that never
    wrote a message (1.x dropped senders with no user message and no action_listen / action_session_start).
    The source events are read through the package's own source layer (rss_src_events: every event table that exists,
    events of other types from the common `event` table, rows without sender or time left out, as the models do).
    Returns the source events missing from event_sequence. Cost: one scan of each source table and of event_sequence
    (an anti-join on _record_hash). -#}
{%- set processed = 's._load_id in (' ~ rasa_semantic_schema.rss_dq_processed_loads() ~ ')' %}
with source_events as (
    {{ rasa_semantic_schema.rss_src_events(processed) }}
),

sequence_events as (
    select distinct q._record_hash
    from {{ ref('event_sequence') }} q
)

select e.event, e._record_hash, e.sender_id, e._load_id
from source_events e
left join sequence_events q on q._record_hash = e._record_hash
where q._record_hash is null
