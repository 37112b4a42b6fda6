{{ config(tags=['rasa_semantic_schema']) }}
{#- Every event of a load this destination has processed (a status 1 row in its `_loads` ledger) in the four required
    event tables reaches event_sequence, including senders that never wrote a message (1.x dropped senders with no
    user message and no action_listen / action_session_start). Returns the source events that are missing. -#}
with processed_loads as (
    select distinct l.load_id
    from {{ ref('_loads') }} l
    where l.status >= 1
),

source_events as (
    {%- for t in ['event_user', 'event_bot', 'event_action', 'event_slot'] %}
    {% if not loop.first %}union all
    {% endif -%}
    select '{{ t }}' as source_table, s._record_hash, s.sender_id, s._load_id
    from {{ source('events', t) }} s
    where s._load_id in (select load_id from processed_loads)
    {%- endfor %}
)

select e.*
from source_events e
where not exists (
    select 1 from {{ ref('event_sequence') }} q
    where q._record_hash = e._record_hash
)
