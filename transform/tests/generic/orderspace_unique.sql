{#- Keys are unique per site: no (source_relation, column_name) — or (source_relation, *combination) — twice. -#}
{% test orderspace_unique(model, column_name=none, combination=none) %}
    {%- set columns = ['source_relation'] + (combination or [column_name]) -%}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
