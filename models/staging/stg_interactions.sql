{{ config(rasa_semantic_schema.rss_physical('stg_interactions')) }}
{{ rasa_semantic_schema.rss_metric_depends_on() }}
{#- One row per interaction: a user message and everything up to the next one (interaction 0: what precedes the
    first user message of the session). One group-by over the events: values "of the first event" come from the
    interaction's first event (its user message; for interaction 0 the session's first event), first/last non-NULL
    values from order-aware aggregates (macros/dialect/aggregates.sql), and the previous interaction's id is built
    from the numbers (interaction 0 exists when the session does not open with a user message). #}
{%- set ts = adapter.quote('timestamp') -%}
{%- set story_intents = rasa_semantic_schema.rss_story_intents() -%}

with interactions as (
    select
        e.interaction_id,
        max(e.interaction_nr) as interaction_nr,
        max(e.reverse_interaction_nr) as reverse_interaction_nr,
        max(e.sender_id) as sender_id,
        max(e.session_id) as session_id,
        max(e.session_nr) as session_nr,
        max(e.user_id) as user_id,
        min(e.{{ ts }}) as interaction_initiation_timestamp,
        min(case when e.event = 'user' then e.{{ ts }} end) as interaction_start_timestamp,
        max(e.{{ ts }}) as interaction_end_timestamp,
        {{ rasa_semantic_schema.rss_last_text_by('e.active_form', 'e.sequence_nr') }} as interaction_active_form,
        {{ rasa_semantic_schema.rss_first_text_by('e.model_id', 'e.sequence_nr') }} as interaction_model_id,
        max(case when e.event = 'user' or e.sequence_nr = 1 then e.environment end) as environment,
        {{ rasa_semantic_schema.rss_first_text_by('e.ext_session_id', 'e.sequence_nr') }} as external_session_id,
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
    from {{ ref('stg_event_sequence') }} e
    group by e.interaction_id
),

previous as (
    select i.*,
           case
             when i.interaction_nr >= 2 or (i.interaction_nr = 1 and i.first_sequence_nr > 1)
             then {{ rasa_semantic_schema.rss_interaction_id('i.user_id', 'i.session_nr', 'i.interaction_nr - 1') }}
           end as previous_interaction_id
    from interactions i
)

select
    {%- set names = ['interaction_id', 'interaction_nr', 'reverse_interaction_nr', 'sender_id', 'session_id', 'session_nr',
                     'user_id', 'interaction_initiation_timestamp', 'interaction_start_timestamp',
                     'interaction_end_timestamp', 'interaction_active_form', 'interaction_model_id', 'environment',
                     'external_session_id', 'intent', 'input_channel', 'story_intent', 'events_count',
                     'bot_messages_count', 'actions_count', 'first_sequence_nr'] %}
    {%- for n in names %}
    p.{{ n }},
    {%- endfor %}
    {%- for m in rasa_semantic_schema.rss_count_metrics() %}
    p.{{ m.name }}_count,
    {%- endfor %}
    p.interaction_id as interaction_slot_fk,
    p.interaction_id as interaction_user_fk,
    p.interaction_id as interaction_bot_fk,
    p.interaction_id as interaction_story_action_fk,
    p.previous_interaction_id as previous_interaction_user_fk,
    p.previous_interaction_id as previous_interaction_bot_fk,
    p.previous_interaction_id as previous_interaction_action_fk,
    p.previous_interaction_id as previous_interaction_slot_fk
from previous p
