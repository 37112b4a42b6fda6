{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). The `_loads` ledger holds at most one status 1 row per load: a load is
    marked processed once, however often the package runs (two runs at once, a retried run). Returns the loads marked
    more than once. Cost: one scan of the ledger. -#}
select l.load_id, count(*) as status_1_rows
from {{ ref('_loads') }} l
where l.status = 1
group by l.load_id
having count(*) > 1
