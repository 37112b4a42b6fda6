{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). Per event type, event_sequence holds as many events of the processed
    loads as the source does: no event lost, none invented, none filed under another type. The source is read through
    the package's source layer (as in rss_all_processed_events_in_event_sequence, which names the missing events);
    duplicated deliveries count once on both sides (count distinct _record_hash), event_sequence rows count once per
    event here (rss_dq_event_sequence_events_once finds rows written twice). Returns the event types whose counts
    differ. Cost: one scan of each source table and of event_sequence. -#}
{%- set processed_loads = rasa_semantic_schema.rss_dq_processed_loads() %}
with source_counts as (
    select e.event, count(distinct e._record_hash) as source_events
    from (
        {{ rasa_semantic_schema.rss_src_events('s._load_id in (' ~ processed_loads ~ ')') }}
    ) e
    group by e.event
),

sequence_counts as (
    select q.event, count(distinct q._record_hash) as event_sequence_events
    from {{ ref('event_sequence') }} q
    where q._load_id in ({{ processed_loads }})
    group by q.event
)

select
    coalesce(s.event, q.event) as event,
    coalesce(s.source_events, 0) as source_events,
    coalesce(q.event_sequence_events, 0) as event_sequence_events
from source_counts s
full outer join sequence_counts q on q.event = s.event
where coalesce(s.source_events, 0) <> coalesce(q.event_sequence_events, 0)
