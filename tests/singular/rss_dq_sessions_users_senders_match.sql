{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). sessions, users and senders agree on who exists: every session's
    user is in users and its sender in senders, every sender's user is in users, and every user and every sender has
    sessions. Returns the ids found on one side only, with the kind of mismatch. Cost: one scan of sessions, senders
    and users each (twice for sessions: its users and its senders). -#}
with session_users as (
    select distinct s.user_id from {{ ref('sessions') }} s
),

session_senders as (
    select distinct s.sender_id from {{ ref('sessions') }} s
),

users_vs_sessions as (
    select
        coalesce(s.user_id, u.user_id) as id,
        case when u.user_id is null then 'sessions of a user missing from users'
             else 'user without sessions' end as problem
    from session_users s
    full outer join {{ ref('users') }} u on u.user_id = s.user_id
    where s.user_id is null or u.user_id is null
),

senders_vs_sessions as (
    select
        coalesce(s.sender_id, n.sender_id) as id,
        case when n.sender_id is null then 'sessions of a sender missing from senders'
             else 'sender without sessions' end as problem
    from session_senders s
    full outer join {{ ref('senders') }} n on n.sender_id = s.sender_id
    where s.sender_id is null or n.sender_id is null
),

senders_vs_users as (
    select n.sender_id as id, 'sender whose user is missing from users' as problem
    from {{ ref('senders') }} n
    left join {{ ref('users') }} u on u.user_id = n.user_id
    where u.user_id is null
)

select id, problem from users_vs_sessions
union all
select id, problem from senders_vs_sessions
union all
select id, problem from senders_vs_users
