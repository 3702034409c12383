{{ config(enabled=var('salesforce_enabled', true)) }}

-- The campaign a utm_campaign value stands for: the Salesforce campaign carrying it (the
-- smallest campaign id when several carry the same value), so touches without a campaign
-- id and ad spend (which only carries utm_campaign) resolve to one campaign each.

with

campaigns as (

    select * from {{ ref('stg_salesforce__campaigns') }}

),

ranked as (

    select
        utm_campaign,
        campaign_id,
        row_number() over (
            partition by utm_campaign
            order by campaign_id
        ) as campaign_rank
    from campaigns
    where utm_campaign is not null

),

final as (

    select
        utm_campaign,
        campaign_id
    from ranked
    where campaign_rank = 1

)

select * from final
