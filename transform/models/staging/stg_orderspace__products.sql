with source as (

    {{ orderspace_source_rows('products') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as product_id,
        {{ as_text('code') }} as product_code,
        {{ as_text('name') }} as product_name,
        {{ as_text('description') }} as product_description,
        {{ as_boolean('active') }} as is_active,
        {{ as_decimal('minimum') }} as minimum_quantity,
        {{ as_text('tariff_code') }} as tariff_code,
        {{ as_text('country_of_origin') }} as country_of_origin,
        {{ as_text('composition') }} as composition,
        variant_options as variant_options,
        categories as categories,
        {{ as_text('grouping_category_id') }} as grouping_category_id,
        images as images,
        is_deleted
    from source

)

select * from renamed
