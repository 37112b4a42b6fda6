{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). Every interaction belongs to a row of sessions, and every session has
    interactions (a session's events form at least interaction 0): no orphan interaction, no session left over.
    Returns the session ids found on one side only. Cost: one scan of interactions and of sessions. -#}
with interaction_sessions as (
    select distinct i.session_id
    from {{ ref('interactions') }} i
)

select
    coalesce(i.session_id, s.session_id) as session_id,
    case when s.session_id is null then 'interactions without a session row'
         else 'session without interactions' end as problem
from interaction_sessions i
full outer join {{ ref('sessions') }} s on s.session_id = i.session_id
where i.session_id is null
   or s.session_id is null
