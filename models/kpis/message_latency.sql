{{ config(rasa_semantic_schema.rss_kpi_config('message_latency')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{#- One row per message (user and bot events), with the time since the previous message of the session and, when the
    message answers the other party, the response time: a bot message right after a user message is the bot's reply
    to it (bot latency); a user message right after a bot message is the user's reply (user latency).
    Read from stg_event_sequence, which holds exactly the events of the senders this run recomputes (all of them on
    a full run): an incremental run does not scan the whole event_sequence table. #}
{%- set ts = adapter.quote('timestamp') %}

with messages as (
    select
        e._record_hash,
        e.sender_id,
        e.user_id,
        e.session_id,
        e.session_nr,
        e.interaction_id,
        e.interaction_nr,
        e.sequence_nr,
        e.{{ ts }},
        e.event,
        e.value,
        e.model_id,
        e.environment,
        lag(e.event) over (partition by e.session_id order by e.sequence_nr) as previous_event,
        lag(e.{{ ts }}) over (partition by e.session_id order by e.sequence_nr) as previous_timestamp
    from {{ ref('stg_event_sequence') }} e
    where e.event in ('user', 'bot')
)

select
    m._record_hash as message_record_hash,
    m.sender_id,
    m.user_id,
    m.session_id,
    m.session_nr,
    m.interaction_id,
    m.interaction_nr,
    m.sequence_nr,
    m.{{ ts }},
    m.event as speaker,
    m.value as message_name,
    m.model_id,
    m.environment,
    m.previous_event as previous_speaker,
    {{ rasa_semantic_schema.rss_seconds_between('m.previous_timestamp', 'm.' ~ ts) }} as seconds_since_previous_message,
    coalesce(m.previous_event is not null and m.previous_event <> m.event, false) as is_response,
    case when m.previous_event is not null and m.previous_event <> m.event
         then {{ rasa_semantic_schema.rss_seconds_between('m.previous_timestamp', 'm.' ~ ts) }}
    end as response_seconds
from messages m
