{#- Values the models and their tests read from vars, so each is written once (dbt_project.yml). -#}

{#- Receivables ageing: the bucket of `days` overdue, from var('orderspace_ageing_buckets'). -#}
{% macro orderspace_ageing_bucket(days) %}
    case
    {%- for bucket in var('orderspace_ageing_buckets') %}
        {%- if bucket.get('through_days') is not none %}
        when {{ days }} <= {{ bucket.through_days }} then '{{ bucket.label }}'
        {%- else %}
        else '{{ bucket.label }}'
        {%- endif %}
    {%- endfor %}
    end
{% endmacro %}

{% macro orderspace_ageing_labels() %}
    {{ return(var('orderspace_ageing_buckets') | map(attribute='label') | list) }}
{% endmacro %}

{#- A SQL list of quoted strings: ('a', 'b'). -#}
{% macro orderspace_sql_list(values) %}('{{ values | join("', '") }}'){% endmacro %}

{#- The site's own currency for rows of `source_relation`: var('orderspace_currency'), one code or
    a mapping {raw schema: code}. -#}
{% macro orderspace_site_currency(source_relation) %}
    {%- set currency = var('orderspace_currency') -%}
    {%- if currency is mapping -%}
        case {{ source_relation }}
        {%- for schema, code in currency.items() %} when '{{ schema }}' then '{{ code }}'{% endfor %}
        end
    {%- else -%}
        cast('{{ currency }}' as {{ dbt.type_string() }})
    {%- endif -%}
{% endmacro %}
