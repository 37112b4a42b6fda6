{{ config(tags=['rasa_semantic_schema']) }}
{#- senders.sessions_count is the number of that sender's sessions (1.x took the highest user-level session_nr,
    wrong for users with several senders). Returns the senders whose count differs from the sessions view. -#}
with counted as (
    select s.sender_id, count(*) as sessions
    from {{ ref('sessions') }} s
    group by s.sender_id
)

select
    sn.sender_id,
    sn.sessions_count,
    coalesce(c.sessions, 0) as sessions_in_sessions_view
from {{ ref('senders') }} sn
left join counted c on c.sender_id = sn.sender_id
where sn.sessions_count is null
   or sn.sessions_count <> coalesce(c.sessions, 0)
