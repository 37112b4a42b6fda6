{{ config(rasa_semantic_schema.rss_physical('stg_sessions')) }}
{{ rasa_semantic_schema.rss_metric_depends_on() }}
{#- One row per session (user_id/session_nr). #}
with interactions as (
    select i.*,
           min(case when i.interaction_model_id is not null then i.interaction_nr end) over (partition by i.session_id) as first_model_nr,
           min(case when i.story_intent is not null then i.interaction_nr end) over (partition by i.session_id) as first_story_nr,
           min(case when i.intent is not null then i.interaction_nr end) over (partition by i.session_id) as first_intent_nr,
           max(case when i.intent is not null then i.interaction_nr end) over (partition by i.session_id) as last_intent_nr,
           min(case when i.external_session_id is not null then i.interaction_nr end) over (partition by i.session_id) as first_ext_nr,
           min(case when i.input_channel is not null then i.interaction_nr end) over (partition by i.session_id) as first_channel_nr
    from {{ ref('stg_interactions') }} i
),

sessions as (
    select
        i.session_id,
        i.sender_id,
        i.session_nr,
        max(case when i.first_sequence_nr = 1 then i.environment end) as environment,
        max(case when i.interaction_nr = i.first_model_nr then i.interaction_model_id end) as first_bot_model,
        max(case when i.interaction_nr = i.first_story_nr then i.story_intent end) as first_story_intent,
        max(case when i.interaction_nr = i.first_intent_nr then i.intent end) as first_intent,
        max(case when i.interaction_nr = i.last_intent_nr then i.intent end) as last_intent,
        min(i.interaction_initiation_timestamp) as session_initiation_timestamp,
        min(i.interaction_start_timestamp) as session_start_timestamp,
        max(i.interaction_end_timestamp) as session_end_timestamp,
        max(i.interaction_nr) as interactions_count,
        count(distinct i.interaction_active_form) as distinct_forms_activated,
        max(i.user_id) as user_id,
        max(case when i.interaction_nr = i.first_ext_nr then i.external_session_id end) as external_session_id,
        max(case when i.interaction_nr = i.first_channel_nr then i.input_channel end) as input_channel
        {{ rasa_semantic_schema.rss_metric_sum_columns('i') }},
        count(distinct i.story_intent) as distinct_story_intent_count,
        sum(i.events_count) as events_count
    from interactions i
    group by i.session_id, i.sender_id, i.session_nr
)

select
    s.session_id,
    s.sender_id,
    s.session_nr,
    s.environment,
    s.first_bot_model,
    s.first_story_intent,
    s.first_intent,
    s.last_intent,
    s.session_initiation_timestamp,
    s.session_start_timestamp,
    s.session_end_timestamp,
    {{ dbt.datediff('s.session_initiation_timestamp', 's.session_end_timestamp', 'second') }} as session_duration_seconds,
    s.interactions_count,
    s.distinct_forms_activated,
    s.user_id,
    s.external_session_id,
    s.input_channel
    {%- for m in rasa_semantic_schema.rss_count_metrics() %}
    , s.{{ m.name }}_count
    {%- endfor %},
    s.distinct_story_intent_count,
    s.events_count,
    s.interactions_count = 0 as is_bounced,
    case when s.interactions_count = 0 then s.session_id end as bounced_session_id
    {{ rasa_semantic_schema.rss_metric_session_id_columns('s') }},
    case when s.session_nr = 1 then 'new' else 'returning' end as new_returning_session
from sessions s
