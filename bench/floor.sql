-- The floor of the benchmark: what numbering every event's session and interaction costs at the least.
-- One statement over the same source events the package reads (the committed loads of {event_schema}):
-- the events in their per-sender order (timestamp, tracker position, _record_hash), a session break at the
-- sender's first event and at action_session_start / action_restart, and the user messages counted within each
-- session. Simpler rules than the package's (no restart/session-start merging, no inactivity gap, no
-- de-duplication), so it is a lower bound on the work, not the same result.
with committed as (
    select load_id from {event_schema}."_loads" where status = 0
),

events as (
    select a.sender_id, a."timestamp", a._event_pos, a._record_hash, 'action' as event, a.name
    from {event_schema}.event_action a
    where a._load_id in (select load_id from committed)
    union all
    select e.sender_id, e."timestamp", e._event_pos, e._record_hash, e.event, cast(null as varchar) as name
    from {event_schema}.event e
    where e.event <> 'action' and e._load_id in (select load_id from committed)
),

flagged as (
    select e.*,
           case when e.event = 'action' and e.name in ('action_session_start', 'action_restart') then 1 else 0 end
               as is_break,
           case when e.event = 'user' then 1 else 0 end as is_user
    from events e
),

numbered as (
    select f.*,
           sum(f.is_break) over w as breaks,
           first_value(f.is_break) over w as first_is_break,
           sum(f.is_user) over w as users
    from flagged f
    window w as (partition by f.sender_id order by f."timestamp", f._event_pos nulls last, f._record_hash
                 rows between unbounded preceding and current row)
),

sessions as (
    select n.*, n.breaks + 1 - n.first_is_break as session_nr
    from numbered n
)

select s.sender_id, s._record_hash, s."timestamp", s.event, s.session_nr,
       s.users - min(s.users - s.is_user) over (partition by s.sender_id, s.session_nr) as interaction_nr
from sessions s
