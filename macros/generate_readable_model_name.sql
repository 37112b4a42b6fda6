{% macro generate_readable_model_name() -%}
  {#- readable model name from the `model` source table (alias m): name_sdkversion, e.g. 20211207-153335_2.8.12
      (the name alone when sdk_version is NULL).
      Override it from your project with a macro `default__generate_readable_model_name` (or one per adapter) and
      `dispatch: [{macro_namespace: rasa_semantic_schema, search_order: [your_project, rasa_semantic_schema]}]`. -#}
  {{ return(adapter.dispatch('generate_readable_model_name', 'rasa_semantic_schema')()) }}
{%- endmacro %}

{% macro default__generate_readable_model_name() -%}
  {#- just the name when the SDK version is unknown (a model loaded from a project folder) -#}
  {{ return(dbt.concat(['m.name', 'coalesce(' ~ dbt.concat(["'_'", 'm.sdk_version']) ~ ", '')"])) }}
{%- endmacro %}
