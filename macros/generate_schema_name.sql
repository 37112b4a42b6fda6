{#- Where the package's models go: {dest_schema_prefix}_staging, {dest_schema_prefix}_views and
    {dest_schema_prefix}_event, whatever the profile's schema is, with the var set on the command line or in any
    dbt_project.yml. dbt uses a project's own generate_schema_name only when that project is the root one; a project
    that installs this package adds (see integration_tests/macros):

        {% macro generate_schema_name(custom_schema_name, node) -%}
          {{ rasa_semantic_schema.rss_generate_schema_name(custom_schema_name, node) }}
        {%- endmacro %}
-#}

{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ rasa_semantic_schema.rss_generate_schema_name(custom_schema_name, node) }}
{%- endmacro %}

{% macro rss_generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is not none and node.package_name == 'rasa_semantic_schema' -%}
    {{ rasa_semantic_schema.rss_dest_prefix() }}_{{ custom_schema_name | trim }}
  {%- elif custom_schema_name is none -%}
    {{ target.schema }}
  {%- else -%}
    {{ target.schema }}_{{ custom_schema_name | trim }}
  {%- endif -%}
{%- endmacro %}
