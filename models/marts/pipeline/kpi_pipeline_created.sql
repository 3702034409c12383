-- Pipeline created per week and month: opportunities counted in the period of their
-- creation date, with their amount_corporate (fct_opportunities), split by source, type,
-- segment, region, owner and the owner's team (team: the dim_users version in force at
-- the creation moment). Marketing-sourced = fct_opportunities.is_marketing_sourced;
-- marketing-influenced = fct_opportunities.is_marketing_influenced.

{%- set period_types = ['week', 'month'] %}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

owner_teams_at_creation as (

    -- the owner's team in the dim_users version in force when the opportunity was created
    select
        source_system,
        opportunity_id,
        team
    from (
        select
            opportunities.source_system,
            opportunities.opportunity_id,
            users.team,
            row_number() over (
                partition by opportunities.source_system, opportunities.opportunity_id
                order by users.valid_from desc
            ) as version_recency
        from opportunities
        inner join users
            on
                opportunities.source_system = users.source_system
                and opportunities.owner_user_id = users.user_id
                and opportunities.created_at >= users.valid_from
                and opportunities.created_at < users.valid_to
    ) as owner_versions
    where version_recency = 1

),

opportunities_created as (

    select
        opportunities.source_system,
        opportunities.opportunity_id,
        opportunities.opportunity_type,
        opportunities.source_channel,
        opportunities.segment,
        opportunities.region,
        opportunities.owner_user_id,
        owner_teams_at_creation.team,
        opportunities.is_marketing_sourced,
        opportunities.is_marketing_influenced,
        opportunities.amount_corporate,
        dates.week_start_date,
        dates.month_start_date
    from opportunities
    cross join as_of
    inner join dates
        on opportunities.created_date = dates.date_day
    left join owner_teams_at_creation
        on
            opportunities.source_system = owner_teams_at_creation.source_system
            and opportunities.opportunity_id = owner_teams_at_creation.opportunity_id
    where opportunities.created_date <= as_of.as_of_date

),

created_by_period as (

    {% for period_type in period_types %}
    select
        '{{ period_type }}' as period_type,
        {{ period_type }}_start_date as period_start,
        source_system,
        opportunity_type,
        source_channel,
        segment,
        region,
        owner_user_id,
        team,
        count(*) as created_count,
        coalesce(sum(amount_corporate), 0) as created_amount,
        sum(case when is_marketing_sourced then 1 else 0 end) as sourced_count,
        coalesce(
            sum(case when is_marketing_sourced then amount_corporate end), 0
        ) as sourced_amount,
        sum(case when is_marketing_influenced then 1 else 0 end) as influenced_count,
        coalesce(
            sum(case when is_marketing_influenced then amount_corporate end), 0
        ) as influenced_amount
    from opportunities_created
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

period_ends as (

    {% for period_type in period_types %}
    select
        '{{ period_type }}' as period_type,
        {{ period_type }}_start_date as period_start,
        max(date_day) as period_end
    from dates
    group by 1, 2
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        cast(created_by_period.period_type as {{ dbt.type_string() }}) as period_type,
        cast(created_by_period.period_start as date) as period_start,
        cast(period_ends.period_end as date) as period_end,
        cast(as_of.as_of_date as date) as as_of_date,
        period_ends.period_end <= as_of.as_of_date as is_complete,
        cast(created_by_period.source_system as {{ dbt.type_string() }}) as source_system,
        cast(
            created_by_period.opportunity_type as {{ dbt.type_string() }}
        ) as opportunity_type,
        cast(created_by_period.source_channel as {{ dbt.type_string() }}) as source_channel,
        cast(created_by_period.segment as {{ dbt.type_string() }}) as segment,
        cast(created_by_period.region as {{ dbt.type_string() }}) as region,
        cast(created_by_period.owner_user_id as {{ dbt.type_string() }}) as owner_user_id,
        cast(created_by_period.team as {{ dbt.type_string() }}) as team,
        cast(created_by_period.created_count as bigint) as created_count,
        cast(created_by_period.created_amount as decimal(18, 2)) as created_amount,
        cast(created_by_period.sourced_count as bigint) as sourced_count,
        cast(created_by_period.sourced_amount as decimal(18, 2)) as sourced_amount,
        {{ divide('created_by_period.sourced_count', 'created_by_period.created_count') }}
            as sourced_count_share,
        case
            when created_by_period.created_amount != 0
                then {{ divide(
                    'created_by_period.sourced_amount', 'created_by_period.created_amount'
                ) }}
        end as sourced_amount_share,
        cast(created_by_period.influenced_count as bigint) as influenced_count,
        cast(created_by_period.influenced_amount as decimal(18, 2)) as influenced_amount
    from created_by_period
    cross join as_of
    inner join period_ends
        on
            created_by_period.period_type = period_ends.period_type
            and created_by_period.period_start = period_ends.period_start

)

select * from final
