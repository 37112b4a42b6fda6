{#-
  The source layer: one macro per source event table. Each renames and types what the rest of the package reads,
  so that another source layout (dlt's _dlt_* names, a SQLTrackerStore `events` table) needs only these macros.
  Every macro returns a select with the same columns (rss_event_columns), or none when an optional table is missing.
-#}

{% macro rss_event_columns() -%}
  {{ return(['_record_hash', '_load_id', '_event_pos', 'sender_id', 'event', 'timestamp', 'model_id', 'environment',
             'value', 'text', 'intent_confidence', 'input_channel', 'message_id', 'action_policy', 'action_confidence',
             'slot_value', 'ext_user_id', 'ext_session_id']) }}
{%- endmacro %}

{% macro rss_required_event_tables() -%}
  {#- the event tables the prerequisite gate requires; every other event table may be missing (as if empty) -#}
  {{ return(['event_user', 'event_action']) }}
{%- endmacro %}

{% macro rss_event_tables() -%}
  {{ return(['event_user', 'event_bot', 'event_action', 'event_slot', 'event_active_loop', 'event_session_started', 'event']) }}
{%- endmacro %}

{% macro rss_col(cols, name, type=none) -%}
  {#- s.<name> when the source has it, else a typed NULL -#}
  {{ return(rasa_semantic_schema.rss_column_or_null(cols, name, type or rasa_semantic_schema.rss_type_text(), 's')) }}
{%- endmacro %}

{% macro rss_src_select(relation, cols, exprs, where=none) -%}
  {#- the common columns plus the table-specific expressions in `exprs`, in rss_event_columns order -#}
  {%- set t_text = rasa_semantic_schema.rss_type_text() -%}
  {%- set c = {
      '_record_hash': 'cast(s._record_hash as ' ~ t_text ~ ')',
      '_load_id': 'cast(s._load_id as ' ~ t_text ~ ')',
      '_event_pos': 'cast(' ~ rasa_semantic_schema.rss_col(cols, '_event_pos', dbt.type_bigint()) ~ ' as ' ~ dbt.type_bigint() ~ ')',
      'sender_id': 'cast(s.sender_id as ' ~ t_text ~ ')',
      'timestamp': rasa_semantic_schema.rss_to_timestamp('s.' ~ adapter.quote('timestamp')),
      'model_id': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'model_id') ~ ' as ' ~ t_text ~ ')',
      'environment': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'environment') ~ ' as ' ~ t_text ~ ')',
  } -%}
  {%- do c.update(exprs) -%}
  {%- set out = [] -%}
  {%- for name in rasa_semantic_schema.rss_event_columns() -%}
    {%- set null_type = rasa_semantic_schema.rss_type_float() if name in ('intent_confidence', 'action_confidence') else t_text -%}
    {%- do out.append(c.get(name, 'cast(null as ' ~ null_type ~ ')') ~ ' as ' ~ adapter.quote(name)) -%}
  {%- endfor -%}
  {%- set sql -%}
    select {{ out | join(',\n           ') }}
    from {{ relation }} s
    {%- if where %}
    where {{ where }}{% endif %}
  {%- endset -%}
  {{ return(sql) }}
{%- endmacro %}

{% macro rss_ext_id(cols, var_column) -%}
  {%- if var_column == 'sender_id' -%}{{ return('cast(s.sender_id as ' ~ rasa_semantic_schema.rss_type_text() ~ ')') }}{%- endif -%}
  {{ return('cast(' ~ rasa_semantic_schema.rss_col(cols, var_column) ~ ' as ' ~ rasa_semantic_schema.rss_type_text() ~ ')') }}
{%- endmacro %}

{% macro rss_src_event_user(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_user', required=true) -%}
  {%- set cols = rasa_semantic_schema.rss_columns(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, cols, {
      'event': "cast('user' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'parse_data__intent__name') ~ ' as ' ~ t ~ ')',
      'text': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'text') ~ ' as ' ~ t ~ ')',
      'intent_confidence': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'parse_data__intent__confidence', rasa_semantic_schema.rss_type_float()) ~ ' as ' ~ rasa_semantic_schema.rss_type_float() ~ ')',
      'input_channel': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'input_channel') ~ ' as ' ~ t ~ ')',
      'message_id': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'message_id') ~ ' as ' ~ t ~ ')',
      'ext_user_id': rasa_semantic_schema.rss_ext_id(cols, rasa_semantic_schema.rss_user_id_column()),
      'ext_session_id': rasa_semantic_schema.rss_ext_id(cols, rasa_semantic_schema.rss_external_session_id_column()),
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_bot(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_bot') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set cols = rasa_semantic_schema.rss_columns(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, cols, {
      'event': "cast('bot' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'metadata__utter_action') ~ ' as ' ~ t ~ ')',
      'text': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'text') ~ ' as ' ~ t ~ ')',
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_action(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_action', required=true) -%}
  {%- set cols = rasa_semantic_schema.rss_columns(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, cols, {
      'event': "cast('action' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'name') ~ ' as ' ~ t ~ ')',
      'action_policy': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'policy') ~ ' as ' ~ t ~ ')',
      'action_confidence': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'confidence', rasa_semantic_schema.rss_type_float()) ~ ' as ' ~ rasa_semantic_schema.rss_type_float() ~ ')',
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_slot(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_slot') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set cols = rasa_semantic_schema.rss_columns(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {#- scalar values: `value` and its type variants (value__v_*); object values: any other value__* column -#}
  {%- set scalars = [] -%}
  {%- set objects = [] -%}
  {%- for col in cols -%}
    {%- if col == 'value' or col.startswith('value__v_') -%}{%- do scalars.append('cast(s.' ~ adapter.quote(col) ~ ' as ' ~ t ~ ')') -%}
    {%- elif col.startswith('value__') -%}{%- do objects.append('s.' ~ adapter.quote(col) ~ ' is not null') -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if objects -%}{%- do scalars.append("case when " ~ objects | join(' or ') ~ " then cast('{}' as " ~ t ~ ") end") -%}{%- endif -%}
  {%- set slot_value = ('coalesce(' ~ scalars | join(', ') ~ ')') if scalars | length > 1 else (scalars[0] if scalars else 'cast(null as ' ~ t ~ ')') -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, cols, {
      'event': "cast('slot' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'name') ~ ' as ' ~ t ~ ')',
      'slot_value': slot_value,
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_active_loop(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_active_loop') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set cols = rasa_semantic_schema.rss_columns(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, cols, {
      'event': "cast('active_loop' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'name') ~ ' as ' ~ t ~ ')',
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_session_started(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_session_started') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set cols = rasa_semantic_schema.rss_columns(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {%- set uid = rasa_semantic_schema.rss_user_id_column() -%}
  {%- set sid = rasa_semantic_schema.rss_external_session_id_column() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, cols, {
      'event': "cast('session_started' as " ~ t ~ ")",
      'ext_user_id': (rasa_semantic_schema.rss_ext_id(cols, uid) if uid != 'sender_id' else 'cast(null as ' ~ t ~ ')'),
      'ext_session_id': (rasa_semantic_schema.rss_ext_id(cols, sid) if sid != 'sender_id' else 'cast(null as ' ~ t ~ ')'),
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_other(where=none) -%}
  {#- events of every other type (restart, rewind, user_featurization, ...) from the common `event` table -#}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set cols = rasa_semantic_schema.rss_columns(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {%- set other = "s.event not in ('user', 'bot', 'action', 'slot', 'active_loop', 'session_started')" -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, cols, {
      'event': 'cast(s.event as ' ~ t ~ ')',
  }, other ~ (' and (' ~ where ~ ')' if where else ''))) }}
{%- endmacro %}

{% macro rss_src_events(where=none) -%}
  {#- union all of every event source that exists, each filtered by `where` (on alias s) -#}
  {%- set parts = [] -%}
  {%- for sql in [rasa_semantic_schema.rss_src_event_user(where), rasa_semantic_schema.rss_src_event_bot(where),
                  rasa_semantic_schema.rss_src_event_action(where), rasa_semantic_schema.rss_src_event_slot(where),
                  rasa_semantic_schema.rss_src_event_active_loop(where), rasa_semantic_schema.rss_src_event_session_started(where),
                  rasa_semantic_schema.rss_src_event_other(where)] -%}
    {%- if sql is not none -%}{%- do parts.append(sql) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(parts | join('\n    union all\n')) }}
{%- endmacro %}
