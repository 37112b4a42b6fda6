{% macro generate_readable_model_name() -%}
  {#- readable model name from the `model` source table (alias m): name_sdkversion, e.g. 20211207-153335_2.8.12.
      Override it from your project with a macro `default__generate_readable_model_name` (or one per adapter) and
      `dispatch: [{macro_namespace: rasa_semantic_schema, search_order: [your_project, rasa_semantic_schema]}]`. -#}
  {{ return(adapter.dispatch('generate_readable_model_name', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__generate_readable_model_name() -%}
  {{ return(dbt.concat(['m.name', "'_'", 'm.sdk_version'])) }}
{%- endmacro %}
