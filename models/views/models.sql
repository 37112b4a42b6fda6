{{ config(materialized='table') }}
{{ config(rasa_semantic_schema.rss_physical('models')) }}
{#- The bot models, with a readable name from the overridable macro generate_readable_model_name (alias m). #}
{%- set declared = source('models', 'model') -%}
{%- set relation = rasa_semantic_schema.rss_get_relation(declared.database, declared.schema, declared.identifier) if execute else declared -%}
{%- if relation is not none %}
select m.*, {{ generate_readable_model_name() }} as model_name_custom
from {{ relation }} m
{%- else %}
{%- set t = rasa_semantic_schema.rss_type_text() %}
select cast(null as {{ t }}) as model_id, cast(null as {{ t }}) as name, cast(null as {{ t }}) as sdk_version,
       cast(null as {{ dbt.type_timestamp() }}) as {{ adapter.quote('timestamp') }}, cast(null as {{ t }}) as model_name_custom
{{ rasa_semantic_schema.rss_no_rows() }}
{%- endif %}
