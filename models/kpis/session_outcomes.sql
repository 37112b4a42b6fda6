{{ config(rasa_semantic_schema.rss_kpi_config('session_outcomes')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
{{ rasa_semantic_schema.rss_kpi_depends_on() }}
{#- One row per session: how it went. README "Conversation KPIs" defines each flag; the vars kpi_handoff_metric,
    kpi_fallback_metrics, kpi_start_intents and kpi_question_utterances (and the seed rasa_kpi_settings) configure them. #}
{%- set ts = adapter.quote('timestamp') %}
{%- set handoff = rasa_semantic_schema.rss_kpi_handoff_metric() %}
{%- set fallbacks = rasa_semantic_schema.rss_kpi_fallback_metrics() %}
{%- set start_intents = rasa_semantic_schema.rss_kpi_start_intents() %}
{%- set questions = rasa_semantic_schema.rss_kpi_question_utterances() %}

with sessions as (
    select s.*
    from {{ ref('sessions') }} s
    where 1 = 1
      {{ rasa_semantic_schema.rss_kpi_affected_senders('s') }}
),

{#- a session without a user message has no channel of its own: it gets the channel of its sender's first session
    that has one #}
sender_channels as (
    select sender_id, input_channel
    from (
        select s.sender_id, s.input_channel,
               row_number() over (partition by s.sender_id order by s.session_nr) as channel_rank
        from sessions s
        where s.input_channel is not null
    ) ranked
    where channel_rank = 1
),

user_messages as (
    select
        u.session_id,
        max(u.sequence_nr) as last_user_sequence_nr,
        sum(case when u.intent_name is null or not {{ rasa_semantic_schema.rss_kpi_in_list('u.intent_name', start_intents) }}
                 then 1 else 0 end) as engaging_messages_count
    from {{ ref('user_messages') }} u
    where 1 = 1
      {{ rasa_semantic_schema.rss_kpi_affected_senders('u') }}
    group by u.session_id
),

{#- what the bot asked: a question utterance, or a slot request (requested_slot set to a slot name) #}
questions as (
    select b.session_id, b.sequence_nr, b.utter_action as question
    from {{ ref('bot_actions') }} b
    where {{ rasa_semantic_schema.rss_kpi_in_list('b.utter_action', questions) }}
      {{ rasa_semantic_schema.rss_kpi_affected_senders('b') }}
    union all
    select r.session_id, r.sequence_nr, {{ dbt.concat(["'requested_slot:'", 'r.slot_name_normalised']) }} as question
    from {{ ref('slots') }} r
    where r.slot_action_normalised = 'requested_slot' and r.slot_name_normalised is not null
      {{ rasa_semantic_schema.rss_kpi_affected_senders('r') }}
),

last_questions as (
    select session_id, sequence_nr, question
    from (
        select q.*, row_number() over (partition by q.session_id order by q.sequence_nr desc, q.question) as question_rank
        from questions q
    ) ranked
    where question_rank = 1
),

last_bot_messages as (
    select session_id, utter_action
    from (
        select b.session_id, b.utter_action,
               row_number() over (partition by b.session_id order by b.sequence_nr desc) as message_rank
        from {{ ref('bot_actions') }} b
        where 1 = 1
          {{ rasa_semantic_schema.rss_kpi_affected_senders('b') }}
    ) ranked
    where message_rank = 1
),

outcomes as (
    select
        s.session_id,
        s.sender_id,
        s.user_id,
        s.session_nr,
        cast(s.session_initiation_timestamp as date) as session_date,
        s.session_initiation_timestamp,
        s.session_end_timestamp,
        s.session_duration_seconds,
        coalesce(s.input_channel, c.input_channel) as input_channel,
        s.environment,
        s.first_bot_model as model_id,
        s.interactions_count as user_messages_count,
        s.first_intent,
        s.last_intent as exit_intent,
        lb.utter_action as last_bot_utterance,
        s.session_nr = 1 as is_new_user,
        s.is_bounced,
        coalesce(m.engaging_messages_count, 0) > 0 as is_engaged,
        coalesce(s.{{ handoff }}_count, 0) = 0 as is_contained,
        coalesce(s.{{ handoff }}_count, 0) > 0 as is_handover,
        {%- if fallbacks %}
        ({% for f in fallbacks %}coalesce(s.{{ f }}_count, 0) > 0{% if not loop.last %} or {% endif %}{% endfor %}) as is_fallback_session,
        {%- else %}
        1 = 0 as is_fallback_session,
        {%- endif %}
        coalesce(q.sequence_nr > coalesce(m.last_user_sequence_nr, 0), false) as is_abandoned,
        case when q.sequence_nr > coalesce(m.last_user_sequence_nr, 0) then q.question end as abandoned_question
    from sessions s
    left join sender_channels c on c.sender_id = s.sender_id
    left join user_messages m on m.session_id = s.session_id
    left join last_questions q on q.session_id = s.session_id
    left join last_bot_messages lb on lb.session_id = s.session_id
)

select
    o.session_id,
    o.sender_id,
    o.user_id,
    o.session_nr,
    o.session_date,
    o.session_initiation_timestamp,
    o.session_end_timestamp,
    o.session_duration_seconds,
    o.input_channel,
    o.environment,
    o.model_id,
    cast(o.user_messages_count as {{ dbt.type_bigint() }}) as user_messages_count,
    o.first_intent,
    o.exit_intent,
    o.last_bot_utterance,
    o.is_new_user,
    o.is_bounced,
    o.is_engaged,
    o.is_contained,
    o.is_handover,
    o.is_fallback_session,
    o.is_abandoned,
    o.abandoned_question
from outcomes o
