{{ config(rasa_semantic_schema.rss_view_config('bot_actions', 'sender_id')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{%- set ts = adapter.quote('timestamp') %}
select
    e._record_hash as bot_record_hash,
    e.model_id,
    e.environment,
    e.text,
    e.user_id,
    e.{{ ts }},
    e.sender_id,
    e.value as utter_action,
    e.session_nr,
    e.interaction_nr,
    e.interaction_id,
    e.session_id,
    e.sequence_nr,
    e.interaction_id as bot_interaction_sk,
    e.interaction_id as user_interaction_fk,
    e.interaction_id as action_interaction_fk,
    case when e.reverse_interaction_nr > 0
         then {{ rasa_semantic_schema.rss_interaction_id('e.user_id', 'e.session_nr', 'e.interaction_nr + 1') }}
    end as next_user_interaction_fk
from {{ ref('stg_event_sequence') }} e
where e.event = 'bot'
