with order_lines as (

    select * from {{ ref('stg_orderspace__order_lines') }}
    where not is_deleted

),

orders as (

    select * from {{ ref('int_orderspace__orders') }}

),

-- One variant per SKU and site, so a SKU shared by mistake cannot multiply the lines; a live
-- variant before a deleted one.
variants as (

    select source_relation, product_variant_id, product_id, sku
    from (
        select
            source_relation,
            product_variant_id,
            product_id,
            sku,
            row_number() over (
                partition by source_relation, sku
                order by case when is_deleted then 1 else 0 end, product_variant_id
            ) as sku_rank
        from {{ ref('stg_orderspace__product_variants') }}
        where sku is not null
    ) as ranked
    where sku_rank = 1

)

select
    order_lines.source_relation,
    order_lines.order_line_id,
    order_lines.order_id,
    orders.order_number,
    orders.customer_id,
    order_lines.sku,
    variants.product_variant_id,
    variants.product_id,
    order_lines.line_position,
    order_lines.product_name,
    order_lines.variant_options,
    order_lines.is_shipping,
    order_lines.is_on_hold,
    order_lines.preorder_window_id,
    order_lines.tax_rate_id,
    orders.order_status,
    orders.is_open,
    orders.is_sale,
    orders.order_date,
    orders.delivery_date,
    orders.created_at as order_created_at,
    orders.currency,
    order_lines.quantity,
    order_lines.unit_price,
    order_lines.sub_total as net_amount,
    order_lines.tax_rate,
    order_lines.tax_amount,
    {{ as_decimal('order_lines.sub_total + coalesce(order_lines.tax_amount, 0)') }} as gross_amount,
    order_lines.dispatched_quantity,
    order_lines.invoiced_quantity,
    order_lines.paid_quantity,
    {{ as_decimal('order_lines.quantity - coalesce(order_lines.dispatched_quantity, 0)') }} as undispatched_quantity
from order_lines
inner join orders
    on order_lines.source_relation = orders.source_relation
    and order_lines.order_id = orders.order_id
    and not orders.is_deleted
left join variants
    on order_lines.source_relation = variants.source_relation
    and order_lines.sku = variants.sku
