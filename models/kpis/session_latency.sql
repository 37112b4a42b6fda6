{{ config(rasa_semantic_schema.rss_kpi_config('session_latency')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{#- One row per session: the bot's and the user's response times (interaction_latency) summed up.
    Each median is computed in a select of its own (Redshift allows one ordering of sort-based aggregates per query). #}

with sessions as (
    select s.session_id, s.sender_id, s.user_id, s.session_nr
    from {{ ref('sessions') }} s
    where 1 = 1
      {{ rasa_semantic_schema.rss_kpi_affected_senders('s') }}
),

interactions as (
    select i.*
    from {{ ref('interaction_latency') }} i
    where 1 = 1
      {{ rasa_semantic_schema.rss_kpi_affected_senders('i') }}
),

totals as (
    select
        i.session_id,
        count(i.bot_response_seconds) as bot_replies_count,
        max(i.bot_response_seconds) as max_bot_response_seconds,
        max(i.bot_turn_seconds) as max_bot_turn_seconds,
        count(i.user_response_seconds) as user_replies_count,
        max(i.user_response_seconds) as max_user_response_seconds
    from interactions i
    group by i.session_id
),

bot_median as (
    select i.session_id, {{ rasa_semantic_schema.rss_median('i.bot_response_seconds') }} as median_bot_response_seconds
    from interactions i
    group by i.session_id
),

user_median as (
    select i.session_id, {{ rasa_semantic_schema.rss_median('i.user_response_seconds') }} as median_user_response_seconds
    from interactions i
    group by i.session_id
)

select
    s.session_id,
    s.sender_id,
    s.user_id,
    s.session_nr,
    cast(coalesce(t.bot_replies_count, 0) as {{ dbt.type_bigint() }}) as bot_replies_count,
    b.median_bot_response_seconds,
    t.max_bot_response_seconds,
    t.max_bot_turn_seconds,
    cast(coalesce(t.user_replies_count, 0) as {{ dbt.type_bigint() }}) as user_replies_count,
    u.median_user_response_seconds,
    t.max_user_response_seconds
from sessions s
left join totals t on t.session_id = s.session_id
left join bot_median b on b.session_id = s.session_id
left join user_median u on u.session_id = s.session_id
