with

source as (

    select * from {{ source('marketing', 'identity') }}

),

renamed as (

    select distinct
        -- ids
        anonymous_id,

        -- person (PII: stays in staging)
        lower(trim(email)) as email,

        -- timestamps (UTC)
        identified_at

    from source

)

select * from renamed
