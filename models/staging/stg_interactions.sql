{{ config(rasa_semantic_schema.rss_physical('stg_interactions')) }}
{{ rasa_semantic_schema.rss_metric_depends_on() }}
{#- One row per interaction: a user message and everything up to the next one (interaction 0: what precedes the
    first user message of the session). #}
{%- set ts = adapter.quote('timestamp') -%}
{%- set story_intents = rasa_semantic_schema.rss_story_intents() -%}

with events as (
    select e.*,
           min(e.sequence_nr) over (partition by e.session_id, e.interaction_nr) as first_nr,
           max(case when e.active_form is not null then e.sequence_nr end) over (partition by e.session_id, e.interaction_nr) as last_form_nr,
           min(case when e.model_id is not null then e.sequence_nr end) over (partition by e.session_id, e.interaction_nr) as first_model_nr,
           min(case when e.ext_session_id is not null then e.sequence_nr end) over (partition by e.session_id, e.interaction_nr) as first_ext_session_nr
    from {{ ref('stg_event_sequence') }} e
),

interactions as (
    select
        e.interaction_id,
        e.interaction_nr,
        max(e.reverse_interaction_nr) as reverse_interaction_nr,
        e.sender_id,
        e.session_id,
        e.session_nr,
        e.user_id,
        min(e.{{ ts }}) as interaction_initiation_timestamp,
        min(case when e.event = 'user' then e.{{ ts }} end) as interaction_start_timestamp,
        max(e.{{ ts }}) as interaction_end_timestamp,
        max(case when e.sequence_nr = e.last_form_nr then e.active_form end) as interaction_active_form,
        max(case when e.sequence_nr = e.first_model_nr then e.model_id end) as interaction_model_id,
        max(case when e.sequence_nr = e.first_nr then e.environment end) as environment,
        max(case when e.sequence_nr = e.first_ext_session_nr then e.ext_session_id end) as external_session_id,
        max(case when e.event = 'user' then e.value end) as intent,
        max(case when e.event = 'user' then e.input_channel end) as input_channel,
        {%- if story_intents %}
        max(case when e.event = 'user' and e.value in ({{ rasa_semantic_schema.rss_literal_list(story_intents) }}) then e.value end) as story_intent,
        {%- else %}
        cast(null as {{ rasa_semantic_schema.rss_type_text() }}) as story_intent,
        {%- endif %}
        count(*) as events_count,
        sum(case when e.event = 'bot' then 1 else 0 end) as bot_messages_count,
        sum(case when e.event = 'action' and e.value <> 'action_listen' then 1 else 0 end) as actions_count,
        min(e.sequence_nr) as first_sequence_nr
        {{ rasa_semantic_schema.rss_metric_count_columns('e') }}
    from events e
    group by e.interaction_id, e.interaction_nr, e.sender_id, e.session_id, e.session_nr, e.user_id
)

select
    i.*,
    i.interaction_id as interaction_slot_fk,
    i.interaction_id as interaction_user_fk,
    i.interaction_id as interaction_bot_fk,
    i.interaction_id as interaction_story_action_fk,
    lag(i.interaction_id) over (partition by i.session_id order by i.interaction_nr) as previous_interaction_user_fk,
    lag(i.interaction_id) over (partition by i.session_id order by i.interaction_nr) as previous_interaction_bot_fk,
    lag(i.interaction_id) over (partition by i.session_id order by i.interaction_nr) as previous_interaction_action_fk,
    lag(i.interaction_id) over (partition by i.session_id order by i.interaction_nr) as previous_interaction_slot_fk
from interactions i
