with source as (

    {{ orderspace_live_rows('inventory_levels', key=['sku'], record_id='sku') }}

),

renamed as (

    select
        {{ as_text('sku') }} as sku,
        {{ as_decimal('on_hand') }} as on_hand,
        {{ as_decimal('available') }} as available
    from source

)

select * from renamed
