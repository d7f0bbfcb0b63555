with source as (

    {{ orderspace_source_rows('tax_rates') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as tax_rate_id,
        {{ as_text('name') }} as tax_rate_name,
        {{ as_decimal('rate') }} as tax_rate,
        is_deleted
    from source

)

select * from renamed
