with source as (

    {{ orderspace_source_rows('dispatch_lines', key=['dispatch_id', 'position'], record_id=none, parent=('dispatches', 'dispatch_id')) }}

),

renamed as (

    select
        source_relation,
        {{ dbt.concat(['dispatch_id', "'-'", as_text('position')]) }} as dispatch_line_id,
        {{ as_text('dispatch_id') }} as dispatch_id,
        {{ as_integer('position') }} as line_position,
        {{ as_text('order_line_id') }} as order_line_id,
        {{ as_text('sku') }} as sku,
        {{ as_text('name') }} as product_name,
        {{ as_text('options') }} as variant_options,
        {{ as_decimal('quantity') }} as quantity,
        {{ as_timestamp('dispatch_created') }} as dispatch_created_at,
        is_deleted
    from source

)

select * from renamed
