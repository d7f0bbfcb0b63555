with source as (

    {{ orderspace_source_rows('categories') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as category_id,
        {{ as_text('name') }} as category_name,
        {{ as_text('description') }} as category_description,
        {{ as_boolean('active') }} as is_active,
        {{ as_text('parent_id') }} as parent_category_id,
        products as products,
        is_deleted
    from source

)

select * from renamed
