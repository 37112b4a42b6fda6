{{ config(rasa_semantic_schema.rss_view_config('event_sequence', 'sender_id')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{%- set ts = adapter.quote('timestamp') %}
select
    e._record_hash,
    e.sender_id,
    e.user_id,
    e.interaction_nr,
    e.event,
    e.value,
    e.model_id,
    e.environment,
    e.{{ ts }},
    e.active_form,
    e.active_form_nr,
    e.session_nr,
    e.sender_session_nr,
    e.reverse_interaction_nr,
    e.interaction_id,
    e.session_id,
    e.sequence_nr,
    e.sender_event_nr,
    e._event_pos,
    e._load_id
from {{ ref('stg_event_sequence') }} e
