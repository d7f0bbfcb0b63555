{#- Local time on the site's clock: var('orderspace_timezone'), an IANA name (default UTC). The
    loaders land UTC date-times without a zone; this gives the wall-clock time in that zone. -#}
{% macro orderspace_local_time(column) %}
    {%- set zone = var('orderspace_timezone') -%}
    {%- if zone | upper == 'UTC' -%}
        {{ return(column) }}
    {%- endif -%}
    {{ return(adapter.dispatch('orderspace_local_time', 'orderspace')(column, zone)) }}
{% endmacro %}
{% macro default__orderspace_local_time(column, zone) %}cast(timezone('{{ zone }}', timezone('UTC', {{ column }})) as {{ dbt.type_timestamp() }}){% endmacro %}
{% macro postgres__orderspace_local_time(column, zone) %}(({{ column }} at time zone 'UTC') at time zone '{{ zone }}'){% endmacro %}
{% macro snowflake__orderspace_local_time(column, zone) %}convert_timezone('UTC', '{{ zone }}', {{ column }}){% endmacro %}
{% macro bigquery__orderspace_local_time(column, zone) %}cast(datetime({{ column }}, '{{ zone }}') as timestamp){% endmacro %}

{#- The day ageing is measured on: var('orderspace_as_of_date') when set (YYYY-MM-DD), else the build's
    date on the site's clock. -#}
{% macro orderspace_as_of_date() %}
    {%- set fixed = var('orderspace_as_of_date', none) -%}
    {%- if fixed -%}
        {{ return("cast('" ~ fixed ~ "' as " ~ orderspace_date() ~ ")") }}
    {%- endif -%}
    {{ return('cast(' ~ orderspace_local_time(orderspace_utc_now()) ~ ' as ' ~ orderspace_date() ~ ')') }}
{% endmacro %}

{#- Now, as a UTC date-time without a zone, like the loaded columns. -#}
{% macro orderspace_utc_now() %}{{ return(adapter.dispatch('orderspace_utc_now', 'orderspace')()) }}{% endmacro %}
{% macro default__orderspace_utc_now() %}cast(timezone('UTC', now()) as {{ dbt.type_timestamp() }}){% endmacro %}
{% macro postgres__orderspace_utc_now() %}(now() at time zone 'UTC'){% endmacro %}
{% macro snowflake__orderspace_utc_now() %}cast(convert_timezone('UTC', current_timestamp()) as timestamp_ntz){% endmacro %}
{% macro bigquery__orderspace_utc_now() %}current_timestamp(){% endmacro %}
