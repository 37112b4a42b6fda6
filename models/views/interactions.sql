{{ config(incremental_strategy=rasa_semantic_schema.rss_incremental_strategy(),
          pre_hook="{{ rasa_semantic_schema.rss_delete_affected('sender_id') }}") }}
-- depends_on: {{ ref('stg_sender_ids') }}
select * from {{ ref('stg_interactions') }}
