with source as (

    {{ orderspace_source_rows('inventory_levels', key=['sku'], record_id='sku') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('sku') }} as sku,
        {{ as_decimal('on_hand') }} as on_hand,
        {{ as_decimal('available') }} as available,
        is_deleted
    from source

)

select * from renamed
