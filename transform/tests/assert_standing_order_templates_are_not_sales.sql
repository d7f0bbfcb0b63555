-- A standing order's template is no order: not open, not a sale, not in a customer's order count.
select source_relation, order_id, 'template counted' as broken_rule
from {{ ref('fct_orders') }}
where order_status = 'standing_order' and (is_sale or is_open)

union all

select customers.source_relation, customers.customer_id, 'order count includes templates or cancelled orders'
from {{ ref('dim_customers') }} as customers
left join (
    select source_relation, customer_id, count(*) as sales
    from {{ ref('fct_orders') }}
    where order_status not in ('standing_order', 'cancelled')
    group by 1, 2
) as orders
    on customers.source_relation = orders.source_relation
    and customers.customer_id = orders.customer_id
where customers.order_count <> coalesce(orders.sales, 0)
