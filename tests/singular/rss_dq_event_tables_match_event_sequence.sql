{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). The event tables hold one row per event of their type in
    event_sequence: user_messages the `user` events, bot_actions the `bot` events, actions the `action` events, slots
    the `slot` events; a row missing or written twice in one of them shows as a difference. Returns the tables whose
    row count differs. Cost: one scan of each of the five tables. -#}
with sequence_counts as (
    select q.event, count(distinct q._record_hash) as events
    from {{ ref('event_sequence') }} q
    where q.event in ('user', 'bot', 'action', 'slot')
    group by q.event
),

table_counts as (
    select 'user_messages' as table_name, 'user' as event, count(*) as table_rows from {{ ref('user_messages') }}
    union all
    select 'bot_actions' as table_name, 'bot' as event, count(*) as table_rows from {{ ref('bot_actions') }}
    union all
    select 'actions' as table_name, 'action' as event, count(*) as table_rows from {{ ref('actions') }}
    union all
    select 'slots' as table_name, 'slot' as event, count(*) as table_rows from {{ ref('slots') }}
)

select t.table_name, t.table_rows, coalesce(q.events, 0) as event_sequence_events
from table_counts t
left join sequence_counts q on q.event = t.event
where t.table_rows <> coalesce(q.events, 0)
