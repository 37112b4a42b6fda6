{{ config(rasa_semantic_schema.rss_view_config('user_messages', 'sender_id')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{%- set ts = adapter.quote('timestamp') %}
select
    e.user_id,
    e.sender_id,
    e._record_hash as user_message_record_hash,
    e.message_id,
    e.{{ ts }},
    e.text,
    e.value as intent_name,
    e.intent_confidence,
    e.input_channel,
    e.model_id,
    e.environment,
    e.session_id,
    e.session_nr,
    e.interaction_nr,
    e.interaction_id,
    e.sequence_nr,
    e.interaction_id as user_interaction_sk,
    e.interaction_id as bot_interaction_fk,
    e.interaction_id as slot_interaction_fk,
    e.interaction_id as action_interaction_fk,
    case when e.interaction_nr > 1
         then {{ rasa_semantic_schema.rss_interaction_id('e.user_id', 'e.session_nr', 'e.interaction_nr - 1') }}
    end as previous_bot_interaction_fk
from {{ ref('stg_event_sequence') }} e
where e.event = 'user'
