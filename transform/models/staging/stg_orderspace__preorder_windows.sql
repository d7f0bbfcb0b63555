with source as (

    {{ orderspace_source_rows('preorder_windows') }}

),

renamed as (

    select
        source_relation,
        {{ as_text('id') }} as preorder_window_id,
        {{ as_text('name') }} as preorder_window_name,
        {{ as_date('deadline') }} as deadline_date,
        {{ as_date('due') }} as due_date,
        categories as categories,
        is_deleted
    from source

)

select * from renamed
