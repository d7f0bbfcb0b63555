with source as (

    {{ orderspace_live_rows('price_lists') }}

),

renamed as (

    select
        {{ as_text('id') }} as price_list_id,
        {{ as_text('name') }} as price_list_name,
        {{ as_text('currency') }} as currency,
        {{ as_decimal('conversion_rate') }} as conversion_rate
    from source

)

select * from renamed
