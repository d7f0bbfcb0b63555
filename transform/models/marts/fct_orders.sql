with orders as (

    select * from {{ ref('stg_orderspace__orders') }}

),

lines as (

    select
        order_id,
        count(*) as line_count,
        sum(case when is_shipping then 0 else 1 end) as product_line_count,
        sum(case when is_shipping then 0 else quantity end) as total_quantity,
        sum(case when is_shipping then 0 else coalesce(dispatched_quantity, 0) end) as dispatched_quantity,
        sum(case when is_shipping then 0 else coalesce(invoiced_quantity, 0) end) as invoiced_quantity,
        sum(sub_total) as lines_net_total,
        sum(case when is_shipping then sub_total else 0 end) as shipping_net_total
    from {{ ref('stg_orderspace__order_lines') }}
    group by order_id

),

dispatches as (

    select
        order_id,
        count(*) as dispatch_count,
        max(created_at) as last_dispatched_at
    from {{ ref('stg_orderspace__dispatches') }}
    group by order_id

),

joined as (

    select
        orders.order_id,
        orders.order_number,
        orders.customer_id,
        orders.company_name,
        orders.order_status,
        orders.order_status not in ('fulfilled', 'cancelled') as is_open,
        orders.created_at,
        cast(orders.created_at as {{ orderspace_date() }}) as order_date,
        cast({{ dbt.date_trunc('month', 'orders.created_at') }} as {{ orderspace_date() }}) as order_month,
        orders.delivery_date,
        orders.shipping_type,
        orders.standing_order_id,
        orders.currency,
        orders.net_total,
        orders.gross_total - orders.net_total as tax_total,
        orders.gross_total,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(lines.product_line_count, 0) as product_line_count,
        {{ as_decimal('coalesce(lines.total_quantity, 0)') }} as total_quantity,
        {{ as_decimal('coalesce(lines.dispatched_quantity, 0)') }} as dispatched_quantity,
        {{ as_decimal('coalesce(lines.invoiced_quantity, 0)') }} as invoiced_quantity,
        {{ as_decimal('coalesce(lines.lines_net_total, 0)') }} as lines_net_total,
        {{ as_decimal('coalesce(lines.shipping_net_total, 0)') }} as shipping_net_total,
        coalesce(dispatches.dispatch_count, 0) as dispatch_count,
        dispatches.last_dispatched_at
    from orders
    left join lines
        on orders.order_id = lines.order_id
    left join dispatches
        on orders.order_id = dispatches.order_id

)

select
    *,
    -- Open orders: days since they were placed; fulfilled ones: days until their last dispatch.
    case
        when order_status = 'cancelled' then null
        when is_open then {{ dbt.datediff('order_date', 'current_date', 'day') }}
        when last_dispatched_at is not null
            then {{ dbt.datediff('order_date', 'cast(last_dispatched_at as ' ~ orderspace_date() ~ ')', 'day') }}
    end as days_open
from joined
