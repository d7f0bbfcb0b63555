with source as (

    {{ orderspace_source_rows('invoices') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as invoice_id,
        {{ as_text('number') }} as invoice_number,
        {{ as_date('invoice_date') }} as invoice_date,
        {{ as_text('customer_id') }} as customer_id,
        {{ as_text('company_name') }} as company_name,
        {{ as_text('email_address') }} as email_address,
        orders as orders,
        {{ as_text('payment_terms') }} as payment_terms_name,
        {{ as_text('payment_terms_id') }} as payment_terms_id,
        {{ as_date('due_date') }} as due_date,
        {{ as_boolean('paid') }} as is_paid,
        {{ as_boolean('proforma') }} as is_proforma,
        deposit as deposit,
        {{ as_decimal(orderspace_json_field('deposit', 'percentage')) }} as deposit_percentage,
        {{ as_date(orderspace_json_field('deposit', 'due_date')) }} as deposit_due_date,
        {{ as_text('comments') }} as comments,
        address as address,
        {{ as_text('currency') }} as currency,
        {{ as_decimal('net_total') }} as net_total,
        {{ as_decimal('gross_total') }} as gross_total,
        is_deleted
    from source

)

select * from renamed
