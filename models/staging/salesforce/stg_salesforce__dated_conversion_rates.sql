with

source as (

    {{ fivetran_active_rows(source('salesforce', 'dated_conversion_rate')) }}

),

kept as (

    select * from source
    where
        not coalesce(is_deleted, false)
        and _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        id as dated_conversion_rate_id,
        upper(trim(iso_code)) as currency_code,
        'salesforce' as source_system,

        -- units of currency_code per one unit of the corporate currency
        conversion_rate,

        -- validity: [valid_from, valid_to), open end as 9999-12-31 like the seeds
        start_date as valid_from,
        coalesce(next_start_date, cast('9999-12-31' as date)) as valid_to,

        -- timestamps (UTC)
        created_date as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
