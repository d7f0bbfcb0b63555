{#- Column types that come out the same on every warehouse, whatever the loader landed:
    target-duckdb lands money as DOUBLE and dates as VARCHAR, target-snowflake numbers as FLOAT. -#}

{#- Money, quantities and rates: exact decimals, never floats. -#}
{% macro orderspace_decimal() %}{{ return(adapter.dispatch('orderspace_decimal', 'orderspace')()) }}{% endmacro %}
{% macro default__orderspace_decimal() %}decimal(18, 4){% endmacro %}
{% macro bigquery__orderspace_decimal() %}numeric{% endmacro %}

{% macro orderspace_date() %}{{ return(adapter.dispatch('orderspace_date', 'orderspace')()) }}{% endmacro %}
{% macro default__orderspace_date() %}date{% endmacro %}

{#- Singer date-times are UTC; every loader here lands them without a zone. -#}
{% macro as_timestamp(column) %}cast({{ column }} as {{ dbt.type_timestamp() }}){% endmacro %}
{% macro as_date(column) %}cast({{ column }} as {{ orderspace_date() }}){% endmacro %}
{% macro as_decimal(column) %}cast({{ column }} as {{ orderspace_decimal() }}){% endmacro %}
{% macro as_integer(column) %}cast({{ column }} as {{ dbt.type_bigint() }}){% endmacro %}
{% macro as_boolean(column) %}cast({{ column }} as {{ dbt.type_boolean() }}){% endmacro %}
{#- Text with "" as null: target-duckdb's CSV staging already turns "" into NULL, target-postgres keeps it. -#}
{% macro as_text(column) %}nullif(cast({{ column }} as {{ dbt.type_string() }}), ''){% endmacro %}
