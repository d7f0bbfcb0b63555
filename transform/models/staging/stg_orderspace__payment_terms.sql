with source as (

    {{ orderspace_source_rows('payment_terms') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as payment_terms_id,
        {{ as_text('name') }} as payment_terms_name,
        {{ as_integer('days_due') }} as days_due,
        {{ as_decimal('coalesce(deposit_percentage, deposit_pecentage)') }} as deposit_percentage,
        {{ as_integer('deposit_days_due') }} as deposit_days_due,
        is_deleted
    from source

)

select * from renamed
