{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). Every interaction_id of event_sequence has its row in interactions,
    and every interaction has events: no event points to a missing interaction, no interaction is left over (for
    example by an incremental run that renumbered a session and did not remove the old rows). Returns the interaction
    ids found on one side only. Cost: one scan of event_sequence and of interactions. -#}
{{ rasa_semantic_schema.rss_dq_key_mismatches(
    ref('event_sequence'), ref('interactions'), 'interaction_id',
    missing='events without an interaction row', unused='interaction without events') }}
