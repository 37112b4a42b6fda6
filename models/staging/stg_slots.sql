{{ config(rasa_semantic_schema.rss_physical('stg_slots')) }}
{#- Slot events, and for each slot request (slot `requested_slot`) the next attempt to fill the requested slot and
    the next successful fill (non-NULL value), within the same session and form instance, after that request and
    before the next request of the same slot. #}
{%- set ts = adapter.quote('timestamp') -%}

with slot_events as (
    select
        e._record_hash as slot_record_hash,
        e.sender_id,
        e.user_id,
        e.model_id,
        e.environment,
        e.session_id,
        e.session_nr,
        e.interaction_id,
        e.interaction_nr,
        e.{{ ts }},
        e.sequence_nr,
        e.active_form,
        e.active_form_nr,
        e.value as name,
        e.slot_value as value,
        case when e.value = 'requested_slot' then e.slot_value else e.value end as slot_name_normalised,
        case when e.value = 'requested_slot' then 'requested_slot' else 'filled_slot' end as slot_action_normalised
    from {{ ref('stg_event_sequence') }} e
    where e.event = 'slot' and e.value is not null
),

requests as (
    select r.*,
           lead(r.sequence_nr) over (partition by r.session_id, r.active_form_nr, r.slot_name_normalised
                                     order by r.sequence_nr) as next_request_nr
    from slot_events r
    where r.slot_action_normalised = 'requested_slot' and r.active_form is not null and r.slot_name_normalised is not null
),

matches as (
    select
        r.slot_record_hash,
        f.slot_record_hash as fill_record_hash,
        f.interaction_id as fill_interaction_id,
        f.value as fill_value,
        row_number() over (partition by r.slot_record_hash order by f.sequence_nr) as attempt_rank,
        row_number() over (partition by r.slot_record_hash order by case when f.value is null then 1 else 0 end, f.sequence_nr) as fill_rank
    from requests r
    join slot_events f
      on f.session_id = r.session_id
     and f.active_form = r.active_form
     and f.active_form_nr = r.active_form_nr
     and f.slot_action_normalised = 'filled_slot'
     and f.slot_name_normalised = r.slot_name_normalised
     and f.sequence_nr > r.sequence_nr
     and (r.next_request_nr is null or f.sequence_nr < r.next_request_nr)
)

select
    s.*,
    fill.fill_record_hash as next_slot_fill_record_hash,
    fill.fill_interaction_id as fill_event_interaction_id,
    attempt.fill_record_hash as next_slot_fill_attempt_record_hash,
    attempt.fill_interaction_id as fill_attempt_event_interaction_id
from slot_events s
left join matches attempt on attempt.slot_record_hash = s.slot_record_hash and attempt.attempt_rank = 1
left join matches fill on fill.slot_record_hash = s.slot_record_hash and fill.fill_rank = 1 and fill.fill_value is not null
