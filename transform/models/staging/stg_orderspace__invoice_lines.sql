with source as (

    {{ orderspace_source_rows('invoice_lines', key=['invoice_id', 'position'], record_id=none, parent=('invoices', 'invoice_id')) }}

),

renamed as (

    select
        source_relation,
        {{ dbt.concat(['invoice_id', "'-'", as_text('position')]) }} as invoice_line_id,
        {{ as_text('invoice_id') }} as invoice_id,
        {{ as_integer('position') }} as line_position,
        {{ as_text('sku') }} as sku,
        {{ as_text('name') }} as product_name,
        {{ as_text('options') }} as variant_options,
        {{ as_decimal('quantity') }} as quantity,
        {{ as_decimal('unit_price') }} as unit_price,
        {{ as_decimal('sub_total') }} as sub_total,
        {{ as_decimal('tax_rate') }} as tax_rate,
        {{ as_decimal('tax_amount') }} as tax_amount,
        {{ as_text('order_line_id') }} as order_line_id,
        {{ as_text('tax_rate_id') }} as tax_rate_id,
        is_deleted
    from source

)

select * from renamed
