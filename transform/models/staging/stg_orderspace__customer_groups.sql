with source as (

    {{ orderspace_live_rows('customer_groups') }}

),

renamed as (

    select
        {{ as_text('id') }} as customer_group_id,
        {{ as_text('name') }} as customer_group_name
    from source

)

select * from renamed
