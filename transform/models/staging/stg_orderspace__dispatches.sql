with source as (

    {{ orderspace_source_rows('dispatches') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as dispatch_id,
        {{ as_text('order_id') }} as order_id,
        {{ as_integer('order_number') }} as order_number,
        {{ as_timestamp('created') }} as created_at,
        {{ as_text('comments') }} as comments,
        {{ as_text('customer_po_number') }} as customer_po_number,
        {{ as_text('customer_note') }} as customer_note,
        {{ as_text('shipping_type') }} as shipping_type,
        shipping_address as shipping_address,
        {{ as_text('email_address') }} as email_address,
        {{ as_text('phone') }} as phone,
        is_deleted
    from source

)

select * from renamed
