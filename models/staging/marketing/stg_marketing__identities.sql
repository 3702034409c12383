with

source as (

    select * from {{ source('marketing', 'identity') }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        anonymous_id,

        -- person (PII: stays in staging)
        lower(trim(email)) as email,

        -- timestamps (UTC)
        identified_at

    from kept

)

select * from renamed
