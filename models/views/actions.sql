{{ config(rasa_semantic_schema.rss_view_config('actions', 'sender_id')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{%- set ts = adapter.quote('timestamp') %}
select
    e._record_hash as action_record_hash,
    e.action_confidence as confidence,
    e.action_policy as policy,
    e.model_id,
    e.environment,
    e.{{ ts }},
    e.value as action_name,
    e.sender_id,
    e.user_id,
    e.session_nr,
    e.interaction_nr,
    e.interaction_id,
    e.session_id,
    e.sequence_nr,
    e.interaction_id as story_action_interaction_sk
from {{ ref('stg_event_sequence') }} e
where e.event = 'action'
