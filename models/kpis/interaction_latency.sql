{{ config(rasa_semantic_schema.rss_kpi_config('interaction_latency')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{#- One row per interaction that holds a user message (interaction_nr >= 1; each holds exactly one): how long the bot
    took to answer it and how long the user took to write it after the bot's last message. #}
{%- set ts = adapter.quote('timestamp') %}

with messages as (
    select m.*
    from {{ ref('message_latency') }} m
    where m.interaction_nr >= 1
      {{ rasa_semantic_schema.rss_kpi_affected_senders('m') }}
),

interactions as (
    select
        m.interaction_id,
        m.sender_id,
        m.user_id,
        m.session_id,
        m.session_nr,
        m.interaction_nr,
        max(case when m.speaker = 'user' then m.message_record_hash end) as user_message_record_hash,
        max(case when m.speaker = 'user' then m.message_name end) as intent_name,
        max(case when m.speaker = 'user' then m.{{ ts }} end) as user_message_timestamp,
        max(case when m.speaker = 'user' then m.response_seconds end) as user_response_seconds,
        min(case when m.speaker = 'bot' then m.{{ ts }} end) as first_bot_message_timestamp,
        max(case when m.speaker = 'bot' then m.{{ ts }} end) as last_bot_message_timestamp,
        sum(case when m.speaker = 'bot' then 1 else 0 end) as bot_messages_count
    from messages m
    group by m.interaction_id, m.sender_id, m.user_id, m.session_id, m.session_nr, m.interaction_nr
)

select
    i.interaction_id,
    i.sender_id,
    i.user_id,
    i.session_id,
    i.session_nr,
    i.interaction_nr,
    i.user_message_record_hash,
    i.intent_name,
    i.user_message_timestamp,
    i.user_response_seconds,
    i.first_bot_message_timestamp,
    i.last_bot_message_timestamp,
    cast(i.bot_messages_count as {{ dbt.type_bigint() }}) as bot_messages_count,
    {{ rasa_semantic_schema.rss_seconds_between('i.user_message_timestamp', 'i.first_bot_message_timestamp') }} as bot_response_seconds,
    {{ rasa_semantic_schema.rss_seconds_between('i.user_message_timestamp', 'i.last_bot_message_timestamp') }} as bot_turn_seconds
from interactions i
