{{ config(rasa_semantic_schema.rss_physical('stg_events')) }}
{#- Every event of the senders this run recomputes (all committed loads, not only new ones), one row per
    _record_hash (a duplicate delivery, in one load or across loads, counts once: the earliest load's copy wins). #}
{%- set loads = rasa_semantic_schema.rss_source_relation('_loads', required=true) -%}
{%- set where = 's._load_id in (select load_id from ' ~ loads ~ ') and s.sender_id in (select sender_id from ' ~ ref('stg_sender_ids') ~ ')' -%}
{%- set cols = rasa_semantic_schema.rss_event_columns() -%}

with source_events as (
    {{ rasa_semantic_schema.rss_src_events(where) }}
),

ranked as (
    select e.*,
           row_number() over (partition by e._record_hash order by e._load_id, e._event_pos nulls last) as copy_nr
    from source_events e
)

select {% for c in cols %}r.{{ adapter.quote(c) }}, {% endfor %}u.user_id
from ranked r
join {{ ref('stg_sender_ids') }} u on u.sender_id = r.sender_id
where r.copy_nr = 1
