with source as (

    {{ orderspace_source_rows('invoice_payments', key=['invoice_id', 'position'], record_id=none, parent=('invoices', 'invoice_id')) }}

),

renamed as (

    select
        source_relation,
        {{ dbt.concat(['invoice_id', "'-'", as_text('position')]) }} as invoice_payment_id,
        {{ as_text('invoice_id') }} as invoice_id,
        {{ as_integer('position') }} as payment_position,
        {{ as_decimal('amount') }} as amount,
        {{ as_date('payment_date') }} as payment_date,
        {{ as_text('source') }} as payment_source,
        {{ as_text('description') }} as payment_description,
        {{ as_text('reference') }} as payment_reference,
        is_deleted
    from source

)

select * from renamed
