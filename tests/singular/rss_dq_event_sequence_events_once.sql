{{ config(tags=['rasa_semantic_schema', 'data_quality']) }}
{#- Data quality (dbt test -s tag:data_quality). Every event is in event_sequence once: a row written twice (two runs
    that recomputed the same sender at the same time, an incremental run that did not replace a sender's rows) counts
    twice in every metric. Returns the _record_hash values with more than one row. Cost: one aggregation over
    event_sequence. -#}
select q._record_hash, count(*) as rows_count
from {{ ref('event_sequence') }} q
group by q._record_hash
having count(*) > 1
