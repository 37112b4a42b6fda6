{{ config(rasa_semantic_schema.rss_view_config('_sender_users', 'sender_id')) }}
{#- Bookkeeping of the incremental runs (models/staging/stg_sender_ids.sql): every sender's user id, and the user id
    it had before the run that last changed it, with that run's last load id. #}
{%- set senders = none if rasa_semantic_schema.rss_is_full_run() else rasa_semantic_schema.rss_node_relation('senders') -%}
select
    s.sender_id,
    s.user_id,
    s.keep_previous_user_id as previous_user_id,
    s.keep_changed_in_load_id as user_id_changed_in_load_id
from {{ ref('stg_sender_ids') }} s
{%- if not is_incremental() and senders is not none %}
{#- created on an incremental run (a warehouse built before this table existed): the senders this run does not
    recompute come from the `senders` view #}
union all
select p.sender_id, p.user_id, cast(null as {{ rasa_semantic_schema.rss_type_text() }}), cast(null as {{ rasa_semantic_schema.rss_type_text() }})
from {{ senders }} p
where p.sender_id not in (select sender_id from {{ ref('stg_sender_ids') }})
{%- endif %}
