{#- Every non-null value of column_name names a row of `to` (by `field`) of the same site. -#}
{% test orderspace_relationships(model, column_name, to, field) %}
    with child as (select * from {{ model }})

    select child.source_relation, child.{{ column_name }}
    from child
    left join {{ to }} as parent
        on child.source_relation = parent.source_relation
        and child.{{ column_name }} = parent.{{ field }}
    where child.{{ column_name }} is not null
        and parent.{{ field }} is null
{% endtest %}
