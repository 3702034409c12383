with

source as (

    -- every version: Fivetran always syncs this table in history mode, and its inactive
    -- versions are the stages a deal left (its stage history)
    {{ fivetran_active_rows(source('hubspot', 'deal_stage'), every_version=true) }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    -- history-mode table: every version is kept; is_current marks the active one
    select distinct
        -- ids
        deal_id,
        value as deal_stage_id,
        source as change_source,
        source_id as change_source_id,
        'hubspot' as source_system,

        -- booleans
        coalesce(_fivetran_active, false) as is_current,

        -- timestamps (UTC)
        date_entered as entered_at,
        _fivetran_start as valid_from_at,
        _fivetran_end as valid_to_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
