with source as (

    {{ orderspace_source_rows('orders') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as order_id,
        {{ as_integer('number') }} as order_number,
        {{ as_timestamp('created') }} as created_at,
        {{ as_text('status') }} as order_status,
        {{ as_text('customer_id') }} as customer_id,
        {{ as_text('company_name') }} as company_name,
        {{ as_text('phone') }} as phone,
        email_addresses as email_addresses,
        {{ as_text('created_by') }} as created_by,
        {{ as_date('delivery_date') }} as delivery_date,
        {{ as_text('reference') }} as order_reference,
        {{ as_text('internal_note') }} as internal_note,
        {{ as_text('customer_po_number') }} as customer_po_number,
        {{ as_text('customer_note') }} as customer_note,
        {{ as_text('standing_order_id') }} as standing_order_id,
        {{ as_text('shipping_type') }} as shipping_type,
        shipping_address as shipping_address,
        billing_address as billing_address,
        {{ as_text('currency') }} as currency,
        {{ as_decimal('net_total') }} as net_total,
        {{ as_decimal('gross_total') }} as gross_total,
        is_deleted
    from source

)

select * from renamed
