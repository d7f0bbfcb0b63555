{#- Each row's currency is that of the order (`to`, joined by `field`) it belongs to: amounts that are
    added together are in one currency. -#}
{% test orderspace_same_currency(model, column_name, to, field, currency_column='currency') %}
    with child as (select * from {{ model }})

    select child.source_relation, child.{{ column_name }}
    from child
    inner join {{ to }} as parent
        on child.source_relation = parent.source_relation
        and child.{{ column_name }} = parent.{{ field }}
    where child.{{ currency_column }} <> parent.{{ currency_column }}
{% endtest %}
