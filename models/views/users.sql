{{ config(rasa_semantic_schema.rss_view_config('users', 'user_id')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{#- One row per user: every session of an affected user is in staging, so users are computed from staging. #}
with sessions as (
    select s.*,
           row_number() over (partition by s.user_id order by s.session_nr) as first_rank,
           row_number() over (partition by s.user_id order by s.session_nr desc) as last_rank
    from {{ ref('stg_sessions') }} s
)

select
    s.user_id,
    min(s.session_initiation_timestamp) as first_seen_timestamp,
    max(s.session_end_timestamp) as last_seen_timestamp,
    count(*) as sessions_count,
    max(case when s.first_rank = 1 then s.session_id end) as first_session_id,
    max(case when s.last_rank = 1 then s.session_id end) as last_session_id,
    max(case when s.first_rank = 1 then s.sender_id end) as first_sender_id,
    max(case when s.last_rank = 1 then s.sender_id end) as last_sender_id,
    count(distinct s.sender_id) as senders_count,
    sum(s.interactions_count) as interactions_count
from sessions s
group by s.user_id
