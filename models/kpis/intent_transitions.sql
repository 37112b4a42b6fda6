{{ config(materialized='view', schema='views', tags=['rasa_semantic_schema', 'kpis']) }}
{#- One row per step and pair of intents: how often, at the step-th user message of a session, the user went from
    one intent to the next. Each session with user messages contributes one path: '(start)' → first intent → … →
    last (exit) intent → '(end)'; step n is the transition into the n-th message (the last step leads to '(end)').
    For a Sankey diagram use the steps as layers; for plain from → to counts sum transitions_count over the steps.
    A view: always up to date with `user_messages`. #}
{%- set none_label = rasa_semantic_schema.rss_literal('(none)') %}

with messages as (
    select
        u.session_id,
        coalesce(u.intent_name, {{ none_label }}) as intent_name,
        row_number() over (partition by u.session_id order by u.sequence_nr) as position,
        count(*) over (partition by u.session_id) as messages_count
    from {{ ref('user_messages') }} u
),

paths as (
    select
        m.session_id,
        m.position as step,
        coalesce(lag(m.intent_name) over (partition by m.session_id order by m.position), {{ rasa_semantic_schema.rss_literal('(start)') }}) as from_intent,
        m.intent_name as to_intent
    from messages m
    union all
    select
        m.session_id,
        m.position + 1 as step,
        m.intent_name as from_intent,
        {{ rasa_semantic_schema.rss_literal('(end)') }} as to_intent
    from messages m
    where m.position = m.messages_count
)

select
    cast(p.step as {{ dbt.type_bigint() }}) as step,
    p.from_intent,
    p.to_intent,
    cast(count(*) as {{ dbt.type_bigint() }}) as transitions_count
from paths p
group by p.step, p.from_intent, p.to_intent
