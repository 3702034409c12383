with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

segments as (

    select * from {{ ref('segments') }}

),

country_regions as (

    select * from {{ ref('country_regions') }}

),

mql_rules as (

    select * from {{ ref('mql_rules') }}

),

icp_industries as (

    select * from {{ ref('icp_industries') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_accepted') }}

),

opportunity_stages as (

    select * from {{ ref('int_opportunity_stages') }}

),

{% if var('salesforce_enabled', true) %}
salesforce_accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

),
{% endif %}

{% if var('hubspot_enabled', true) %}
hubspot_companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),
{% endif %}

accounts_unioned as (

    {% if var('salesforce_enabled', true) %}
    select
        account_id,
        source_system,
        account_name,
        website_domain,
        industry,
        employee_count,
        annual_revenue,
        country_code,
        account_type as crm_account_status,
        owner_user_id,
        parent_account_id,
        created_at
    from salesforce_accounts
    {% endif %}

    {% if var('salesforce_enabled', true) and var('hubspot_enabled', true) %}
    union all
    {% endif %}

    {% if var('hubspot_enabled', true) %}
    select
        company_id as account_id,
        source_system,
        company_name as account_name,
        website_domain,
        industry,
        employee_count,
        annual_revenue,
        country_code,
        lifecycle_stage as crm_account_status,
        owner_id as owner_user_id,
        cast(null as {{ dbt.type_string() }}) as parent_account_id,
        created_at
    from hubspot_companies
    {% endif %}

),

won_opportunities as (

    -- an account is a customer once an opportunity of it closed won by the as-of date
    -- (a quarantined one does not count: int_opportunities_accepted)
    select
        opportunities.source_system,
        opportunities.account_id,
        min(opportunities.close_date) as first_won_date
    from opportunities
    inner join opportunity_stages
        on
            opportunities.source_system = opportunity_stages.source_system
            and opportunities.crm_stage_value = opportunity_stages.crm_stage_value
    cross join as_of
    where
        opportunity_stages.is_won
        and opportunities.close_date <= as_of.as_of_date
    group by 1, 2

),

mql_rule_in_force as (

    select mql_rules.*
    from mql_rules
    cross join as_of
    where
        mql_rules.valid_from <= as_of.as_of_date
        and mql_rules.valid_to > as_of.as_of_date

),

final as (

    select
        accounts_unioned.account_id,
        accounts_unioned.source_system,
        accounts_unioned.account_name,
        accounts_unioned.website_domain,
        accounts_unioned.industry,
        cast(accounts_unioned.employee_count as bigint) as employee_count,
        {{ to_money('accounts_unioned.annual_revenue') }} as annual_revenue,
        accounts_unioned.country_code,
        country_regions.region,
        segments.segment,
        mql_rule_in_force.mql_rule_id,
        as_of.as_of_date as icp_evaluated_on,
        coalesce(
            accounts_unioned.employee_count
            between mql_rule_in_force.min_employees and mql_rule_in_force.max_employees,
            false
        ) as is_icp_size_fit,
        coalesce(icp_industries.is_target_industry, false) as is_icp_industry_fit,
        coalesce(
            accounts_unioned.employee_count
            between mql_rule_in_force.min_employees and mql_rule_in_force.max_employees
            and icp_industries.is_target_industry,
            false
        ) as is_icp_fit,
        accounts_unioned.crm_account_status,
        won_opportunities.account_id is not null as is_customer,
        won_opportunities.first_won_date,
        accounts_unioned.owner_user_id,
        accounts_unioned.parent_account_id,
        accounts_unioned.created_at
    from accounts_unioned
    cross join as_of
    left join country_regions
        on accounts_unioned.country_code = country_regions.country_code
    left join segments
        on
            accounts_unioned.employee_count
            between segments.min_employees and segments.max_employees
    left join mql_rule_in_force
        on 1 = 1
    left join icp_industries
        on accounts_unioned.industry = icp_industries.industry
    left join won_opportunities
        on
            accounts_unioned.source_system = won_opportunities.source_system
            and accounts_unioned.account_id = won_opportunities.account_id

)

select * from final
