{{ config(tags=['rasa_semantic_schema']) }}
{#- Rasa (SDK >= 2.8) writes the slot `session_started_metadata` immediately before `action_session_start`: the slot
    belongs to the session that action opens. Every such slot event must have the same session_id as its sender's
    next event (by sender_event_nr) when that next event is action_session_start. Returns the slot events that
    were put in another session. -#}
select
    s._record_hash,
    s.sender_id,
    s.sender_event_nr,
    s.session_id as slot_session_id,
    n._record_hash as next_record_hash,
    n.session_id as next_session_id
from {{ ref('event_sequence') }} s
join {{ ref('event_sequence') }} n
  on n.sender_id = s.sender_id
 and n.sender_event_nr = s.sender_event_nr + 1
where s.event = 'slot'
  and s.value = 'session_started_metadata'
  and n.event = 'action'
  and n.value = 'action_session_start'
  and s.session_id <> n.session_id
