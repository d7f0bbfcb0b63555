-- Every order with what the marts ask of it: is it a sale, is it open, and its day on the site's clock.
with orders as (

    select * from {{ ref('stg_orderspace__orders') }}

),

flagged as (

    select
        *,
        order_status = 'cancelled' as is_cancelled,
        -- A standing order's template: it repeats as new orders, and is no order itself.
        order_status = 'standing_order' as is_standing_order_template,
        order_status in {{ orderspace_sql_list(var('orderspace_open_order_statuses')) }} as is_open,
        {{ orderspace_local_time('created_at') }} as created_at_local
    from orders

)

select
    *,
    not is_cancelled and not is_standing_order_template as is_sale,
    cast(created_at_local as {{ orderspace_date() }}) as order_date,
    cast({{ dbt.date_trunc('month', 'created_at_local') }} as {{ orderspace_date() }}) as order_month
from flagged
