with source as (

    {{ orderspace_source_rows('customers') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as customer_id,
        {{ as_text('company_name') }} as company_name,
        {{ as_timestamp('created_at') }} as created_at,
        {{ as_text('status') }} as customer_status,
        {{ as_text('reference') }} as customer_reference,
        {{ as_text('internal_note') }} as internal_note,
        {{ as_text('phone') }} as phone,
        email_addresses as email_addresses,
        buyers as buyers,
        addresses as addresses,
        {{ as_text('tax_number') }} as tax_number,
        {{ as_text('tax_rate_id') }} as tax_rate_id,
        {{ as_decimal('minimum_spend') }} as minimum_spend,
        {{ as_text('payment_terms_id') }} as payment_terms_id,
        {{ as_text('customer_group_id') }} as customer_group_id,
        {{ as_text('price_list_id') }} as price_list_id,
        is_deleted
    from source

)

select * from renamed
