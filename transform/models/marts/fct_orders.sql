with orders as (

    select * from {{ ref('int_orderspace__orders') }}
    where not is_deleted

),

lines as (

    select
        source_relation,
        order_id,
        count(*) as line_count,
        sum(case when is_shipping then 0 else 1 end) as product_line_count,
        sum(case when is_shipping then 0 else quantity end) as total_quantity,
        sum(case when is_shipping then 0 else coalesce(dispatched_quantity, 0) end) as dispatched_quantity,
        sum(case when is_shipping then 0 else coalesce(invoiced_quantity, 0) end) as invoiced_quantity,
        sum(sub_total) as lines_net_total,
        sum(case when is_shipping then sub_total else 0 end) as shipping_net_total
    from {{ ref('stg_orderspace__order_lines') }}
    where not is_deleted
    group by 1, 2

),

dispatches as (

    select
        source_relation,
        order_id,
        count(*) as dispatch_count,
        max(created_at) as last_dispatched_at
    from {{ ref('stg_orderspace__dispatches') }}
    where not is_deleted
    group by 1, 2

),

joined as (

    select
        orders.source_relation,
        orders.order_id,
        orders.order_number,
        orders.customer_id,
        orders.company_name,
        orders.order_status,
        orders.is_open,
        orders.is_sale,
        orders.is_cancelled,
        orders.is_standing_order_template,
        orders.standing_order_id,
        orders.created_at,
        orders.created_at_local,
        orders.order_date,
        orders.order_month,
        orders.delivery_date,
        orders.shipping_type,
        orders.currency,
        orders.net_total,
        {{ as_decimal('orders.gross_total - orders.net_total') }} as tax_total,
        orders.gross_total,
        {{ as_integer('coalesce(lines.line_count, 0)') }} as line_count,
        {{ as_integer('coalesce(lines.product_line_count, 0)') }} as product_line_count,
        {{ as_decimal('coalesce(lines.total_quantity, 0)') }} as total_quantity,
        {{ as_decimal('coalesce(lines.dispatched_quantity, 0)') }} as dispatched_quantity,
        {{ as_decimal('coalesce(lines.invoiced_quantity, 0)') }} as invoiced_quantity,
        {{ as_decimal('coalesce(lines.lines_net_total, 0)') }} as lines_net_total,
        {{ as_decimal('coalesce(lines.shipping_net_total, 0)') }} as shipping_net_total,
        {{ as_integer('coalesce(dispatches.dispatch_count, 0)') }} as dispatch_count,
        dispatches.last_dispatched_at
    from orders
    left join lines
        on orders.source_relation = lines.source_relation
        and orders.order_id = lines.order_id
    left join dispatches
        on orders.source_relation = dispatches.source_relation
        and orders.order_id = dispatches.order_id

)

select
    *,
    {{ orderspace_as_of_date() }} as as_of_date,
    -- Open orders: days since they were placed; fulfilled ones: days until their last dispatch.
    {{ as_integer("case
        when is_open then " ~ dbt.datediff('order_date', orderspace_as_of_date(), 'day') ~ "
        when order_status = 'fulfilled' and last_dispatched_at is not null
            then " ~ dbt.datediff('order_date', 'cast(' ~ orderspace_local_time('last_dispatched_at') ~ ' as ' ~ orderspace_date() ~ ')', 'day') ~ "
    end") }} as days_open
from joined
