{{ config(materialized='view', schema='views', tags=['rasa_semantic_schema', 'kpis']) }}
{#- One row per form and slot: how many form instances (a form's activation within a session) requested the slot,
    attempted it (set it after a request, even to NULL), filled it (set it to a value after a request) and were
    abandoned on it (the slot was never filled and the user sent no message after its last request).
    A view: always up to date with `slots`, nothing to maintain. #}

with requests as (
    select
        s.session_id,
        e.active_form_nr,
        s.active_form as form_name,
        s.slot_name_normalised as slot_name,
        s.sequence_nr,
        s.next_slot_fill_attempt_record_hash,
        s.next_slot_fill_record_hash
    from {{ ref('slots') }} s
    join {{ ref('event_sequence') }} e on e._record_hash = s.slot_record_hash
    where s.slot_action_normalised = 'requested_slot'
      and s.active_form is not null
      and s.slot_name_normalised is not null
),

last_user_messages as (
    select u.session_id, max(u.sequence_nr) as last_user_sequence_nr
    from {{ ref('user_messages') }} u
    group by u.session_id
),

instances as (
    select
        r.session_id,
        r.active_form_nr,
        r.form_name,
        r.slot_name,
        count(*) as requests_count,
        max(case when r.next_slot_fill_attempt_record_hash is not null then 1 else 0 end) as is_attempted,
        max(case when r.next_slot_fill_record_hash is not null then 1 else 0 end) as is_filled,
        max(r.sequence_nr) as last_request_sequence_nr
    from requests r
    group by r.session_id, r.active_form_nr, r.form_name, r.slot_name
)

select
    i.form_name,
    i.slot_name,
    cast(sum(i.requests_count) as {{ dbt.type_bigint() }}) as requests_count,
    cast(count(*) as {{ dbt.type_bigint() }}) as requested_count,
    cast(sum(i.is_attempted) as {{ dbt.type_bigint() }}) as attempted_count,
    cast(sum(i.is_filled) as {{ dbt.type_bigint() }}) as filled_count,
    cast(sum(case when i.is_filled = 0 and i.last_request_sequence_nr > coalesce(u.last_user_sequence_nr, 0) then 1 else 0 end)
         as {{ dbt.type_bigint() }}) as abandoned_count,
    {{ rasa_semantic_schema.rss_ratio('sum(i.is_filled)', 'count(*)') }} as fill_rate,
    {{ rasa_semantic_schema.rss_ratio('sum(case when i.is_filled = 0 and i.last_request_sequence_nr > coalesce(u.last_user_sequence_nr, 0) then 1 else 0 end)', 'count(*)') }} as abandonment_rate
from instances i
left join last_user_messages u on u.session_id = i.session_id
group by i.form_name, i.slot_name
