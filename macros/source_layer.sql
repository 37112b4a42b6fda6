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
  {#- s.<name> when the source has it, else a typed NULL. A text read also takes the value from dlt's variant columns
      (<name>__v_<type>): a value whose type conflicted with the column's, e.g. metadata__user_id__v_text when the
      first user ids loaded were numbers; each row has its value in exactly one of them. -#}
  {%- set t_text = rasa_semantic_schema.rss_type_text() -%}
  {%- set base = rasa_semantic_schema.rss_column_or_null(cols, name, type or t_text, 's') -%}
  {%- if type is not none and type != t_text -%}{{ return(base) }}{%- endif -%}
  {%- set variants = [] -%}
  {%- for col in cols if col.startswith((name | lower) ~ '__v_') -%}
    {%- do variants.append('cast(s.' ~ adapter.quote(col) ~ ' as ' ~ t_text ~ ')') -%}
  {%- endfor -%}
  {%- if not variants -%}{{ return(base) }}{%- endif -%}
  {{ return('coalesce(cast(' ~ base ~ ' as ' ~ t_text ~ '), ' ~ variants | join(', ') ~ ')') }}
{%- endmacro %}

{% macro rss_source_column_types(relation) -%}
  {#- {lower-cased column name: lower-cased data type} of a source relation; the types are empty strings when they
      are unknown (dbt runs with --no-introspect, as the offline dialect check does) -#}
  {%- set types = {} -%}
  {%- if execute and relation is not none -%}
    {%- for c in rasa_semantic_schema.rss_get_columns(relation) -%}
      {%- do types.update({c.name | lower: ((c.dtype or '') | string | lower | trim) if flags.INTROSPECT is not false else ''}) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(types) }}
{%- endmacro %}

{% macro rss_src_timestamp(relation, types) -%}
  {#- The event time as a timestamp without time zone in UTC, by the type of the source's `timestamp` column:
        timestamp with time zone (the loader's layout; also any type that is not known)  -> rss_to_timestamp
        timestamp without time zone (a foreign writer)                                  -> taken as UTC as it is
        a number (bigint, double, numeric: unix seconds, as Rasa's SQLTrackerStore stores them) -> converted; values
          that are no unix time from 1970 to 2200 (NaN, infinite, negative, milliseconds) become NULL, and the
          source layer leaves events without a time out
        text -> a compile error: its zone and format are not defined, and a value that does not parse would stop
          the run with a message that names neither the table nor the column -#}
  {%- set expr = 's.' ~ adapter.quote('timestamp') -%}
  {%- set dtype = types.get('timestamp', '') -%}
  {%- set re = modules.re -%}
  {%- if re.match('^(timestamp|timestamp_ns|timestamp_ms|timestamp_s|timestamp without time zone|timestamp[(][0-9]+[)] without time zone|datetime)$', dtype) -%}
    {{ return('cast(' ~ expr ~ ' as ' ~ rasa_semantic_schema.rss_type_timestamp() ~ ')') }}
  {%- elif re.match('^(tinyint|smallint|integer|int|int2|int4|int8|int64|bigint|hugeint|utinyint|usmallint|uinteger|ubigint|uhugeint|real|float|float4|float8|float64|double|double precision|numeric|decimal|bignumeric)([ (]|$)', dtype) -%}
    {%- set t_float = rasa_semantic_schema.rss_type_float() -%}
    {%- set seconds = 'cast(' ~ expr ~ ' as ' ~ t_float ~ ')' -%}
    {%- set guarded = 'case when ' ~ seconds ~ ' >= 0 and ' ~ seconds ~ ' < 7258118400 then ' ~ seconds ~ ' end' -%}
    {{ return(rasa_semantic_schema.rss_unix_seconds_to_timestamp(guarded)) }}
  {%- elif re.match('^(text|string|varchar|nvarchar|char|nchar|bpchar|character|character varying)([ (]|$)', dtype) -%}
    {{ exceptions.raise_compiler_error("rasa_semantic_schema: column " ~ adapter.quote('timestamp') ~ " of source table " ~ relation ~ " has type " ~ dtype ~ ". The package reads event times from a timestamp column (with time zone, or without one in UTC) or from unix seconds as a number; text has no defined time zone or format. Store the column as a timestamp (or read the table through a view that converts it), then run again.") }}
  {%- endif -%}
  {{ return(rasa_semantic_schema.rss_to_timestamp(expr)) }}
{%- endmacro %}

{% macro rss_unix_seconds_to_timestamp(seconds) -%}
  {#- unix seconds (a float, NULL stays NULL) as a timestamp without time zone in UTC -#}
  {{ return(adapter.dispatch('rss_unix_seconds_to_timestamp', 'rasa_semantic_schema')(seconds)) }}
{%- endmacro %}

{% macro default__rss_unix_seconds_to_timestamp(seconds) -%}
  {#- DuckDB and PostgreSQL: to_timestamp(double) is a timestamp with time zone -#}
  {{ return(rasa_semantic_schema.rss_to_timestamp('to_timestamp(' ~ seconds ~ ')')) }}
{%- endmacro %}

{% macro redshift__rss_unix_seconds_to_timestamp(seconds) -%}
  {#- Redshift has no to_timestamp(double); 'epoch' plus an interval is a timestamp without time zone in UTC -#}
  {{ return("(timestamp 'epoch' + (" ~ seconds ~ ") * interval '1 second')") }}
{%- endmacro %}

{% macro bigquery__rss_unix_seconds_to_timestamp(seconds) -%}
  {{ return('timestamp_micros(cast(round((' ~ seconds ~ ') * 1000000) as int64))') }}
{%- endmacro %}

{% macro rss_src_select(relation, types, exprs, where=none) -%}
  {#- the common columns plus the table-specific expressions in `exprs`, in rss_event_columns order. Rows that
      cannot be placed in a conversation (no sender_id, or no event time) or have no identity (no _record_hash:
      duplicates could not be told apart) are left out. -#}
  {%- set cols = types.keys() | list -%}
  {%- set t_text = rasa_semantic_schema.rss_type_text() -%}
  {%- set ts = rasa_semantic_schema.rss_src_timestamp(relation, types) -%}
  {%- set c = {
      '_record_hash': 'cast(s._record_hash as ' ~ t_text ~ ')',
      '_load_id': 'cast(s._load_id as ' ~ t_text ~ ')',
      '_event_pos': 'cast(' ~ rasa_semantic_schema.rss_col(cols, '_event_pos', dbt.type_bigint()) ~ ' as ' ~ dbt.type_bigint() ~ ')',
      'sender_id': 'cast(s.sender_id as ' ~ t_text ~ ')',
      'timestamp': ts,
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
    where s.sender_id is not null and {{ ts }} is not null and s._record_hash is not null
    {%- if where %}
      and ({{ where }}){% endif %}
  {%- endset -%}
  {{ return(sql) }}
{%- endmacro %}

{% macro rss_ext_id(cols, var_column) -%}
  {%- if var_column == 'sender_id' -%}{{ return('cast(s.sender_id as ' ~ rasa_semantic_schema.rss_type_text() ~ ')') }}{%- endif -%}
  {{ return('cast(' ~ rasa_semantic_schema.rss_col(cols, var_column) ~ ' as ' ~ rasa_semantic_schema.rss_type_text() ~ ')') }}
{%- endmacro %}

{% macro rss_src_event_user(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_user', required=true) -%}
  {%- set types = rasa_semantic_schema.rss_source_column_types(rel) -%}
  {%- set cols = types.keys() | list -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, types, {
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
  {%- set types = rasa_semantic_schema.rss_source_column_types(rel) -%}
  {%- set cols = types.keys() | list -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, types, {
      'event': "cast('bot' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'metadata__utter_action') ~ ' as ' ~ t ~ ')',
      'text': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'text') ~ ' as ' ~ t ~ ')',
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_action(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_action', required=true) -%}
  {%- set types = rasa_semantic_schema.rss_source_column_types(rel) -%}
  {%- set cols = types.keys() | list -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, types, {
      'event': "cast('action' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'name') ~ ' as ' ~ t ~ ')',
      'action_policy': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'policy') ~ ' as ' ~ t ~ ')',
      'action_confidence': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'confidence', rasa_semantic_schema.rss_type_float()) ~ ' as ' ~ rasa_semantic_schema.rss_type_float() ~ ')',
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_slot(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_slot') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set types = rasa_semantic_schema.rss_source_column_types(rel) -%}
  {%- set cols = types.keys() | list -%}
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
  {{ return(rasa_semantic_schema.rss_src_select(rel, types, {
      'event': "cast('slot' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'name') ~ ' as ' ~ t ~ ')',
      'slot_value': slot_value,
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_active_loop(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_active_loop') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set types = rasa_semantic_schema.rss_source_column_types(rel) -%}
  {%- set cols = types.keys() | list -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, types, {
      'event': "cast('active_loop' as " ~ t ~ ")",
      'value': 'cast(' ~ rasa_semantic_schema.rss_col(cols, 'name') ~ ' as ' ~ t ~ ')',
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_session_started(where=none) -%}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event_session_started') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set types = rasa_semantic_schema.rss_source_column_types(rel) -%}
  {%- set cols = types.keys() | list -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {%- set uid = rasa_semantic_schema.rss_user_id_column() -%}
  {%- set sid = rasa_semantic_schema.rss_external_session_id_column() -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, types, {
      'event': "cast('session_started' as " ~ t ~ ")",
      'ext_user_id': (rasa_semantic_schema.rss_ext_id(cols, uid) if uid != 'sender_id' else 'cast(null as ' ~ t ~ ')'),
      'ext_session_id': (rasa_semantic_schema.rss_ext_id(cols, sid) if sid != 'sender_id' else 'cast(null as ' ~ t ~ ')'),
  }, where)) }}
{%- endmacro %}

{% macro rss_src_event_other(where=none) -%}
  {#- events of every other type (restart, rewind, user_featurization, ...) from the common `event` table -#}
  {%- set rel = rasa_semantic_schema.rss_source_relation('event') -%}
  {%- if rel is none -%}{{ return(none) }}{%- endif -%}
  {%- set types = rasa_semantic_schema.rss_source_column_types(rel) -%}
  {%- set t = rasa_semantic_schema.rss_type_text() -%}
  {%- set other = "s.event is not null and s.event not in ('user', 'bot', 'action', 'slot', 'active_loop', 'session_started')" -%}
  {{ return(rasa_semantic_schema.rss_src_select(rel, types, {
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
