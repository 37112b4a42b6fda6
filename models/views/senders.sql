{{ config(rasa_semantic_schema.rss_view_config('senders', 'sender_id')) }}
-- depends_on: {{ ref('stg_sender_ids') }}
select * from {{ ref('stg_senders') }}
