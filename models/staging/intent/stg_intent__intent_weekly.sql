with

source as (

    select * from {{ source('intent', 'intent_weekly') }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids: the account's web domain (matches accounts' website_domain)
        {{ website_domain('domain') }} as account_domain,

        -- descriptors
        topic as intent_topic,

        -- measures: 0-100
        intent_score,

        -- dates
        week_start as week_start_date

    from kept

)

select * from renamed
