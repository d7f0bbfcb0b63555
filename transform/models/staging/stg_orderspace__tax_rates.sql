with source as (

    {{ orderspace_live_rows('tax_rates') }}

),

renamed as (

    select
        {{ as_text('id') }} as tax_rate_id,
        {{ as_text('name') }} as tax_rate_name,
        {{ as_decimal('rate') }} as tax_rate
    from source

)

select * from renamed
