{#- The package's models go to {dest_schema_prefix}_staging / _views / _event (var set in dbt_project.yml). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ rasa_semantic_schema.rss_generate_schema_name(custom_schema_name, node) }}
{%- endmacro %}
