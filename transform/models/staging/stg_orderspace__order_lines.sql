with source as (

    {{ orderspace_source_rows('order_lines', parent=('orders', 'order_id')) }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as order_line_id,
        {{ as_text('order_id') }} as order_id,
        {{ as_integer('position') }} as line_position,
        {{ as_text('sku') }} as sku,
        {{ as_text('name') }} as product_name,
        {{ as_text('options') }} as variant_options,
        grouping_category as grouping_category,
        {{ as_boolean('shipping') }} as is_shipping,
        {{ as_decimal('quantity') }} as quantity,
        {{ as_decimal('unit_price') }} as unit_price,
        {{ as_decimal('sub_total') }} as sub_total,
        {{ as_text('tax_rate_id') }} as tax_rate_id,
        {{ as_text('tax_name') }} as tax_name,
        {{ as_decimal('tax_rate') }} as tax_rate,
        {{ as_decimal('tax_amount') }} as tax_amount,
        {{ as_text('preorder_window_id') }} as preorder_window_id,
        {{ as_boolean('on_hold') }} as is_on_hold,
        {{ as_decimal('invoiced') }} as invoiced_quantity,
        {{ as_decimal('paid') }} as paid_quantity,
        {{ as_decimal('dispatched') }} as dispatched_quantity,
        {{ as_timestamp('order_created') }} as order_created_at,
        is_deleted
    from source

)

select * from renamed
