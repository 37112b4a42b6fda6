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
    A user message opens a new interaction; what precedes the first user message of a session is interaction 0.

    How it is computed (bench/profile.md): the rules need the events in order, and sorting is the cost. So the
    ordering work runs on narrow rows (keys and 0/1 flags) with two sorts in all: one by the event order, giving
    every running count per sender (user messages, forms, listens, restarts) and the neighbours; one by the event
    number, giving the session number. Everything per session (its start, the counts at its first event, its
    number among the user's sessions) is a group-by on the small session table; the active form and the "restart
    since the last listen" rule are equality joins on running counts. The wide columns are joined back last. #}
{%- set ts = adapter.quote('timestamp') -%}
{%- set gap_seconds = rasa_semantic_schema.rss_gap_minutes() * 60 -%}
{%- set by_order = 'partition by k.sender_id order by k.' ~ ts ~ ', k._event_pos nulls last, k._record_hash' -%}
{%- set running = 'rows between unbounded preceding and current row' -%}

with keys as (
    select e._record_hash, e.sender_id, e.user_id, e.{{ ts }}, e._event_pos,
           case when e.event = 'user' then 1 else 0 end as is_user,
           case when e.event = 'active_loop' then 1 else 0 end as is_loop,
           case when e.event = 'active_loop' and e.value is not null then 1 else 0 end as is_form,
           case when e.event = 'action' and e.value = 'action_listen' then 1 else 0 end as is_listen,
           case when e.event = 'action' and e.value = 'action_restart' then 1 else 0 end as is_restart,
           case when e.event = 'action' and e.value = 'action_session_start' then 1 else 0 end as is_session_start,
           case when e.event = 'slot' and e.value = 'session_started_metadata' then 1 else 0 end as is_metadata_slot
    from {{ ref('stg_events') }} e
),

{#- sort 1: the event order; every running count per sender and the neighbours' flags #}
ordered as (
    select k.*,
           row_number() over ({{ by_order }}) as sender_event_nr,
           lag(k.{{ ts }}) over ({{ by_order }}) as previous_timestamp,
           lag(k.is_metadata_slot) over ({{ by_order }}) as previous_is_metadata_slot,
           lead(k.is_restart) over ({{ by_order }}) as next_is_restart,
           lead(k.is_session_start) over ({{ by_order }}) as next_is_session_start,
           sum(k.is_user) over ({{ by_order }} {{ running }}) as users_so_far,
           sum(k.is_loop) over ({{ by_order }} {{ running }}) as loops_so_far,
           sum(k.is_form) over ({{ by_order }} {{ running }}) as forms_so_far,
           sum(k.is_listen) over ({{ by_order }} {{ running }}) as listens_so_far,
           sum(k.is_restart) over ({{ by_order }} {{ running }}) as restarts_so_far
    from keys k
),

{#- the restarts before each action_listen: "an action_restart since the last action_listen" is true when more
    restarts precede an event than preceded the last listen before it #}
listens as (
    select o.sender_id, o.listens_so_far as listen_nr, o.restarts_so_far as restarts_before_listen
    from ordered o
    where o.is_listen = 1
),

breaks as (
    select o.*,
           case
             when o.sender_event_nr = 1 then 1
             when {{ rasa_semantic_schema.rss_gap_exceeded('o.previous_timestamp', 'o.' ~ ts, gap_seconds) }} then 1
             when o.is_restart = 1 and coalesce(o.previous_is_metadata_slot, 0) = 0 then 1
             when o.is_session_start = 1 and coalesce(o.previous_is_metadata_slot, 0) = 0
                  and not (o.restarts_so_far > coalesce(l.restarts_before_listen, 0)) then 1
             when o.is_metadata_slot = 1
                  and (coalesce(o.next_is_restart, 0) = 1
                       or (coalesce(o.next_is_session_start, 0) = 1
                           and not (o.restarts_so_far > coalesce(l.restarts_before_listen, 0)))) then 1
             else 0
           end as is_session_break
    from ordered o
    left join listens l
      on (o.is_session_start = 1 or o.is_metadata_slot = 1)
     and l.sender_id = o.sender_id and l.listen_nr = o.listens_so_far
),

{#- sort 2: the session of every event within its sender #}
sender_sessions as (
    select b.*,
           sum(b.is_session_break) over (partition by b.sender_id order by b.sender_event_nr {{ running }}) as sender_session_nr
    from breaks b
),

{#- one row per session: its start and the running counts before its first event #}
session_bounds as (
    select s.sender_id, s.user_id, s.sender_session_nr,
           min(s.{{ ts }}) as sender_session_start,
           min(s.sender_event_nr) as first_event_nr,
           min(s.users_so_far - s.is_user) as users_before,
           max(s.users_so_far) as users_at_end,
           min(s.loops_so_far - s.is_loop) as loops_before,
           min(s.forms_so_far - s.is_form) as forms_before
    from sender_sessions s
    group by s.sender_id, s.user_id, s.sender_session_nr
),

sessions as (
    select b.*,
           dense_rank() over (partition by b.user_id
                              order by b.sender_session_start, b.sender_id, b.sender_session_nr) as session_nr
    from session_bounds b
),

{#- the value of every active_loop event, by its running number within the sender #}
loops as (
    select s.sender_id, s.loops_so_far as loop_nr, e.value as active_form
    from sender_sessions s
    join {{ ref('stg_events') }} e on e._record_hash = s._record_hash
    where s.is_loop = 1
),

numbered as (
    select s._record_hash,
           s.sender_id,
           ss.user_id,
           s.users_so_far - ss.users_before as interaction_nr,
           s.loops_so_far - ss.loops_before as loop_event_nr,
           s.forms_so_far - ss.forms_before as active_form_nr,
           s.sender_event_nr - ss.first_event_nr + 1 as sequence_nr,
           ss.users_at_end - s.users_so_far as reverse_interaction_nr,
           ss.session_nr,
           s.sender_session_nr,
           s.sender_event_nr,
           s.loops_so_far
    from sender_sessions s
    join sessions ss on ss.sender_id = s.sender_id and ss.sender_session_nr = s.sender_session_nr
)

select
    n._record_hash,
    n.sender_id,
    n.user_id,
    n.interaction_nr,
    e.event,
    e.value,
    e.model_id,
    e.environment,
    e.{{ ts }},
    lp.active_form,
    n.active_form_nr,
    n.session_nr,
    n.sender_session_nr,
    n.reverse_interaction_nr,
    {{ rasa_semantic_schema.rss_interaction_id('n.user_id', 'n.session_nr', 'n.interaction_nr') }} as interaction_id,
    {{ rasa_semantic_schema.rss_session_id('n.user_id', 'n.session_nr') }} as session_id,
    n.sequence_nr,
    n.sender_event_nr,
    e._event_pos,
    e._load_id,
    e.text,
    e.intent_confidence,
    e.input_channel,
    e.message_id,
    e.action_policy,
    e.action_confidence,
    e.slot_value,
    e.ext_session_id
from numbered n
join {{ ref('stg_events') }} e on e._record_hash = n._record_hash
left join loops lp on n.loop_event_nr > 0 and lp.sender_id = n.sender_id and lp.loop_nr = n.loops_so_far
