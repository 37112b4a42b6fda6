{{ config(rasa_semantic_schema.rss_physical('stg_event_sequence')) }}
{#- The heart of the package: one deterministically ordered event stream per sender, cut into sessions and
    interactions (README_SCHEMA.md, "Sessions and interactions").
    Order within a sender: timestamp, then the event's position in its tracker (NULLs last), then _record_hash.
    A session starts at
      - the sender's first event (events before the first session start form a session of their own);
      - a gap of more than var('compat_old_session_gap_minutes') since the previous event;
      - action_restart, and action_session_start unless an action_restart since the last action_listen already
        opened the session (Rasa >= 2 writes action_restart, ..., restart, action_session_start, session_started);
      - the slot session_started_metadata written just before such an action (that action then does not break).
    A user message opens a new interaction; what precedes the first user message of a session is interaction 0. #}
{%- set ts = adapter.quote('timestamp') -%}
{%- set gap_seconds = rasa_semantic_schema.rss_gap_minutes() * 60 -%}

with ordered as (
    select e.*,
           row_number() over (partition by e.sender_id
                              order by e.{{ ts }}, e._event_pos nulls last, e._record_hash) as sender_event_nr
    from {{ ref('stg_events') }} e
),

neighbours as (
    select o.*,
           lag(o.{{ ts }}) over (partition by o.sender_id order by o.sender_event_nr) as previous_timestamp,
           lag(o.event) over (partition by o.sender_id order by o.sender_event_nr) as previous_event,
           lag(o.value) over (partition by o.sender_id order by o.sender_event_nr) as previous_value,
           lead(o.event) over (partition by o.sender_id order by o.sender_event_nr) as next_event,
           lead(o.value) over (partition by o.sender_id order by o.sender_event_nr) as next_value,
           max(case when o.event = 'action' and o.value = 'action_listen' then o.sender_event_nr end)
               over (partition by o.sender_id order by o.sender_event_nr rows between unbounded preceding and 1 preceding) as last_listen_nr,
           max(case when o.event = 'action' and o.value = 'action_restart' then o.sender_event_nr end)
               over (partition by o.sender_id order by o.sender_event_nr rows between unbounded preceding and 1 preceding) as last_restart_nr
    from ordered o
),

breaks as (
    select n.*,
           case
             when n.sender_event_nr = 1 then 1
             when {{ rasa_semantic_schema.rss_gap_exceeded('n.previous_timestamp', 'n.' ~ ts, gap_seconds) }} then 1
             when n.event = 'action' and n.value = 'action_restart'
                  and not (coalesce(n.previous_event, '') = 'slot' and coalesce(n.previous_value, '') = 'session_started_metadata') then 1
             when n.event = 'action' and n.value = 'action_session_start'
                  and not (coalesce(n.previous_event, '') = 'slot' and coalesce(n.previous_value, '') = 'session_started_metadata')
                  and not (n.last_restart_nr is not null and n.last_restart_nr > coalesce(n.last_listen_nr, 0)) then 1
             when n.event = 'slot' and n.value = 'session_started_metadata' and coalesce(n.next_event, '') = 'action'
                  and (coalesce(n.next_value, '') = 'action_restart'
                       or (coalesce(n.next_value, '') = 'action_session_start'
                           and not (n.last_restart_nr is not null and n.last_restart_nr > coalesce(n.last_listen_nr, 0)))) then 1
             else 0
           end as is_session_break
    from neighbours n
),

sender_sessions as (
    select b.*,
           sum(b.is_session_break) over (partition by b.sender_id order by b.sender_event_nr rows between unbounded preceding and current row) as sender_session_nr
    from breaks b
),

in_session as (
    select s.*,
           sum(case when s.event = 'user' then 1 else 0 end)
               over (partition by s.sender_id, s.sender_session_nr order by s.sender_event_nr rows between unbounded preceding and current row) as interaction_nr,
           sum(case when s.event = 'active_loop' then 1 else 0 end)
               over (partition by s.sender_id, s.sender_session_nr order by s.sender_event_nr rows between unbounded preceding and current row) as loop_event_nr,
           sum(case when s.event = 'active_loop' and s.value is not null then 1 else 0 end)
               over (partition by s.sender_id, s.sender_session_nr order by s.sender_event_nr rows between unbounded preceding and current row) as active_form_nr,
           row_number() over (partition by s.sender_id, s.sender_session_nr order by s.sender_event_nr) as sequence_nr,
           min(s.{{ ts }}) over (partition by s.sender_id, s.sender_session_nr) as sender_session_start
    from sender_sessions s
),

with_form as (
    select i.*,
           max(case when i.event = 'active_loop' then i.value end)
               over (partition by i.sender_id, i.sender_session_nr, i.loop_event_nr) as active_form,
           max(i.interaction_nr) over (partition by i.sender_id, i.sender_session_nr) as last_interaction_nr,
           dense_rank() over (partition by i.user_id order by i.sender_session_start, i.sender_id, i.sender_session_nr) as session_nr
    from in_session i
)

select
    w._record_hash,
    w.sender_id,
    w.user_id,
    w.interaction_nr,
    w.event,
    w.value,
    w.model_id,
    w.environment,
    w.{{ ts }},
    w.active_form,
    w.active_form_nr,
    w.session_nr,
    w.sender_session_nr,
    w.last_interaction_nr - w.interaction_nr as reverse_interaction_nr,
    {{ rasa_semantic_schema.rss_interaction_id('w.user_id', 'w.session_nr', 'w.interaction_nr') }} as interaction_id,
    {{ rasa_semantic_schema.rss_session_id('w.user_id', 'w.session_nr') }} as session_id,
    w.sequence_nr,
    w.sender_event_nr,
    w._event_pos,
    w._load_id,
    w.text,
    w.intent_confidence,
    w.input_channel,
    w.message_id,
    w.action_policy,
    w.action_confidence,
    w.slot_value,
    w.ext_session_id
from with_form w
