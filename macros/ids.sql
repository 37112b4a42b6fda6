{#- The 1.x id formats: session `user_id/session_nr`, interaction `user_id/session_nr/interaction_nr`. -#}

{% macro rss_session_id(user_id, session_nr) -%}
  {{ return(dbt.concat([user_id, "'/'", 'cast(' ~ session_nr ~ ' as ' ~ rasa_semantic_schema.rss_type_text() ~ ')'])) }}
{%- endmacro %}

{% macro rss_interaction_id(user_id, session_nr, interaction_nr) -%}
  {{ return(dbt.concat([user_id, "'/'", 'cast(' ~ session_nr ~ ' as ' ~ rasa_semantic_schema.rss_type_text() ~ ')',
                        "'/'", 'cast(' ~ interaction_nr ~ ' as ' ~ rasa_semantic_schema.rss_type_text() ~ ')'])) }}
{%- endmacro %}
