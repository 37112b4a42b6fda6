{{ config(rasa_semantic_schema.rss_view_config('slots', 'sender_id')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{%- set ts = adapter.quote('timestamp') %}
select
    s.slot_record_hash,
    s.sender_id,
    s.user_id,
    s.model_id,
    s.environment,
    s.name,
    s.value,
    s.slot_name_normalised,
    s.slot_action_normalised,
    s.{{ ts }},
    s.session_id,
    s.session_nr,
    s.interaction_id,
    s.interaction_nr,
    s.sequence_nr,
    s.active_form,
    s.interaction_id as slots_interaction_sk,
    s.next_slot_fill_record_hash,
    s.fill_event_interaction_id,
    s.next_slot_fill_attempt_record_hash,
    s.fill_attempt_event_interaction_id
from {{ ref('stg_slots') }} s
