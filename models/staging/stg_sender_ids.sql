{{ config(rasa_semantic_schema.rss_physical('stg_sender_ids')) }}
{#- The senders this run recomputes, with their resolved user id.
    touched   = senders with events in the new loads; their user id is resolved anew from all their events
    affected  = the touched senders' users, new and previous
    senders   = touched senders plus every earlier sender of an affected user (their user id does not change)
    A user's session numbers span all its senders, so the whole user is recomputed. #}
{%- set full = rasa_semantic_schema.rss_is_full_run() -%}
{%- set previous = none if full else rasa_semantic_schema.rss_node_relation('senders') -%}
{%- set loads = rasa_semantic_schema.rss_source_relation('_loads', required=true) -%}
{%- set uid = rasa_semantic_schema.rss_user_id_column() -%}
{%- set committed = 's._load_id in (select load_id from ' ~ loads ~ ')' -%}
{%- set new_loads = 's._load_id in (select load_id from ' ~ ref('stg_load_ids') ~ ')' -%}

with touched as (
    {%- set parts = [] -%}
    {%- for t in rasa_semantic_schema.rss_event_tables() -%}
      {%- set rel = rasa_semantic_schema.rss_source_relation(t) -%}
      {%- if rel is not none -%}
        {%- do parts.append('select s.sender_id from ' ~ rel ~ ' s where ' ~ new_loads) -%}
      {%- endif -%}
    {%- endfor %}
    select distinct cast(sender_id as {{ rasa_semantic_schema.rss_type_text() }}) as sender_id
    from (
      {{ parts | join('\n      union all\n      ') if parts else 'select cast(null as ' ~ rasa_semantic_schema.rss_type_text() ~ ') as sender_id ' ~ rasa_semantic_schema.rss_no_rows() }}
    ) t
),

resolved as (
    {%- if uid == 'sender_id' %}
    select sender_id, sender_id as user_id from touched
    {%- else %}
    {#- the first external user id of the sender (by event order), from user and session_started events #}
    select t.sender_id, coalesce(f.ext_user_id, t.sender_id) as user_id
    from touched t
    left join (
        select sender_id, ext_user_id
        from (
            select c.sender_id, c.ext_user_id,
                   row_number() over (partition by c.sender_id
                                      order by c.{{ adapter.quote('timestamp') }}, c._event_pos nulls last, c._record_hash) as rn
            from (
                {{ rasa_semantic_schema.rss_src_event_user(committed ~ ' and s.sender_id in (select sender_id from touched)') }}
                {%- set ss = rasa_semantic_schema.rss_src_event_session_started(committed ~ ' and s.sender_id in (select sender_id from touched)') %}
                {%- if ss is not none %}
                union all
                {{ ss }}
                {%- endif %}
            ) c
            where c.ext_user_id is not null
        ) ranked
        where rn = 1
    ) f on f.sender_id = t.sender_id
    {%- endif %}
),

{%- if previous is not none %}
previous_senders as (
    select sender_id, user_id from {{ previous }}
),

affected_users as (
    select user_id from resolved
    union all
    select p.user_id from previous_senders p join resolved r on r.sender_id = p.sender_id
),

all_senders as (
    select sender_id, user_id from resolved
    union all
    select p.sender_id, p.user_id
    from previous_senders p
    where p.user_id in (select user_id from affected_users)
      and p.sender_id not in (select sender_id from resolved)
)

select a.sender_id, a.user_id, p.user_id as previous_user_id
from all_senders a
left join previous_senders p on p.sender_id = a.sender_id
{%- else %}
all_senders as (select sender_id, user_id from resolved)

select sender_id, user_id, cast(null as {{ rasa_semantic_schema.rss_type_text() }}) as previous_user_id
from all_senders
{%- endif %}
