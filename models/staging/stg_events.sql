{{ config(rasa_semantic_schema.rss_physical('stg_events')) }}
{#- Every event of the senders this run recomputes (all committed loads, not only new ones), one row per
    _record_hash (a duplicate delivery, in one load or across loads, counts once: the earliest load's copy wins,
    and within it the earliest tracker position).
    The source layer leaves out rows without _record_hash. Duplicates are rare, so only the copies of duplicated
    hashes are ranked (a window over every event would sort or hash-partition all of them, bench/profile.md);
    every other event passes as it is. #}
{%- set loads = rasa_semantic_schema.rss_source_relation('_loads', required=true) -%}
{%- set where = 's._load_id in (select load_id from ' ~ loads ~ ') and s.sender_id in (select sender_id from ' ~ ref('stg_sender_ids') ~ ')' -%}
{%- set cols = rasa_semantic_schema.rss_event_columns() -%}

with source_events as (
    {{ rasa_semantic_schema.rss_src_events(where) }}
),

duplicated as (
    select e._record_hash
    from source_events e
    group by e._record_hash
    having count(*) > 1
),

first_copies as (
    select r.*
    from (
        select e.*,
               row_number() over (partition by e._record_hash order by e._load_id, e._event_pos nulls last) as copy_nr
        from source_events e
        where e._record_hash in (select d._record_hash from duplicated d)
    ) r
    where r.copy_nr = 1
),

deduplicated as (
    select {% for c in cols %}e.{{ adapter.quote(c) }}{{ ', ' if not loop.last }}{% endfor %}
    from source_events e
    where e._record_hash not in (select d._record_hash from duplicated d)
    union all
    select {% for c in cols %}f.{{ adapter.quote(c) }}{{ ', ' if not loop.last }}{% endfor %}
    from first_copies f
)

select {% for c in cols %}d.{{ adapter.quote(c) }}, {% endfor %}u.user_id
from deduplicated d
join {{ ref('stg_sender_ids') }} u on u.sender_id = d.sender_id
