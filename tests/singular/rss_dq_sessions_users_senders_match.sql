{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). sessions, users and senders agree on who exists: every session's
    user is in users and its sender in senders, every sender's user is in users, and every user and every sender has
    sessions. Returns the ids found on one side only, with the kind of mismatch. Cost: one scan of senders and users
    each, two of sessions (its users and its senders). -#}
with users_vs_sessions as (
    {{ rasa_semantic_schema.rss_dq_key_mismatches(
        ref('sessions'), ref('users'), 'user_id', column='id',
        missing='sessions of a user missing from users', unused='user without sessions') }}
),

senders_vs_sessions as (
    {{ rasa_semantic_schema.rss_dq_key_mismatches(
        ref('sessions'), ref('senders'), 'sender_id', column='id',
        missing='sessions of a sender missing from senders', unused='sender without sessions') }}
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
