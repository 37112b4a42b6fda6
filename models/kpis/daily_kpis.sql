{{ config(rasa_semantic_schema.rss_kpi_config('daily_kpis', 'kpi_date')) }}
-- depends_on: {{ ref('stg_sender_ids') }}, {{ ref('stg_event_sequence') }}
{#- One row per day (of the session's first event, UTC), input channel, environment and bot model: the conversation
    KPIs of the sessions that started that day. An incremental run recomputes whole days: every day on which a sender
    it recomputes has an event (see rss_kpi_affected_days), so the table always equals a full refresh.
    NULL channels, environments and models are reported as '(none)'. Each median is computed in a select of its own. #}
{%- set none_label = rasa_semantic_schema.rss_literal('(none)') %}

with sessions as (
    select
        o.session_id,
        o.session_date as kpi_date,
        coalesce(o.input_channel, {{ none_label }}) as input_channel,
        coalesce(o.environment, {{ none_label }}) as environment,
        coalesce(o.model_id, {{ none_label }}) as model_id,
        o.user_id,
        o.is_new_user,
        o.is_bounced,
        o.is_engaged,
        o.is_contained,
        o.is_handover,
        o.is_fallback_session,
        o.is_abandoned,
        o.user_messages_count,
        o.session_duration_seconds
    from {{ ref('session_outcomes') }} o
    {%- if is_incremental() %}
    where o.session_date in ({{ rasa_semantic_schema.rss_kpi_affected_days() }})
    {%- endif %}
),

counts as (
    select
        s.kpi_date,
        s.input_channel,
        s.environment,
        s.model_id,
        count(*) as sessions_count,
        count(distinct s.user_id) as users_count,
        count(distinct case when s.is_new_user then s.user_id end) as new_users_count,
        sum(case when s.is_engaged then 1 else 0 end) as engaged_sessions_count,
        sum(case when s.is_bounced then 1 else 0 end) as bounced_sessions_count,
        sum(case when s.is_contained then 1 else 0 end) as contained_sessions_count,
        sum(case when s.is_handover then 1 else 0 end) as handover_sessions_count,
        sum(case when s.is_fallback_session then 1 else 0 end) as fallback_sessions_count,
        sum(case when s.is_abandoned then 1 else 0 end) as abandoned_sessions_count,
        sum(s.user_messages_count) as user_messages_count
    from sessions s
    group by s.kpi_date, s.input_channel, s.environment, s.model_id
),

duration_median as (
    select s.kpi_date, s.input_channel, s.environment, s.model_id,
           {{ rasa_semantic_schema.rss_median('s.session_duration_seconds') }} as median_session_duration_seconds
    from sessions s
    group by s.kpi_date, s.input_channel, s.environment, s.model_id
),

replies as (
    select s.kpi_date, s.input_channel, s.environment, s.model_id, l.bot_response_seconds
    from {{ ref('interaction_latency') }} l
    join sessions s on s.session_id = l.session_id
    where l.bot_response_seconds is not null
),

latency_totals as (
    select r.kpi_date, r.input_channel, r.environment, r.model_id,
           count(*) as bot_replies_count,
           max(r.bot_response_seconds) as max_bot_response_seconds
    from replies r
    group by r.kpi_date, r.input_channel, r.environment, r.model_id
),

latency_median as (
    select r.kpi_date, r.input_channel, r.environment, r.model_id,
           {{ rasa_semantic_schema.rss_median('r.bot_response_seconds') }} as median_bot_response_seconds
    from replies r
    group by r.kpi_date, r.input_channel, r.environment, r.model_id
)

select
    c.kpi_date,
    c.input_channel,
    c.environment,
    c.model_id,
    cast(c.sessions_count as {{ dbt.type_bigint() }}) as sessions_count,
    cast(c.users_count as {{ dbt.type_bigint() }}) as users_count,
    cast(c.new_users_count as {{ dbt.type_bigint() }}) as new_users_count,
    cast(c.engaged_sessions_count as {{ dbt.type_bigint() }}) as engaged_sessions_count,
    cast(c.bounced_sessions_count as {{ dbt.type_bigint() }}) as bounced_sessions_count,
    cast(c.contained_sessions_count as {{ dbt.type_bigint() }}) as contained_sessions_count,
    cast(c.handover_sessions_count as {{ dbt.type_bigint() }}) as handover_sessions_count,
    cast(c.fallback_sessions_count as {{ dbt.type_bigint() }}) as fallback_sessions_count,
    cast(c.abandoned_sessions_count as {{ dbt.type_bigint() }}) as abandoned_sessions_count,
    cast(c.user_messages_count as {{ dbt.type_bigint() }}) as user_messages_count,
    {{ rasa_semantic_schema.rss_ratio('c.engaged_sessions_count', 'c.sessions_count') }} as engagement_rate,
    {{ rasa_semantic_schema.rss_ratio('c.bounced_sessions_count', 'c.sessions_count') }} as bounce_rate,
    {{ rasa_semantic_schema.rss_ratio('c.contained_sessions_count', 'c.sessions_count') }} as containment_rate,
    {{ rasa_semantic_schema.rss_ratio('c.handover_sessions_count', 'c.sessions_count') }} as handover_rate,
    {{ rasa_semantic_schema.rss_ratio('c.fallback_sessions_count', 'c.sessions_count') }} as fallback_rate,
    {{ rasa_semantic_schema.rss_ratio('c.abandoned_sessions_count', 'c.sessions_count') }} as abandonment_rate,
    {{ rasa_semantic_schema.rss_ratio('c.user_messages_count', 'c.sessions_count') }} as interactions_per_session,
    d.median_session_duration_seconds,
    cast(coalesce(t.bot_replies_count, 0) as {{ dbt.type_bigint() }}) as bot_replies_count,
    m.median_bot_response_seconds,
    t.max_bot_response_seconds
from counts c
left join duration_median d
  on d.kpi_date = c.kpi_date and d.input_channel = c.input_channel and d.environment = c.environment and d.model_id = c.model_id
left join latency_totals t
  on t.kpi_date = c.kpi_date and t.input_channel = c.input_channel and t.environment = c.environment and t.model_id = c.model_id
left join latency_median m
  on m.kpi_date = c.kpi_date and m.input_channel = c.input_channel and m.environment = c.environment and m.model_id = c.model_id
