with source as (

    {{ orderspace_source_rows('price_lists') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as price_list_id,
        {{ as_text('name') }} as price_list_name,
        {{ as_text('currency') }} as currency,
        {{ as_decimal('conversion_rate') }} as conversion_rate,
        is_deleted
    from source

)

select * from renamed
