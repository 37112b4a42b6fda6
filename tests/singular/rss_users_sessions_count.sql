{{ config(tags=['rasa_semantic_schema']) }}
{#- users.sessions_count and senders_count agree with the sessions view: after incremental runs no session of a user
    is missing or left over. Returns the users that disagree, and users of sessions missing from users. -#}
with counted as (
    select s.user_id, count(*) as sessions, count(distinct s.sender_id) as senders
    from {{ ref('sessions') }} s
    group by s.user_id
)

select
    coalesce(u.user_id, c.user_id) as user_id,
    u.sessions_count,
    c.sessions as sessions_in_sessions_view,
    u.senders_count,
    c.senders as senders_in_sessions_view
from {{ ref('users') }} u
full outer join counted c on c.user_id = u.user_id
where u.user_id is null
   or c.user_id is null
   or u.sessions_count <> c.sessions
   or u.senders_count <> c.senders
