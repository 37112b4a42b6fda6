{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). Every interaction_id of event_sequence has its row in interactions,
    and every interaction has events: no event points to a missing interaction, no interaction is left over (for
    example by an incremental run that renumbered a session and did not remove the old rows). Returns the interaction
    ids found on one side only. Cost: one scan of event_sequence and of interactions. -#}
with event_interactions as (
    select distinct q.interaction_id
    from {{ ref('event_sequence') }} q
)

select
    coalesce(e.interaction_id, i.interaction_id) as interaction_id,
    case when i.interaction_id is null then 'events without an interaction row'
         else 'interaction without events' end as problem
from event_interactions e
full outer join {{ ref('interactions') }} i on i.interaction_id = e.interaction_id
where e.interaction_id is null
   or i.interaction_id is null
