with source as (

    {{ orderspace_source_rows('customer_groups') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as customer_group_id,
        {{ as_text('name') }} as customer_group_name,
        is_deleted
    from source

)

select * from renamed
