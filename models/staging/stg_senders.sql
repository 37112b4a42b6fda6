{{ config(rasa_semantic_schema.rss_physical('stg_senders')) }}
{#- One row per sender (Rasa conversation id). #}
select
    s.sender_id,
    max(s.user_id) as user_id,
    min(s.session_initiation_timestamp) as sender_conversation_initiation_timestamp,
    min(s.session_start_timestamp) as sender_conversation_start_timestamp,
    max(s.session_end_timestamp) as sender_conversation_end_timestamp,
    count(*) as sessions_count,
    {{ dbt.datediff('min(s.session_initiation_timestamp)', 'max(s.session_end_timestamp)', 'second') }} as sender_conversation_duration_seconds
from {{ ref('stg_sessions') }} s
group by s.sender_id
