{#- Reading the JSON the loaders land (DuckDB JSON, PostgreSQL jsonb, Snowflake VARIANT, BigQuery JSON or STRING). -#}

{#- A field of a JSON object column, as text. -#}
{% macro orderspace_json_field(column, field) %}{{ return(adapter.dispatch('orderspace_json_field', 'orderspace')(column, field)) }}{% endmacro %}
{% macro default__orderspace_json_field(column, field) %}json_extract_string({{ column }}, '$.{{ field }}'){% endmacro %}
{% macro postgres__orderspace_json_field(column, field) %}(to_jsonb({{ column }}) ->> '{{ field }}'){% endmacro %}
{% macro snowflake__orderspace_json_field(column, field) %}cast(get_path({{ column }}, '{{ field }}') as varchar){% endmacro %}
{% macro bigquery__orderspace_json_field(column, field) %}json_value({{ column }}, '$.{{ field }}'){% endmacro %}

{#- A join that gives one row per element of a JSON array column, the element named `alias`; an
    empty or null array gives none. Read an element's fields with orderspace_json_item_field. -#}
{% macro orderspace_json_array_join(column, alias) %}{{ return(adapter.dispatch('orderspace_json_array_join', 'orderspace')(column, alias)) }}{% endmacro %}
{% macro default__orderspace_json_array_join(column, alias) %}cross join unnest(cast({{ column }} as json[])) as {{ alias }}(item){% endmacro %}
{#- target-postgres lands a list as jsonb[], an object as jsonb: to_jsonb reads both. -#}
{% macro postgres__orderspace_json_array_join(column, alias) %}cross join lateral jsonb_array_elements(to_jsonb({{ column }})) as {{ alias }}(item){% endmacro %}
{% macro snowflake__orderspace_json_array_join(column, alias) %}cross join lateral flatten(input => {{ column }}) as {{ alias }}{% endmacro %}
{% macro bigquery__orderspace_json_array_join(column, alias) %}cross join unnest(json_query_array({{ column }})) as {{ alias }}{% endmacro %}

{% macro orderspace_json_item_field(alias, field) %}{{ return(adapter.dispatch('orderspace_json_item_field', 'orderspace')(alias, field)) }}{% endmacro %}
{% macro default__orderspace_json_item_field(alias, field) %}json_extract_string({{ alias }}.item, '$.{{ field }}'){% endmacro %}
{% macro postgres__orderspace_json_item_field(alias, field) %}({{ alias }}.item ->> '{{ field }}'){% endmacro %}
{% macro snowflake__orderspace_json_item_field(alias, field) %}cast(get_path({{ alias }}.value, '{{ field }}') as varchar){% endmacro %}
{% macro bigquery__orderspace_json_item_field(alias, field) %}json_value({{ alias }}, '$.{{ field }}'){% endmacro %}

{#- A JSON column of a mart, one type per warehouse for its contract: PostgreSQL's jsonb (target-postgres
    lands a list as jsonb[]). -#}
{% macro orderspace_json_column(column) %}{{ return(adapter.dispatch('orderspace_json_column', 'orderspace')(column)) }}{% endmacro %}
{% macro default__orderspace_json_column(column) %}{{ column }}{% endmacro %}
{% macro postgres__orderspace_json_column(column) %}to_jsonb({{ column }}){% endmacro %}
