{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). Every interaction belongs to a row of sessions, and every session has
    interactions (a session's events form at least interaction 0): no orphan interaction, no session left over.
    Returns the session ids found on one side only. Cost: one scan of interactions and of sessions. -#}
{{ rasa_semantic_schema.rss_dq_key_mismatches(
    ref('interactions'), ref('sessions'), 'session_id',
    missing='interactions without a session row', unused='session without interactions') }}
