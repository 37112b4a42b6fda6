{{ config(rasa_semantic_schema.rss_physical('stg_sender_ids')) }}
{#- The senders this run recomputes, with their resolved user id.
    touched   = senders with events in the new loads; their user id is resolved anew from all their events
    affected  = the touched senders' users, new and previous
    senders   = touched senders plus every earlier sender of an affected user (their user id does not change)
    A user's session numbers span all its senders, so the whole user is recomputed.
    The previous users are read from the bookkeeping table `_sender_users` (built from this model). A run that
    fails after rewriting it but before its loads are marked in the ledger would hide them from the retry, so it
    also keeps, per sender, the user id it had before a run changed it (`previous_user_id`) and the last load of that
    run (`user_id_changed_in_load_id`): while that load is not marked processed, the previous user still counts as
    affected (and is kept on). Warehouses built before `_sender_users` existed read the `senders` view instead. #}
{%- set full = rasa_semantic_schema.rss_is_full_run() -%}
{%- set bookkeeping = none if full else rasa_semantic_schema.rss_node_relation('_sender_users') -%}
{%- set previous = bookkeeping if bookkeeping is not none else (none if full else rasa_semantic_schema.rss_node_relation('senders')) -%}
{%- set ledger = none if full else rasa_semantic_schema.rss_node_relation('_loads') -%}
{%- set keeps_pending = bookkeeping is not none -%}
{%- set t_text = rasa_semantic_schema.rss_type_text() -%}
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
    {#- pending_user_id: the user id before a run whose loads are not marked processed yet (it failed) #}
    select p.sender_id, p.user_id,
    {%- if keeps_pending %}
           case
             when p.previous_user_id is not null
                  {%- if ledger is not none %}
                  and not exists (select 1 from {{ ledger }} l
                                  where l.load_id = p.user_id_changed_in_load_id and l.status >= 1)
                  {%- endif %}
             then p.previous_user_id
           end as pending_user_id
    {%- else %}
           cast(null as {{ t_text }}) as pending_user_id
    {%- endif %}
    from {{ previous }} p
),

affected_users as (
    select user_id from resolved
    union all
    select p.user_id from previous_senders p join resolved r on r.sender_id = p.sender_id
    union all
    select p.pending_user_id from previous_senders p join resolved r on r.sender_id = p.sender_id
    where p.pending_user_id is not null
),

all_senders as (
    select sender_id, user_id from resolved
    union all
    select p.sender_id, p.user_id
    from previous_senders p
    where p.user_id in (select user_id from affected_users)
      and p.sender_id not in (select sender_id from resolved)
)

select a.sender_id,
       a.user_id,
       p.user_id as previous_user_id,
       p.pending_user_id,
       {#- what `senders` keeps: the user before this run, when this run changes it or a failed run did #}
       case
         when p.user_id is not null and p.user_id <> a.user_id then p.user_id
         else p.pending_user_id
       end as keep_previous_user_id,
       case
         when (p.user_id is not null and p.user_id <> a.user_id) or p.pending_user_id is not null
         then (select max(n.load_id) from {{ ref('stg_load_ids') }} n)
       end as keep_changed_in_load_id
from all_senders a
left join previous_senders p on p.sender_id = a.sender_id
{%- else %}
all_senders as (select sender_id, user_id from resolved)

select sender_id, user_id,
       cast(null as {{ t_text }}) as previous_user_id,
       cast(null as {{ t_text }}) as pending_user_id,
       cast(null as {{ t_text }}) as keep_previous_user_id,
       cast(null as {{ t_text }}) as keep_changed_in_load_id
from all_senders
{%- endif %}
