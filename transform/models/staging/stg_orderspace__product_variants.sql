with source as (

    {{ orderspace_source_rows('product_variants', parent=('products', 'product_id')) }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as product_variant_id,
        {{ as_text('product_id') }} as product_id,
        {{ as_integer('position') }} as variant_position,
        {{ as_text('sku') }} as sku,
        {{ as_text('barcode') }} as barcode,
        options as variant_options,
        {{ as_decimal('unit_price') }} as unit_price,
        price_list_prices as price_list_prices,
        {{ as_decimal('rrp') }} as rrp,
        {{ as_boolean('backorder') }} as allows_backorder,
        {{ as_decimal('minimum') }} as minimum_quantity,
        {{ as_decimal('multiple') }} as order_multiple,
        {{ as_decimal('weight') }} as weight,
        {{ as_text('tax_rate_id') }} as tax_rate_id,
        {{ as_text('location') }} as location,
        is_deleted
    from source

)

select * from renamed
