-- CAC per month for the company, by acquisition channel and by segment. Expense kinds are
-- the expense_categories flags; categories flagged is_advertising_cac are direct spend,
-- allocated to channels by the month's ad spend per channel (fct_ad_spend_monthly); every
-- other (shared) category, and every cost by segment, is allocated by the basis of the
-- cac_allocation_rules row in force (new_customers or new_mrr). A month without any basis
-- leaves its cost on the row whose channel (segment) is null, so allocations always sum to
-- the company total.

with

mrr_movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

gtm_expenses as (

    select * from {{ ref('fct_gtm_expenses') }}

),

ad_spend as (

    {% if var('ads_enabled', true) %}
    select * from {{ ref('fct_ad_spend_monthly') }}
    {% else %}
    -- without ad platform data, advertising costs stay on the unallocated channel row
    select
        cast(null as date) as month_start,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as decimal(18, 2)) as spend_amount_corporate
    where 1 = 0
    {% endif %}

),

expense_categories as (

    select * from {{ ref('expense_categories') }}

),

cac_allocation_rules as (

    select * from {{ ref('cac_allocation_rules') }}

),

as_of as (

    select distinct as_of_date from mrr_movements

),

months as (

    select month_start from gtm_expenses
    union
    select month_start from mrr_movements

),

month_expenses as (

    select
        months.month_start,
        coalesce(sum(case
            when
                expense_categories.is_fully_loaded_cac
                and expense_categories.is_advertising_cac
                then gtm_expenses.amount_corporate
        end), 0) as fully_loaded_direct,
        coalesce(sum(case
            when
                expense_categories.is_fully_loaded_cac
                and not expense_categories.is_advertising_cac
                then gtm_expenses.amount_corporate
        end), 0) as fully_loaded_shared,
        coalesce(sum(case
            when
                expense_categories.is_marketing_cac
                and expense_categories.is_advertising_cac
                then gtm_expenses.amount_corporate
        end), 0) as marketing_direct,
        coalesce(sum(case
            when
                expense_categories.is_marketing_cac
                and not expense_categories.is_advertising_cac
                then gtm_expenses.amount_corporate
        end), 0) as marketing_shared,
        coalesce(sum(case
            when expense_categories.is_advertising_cac then gtm_expenses.amount_corporate
        end), 0) as advertising_direct
    from months
    left join gtm_expenses
        on months.month_start = gtm_expenses.month_start
    left join expense_categories
        on gtm_expenses.expense_category = expense_categories.category
    group by 1

),

new_customers as (

    select
        month_start,
        acquisition_channel as channel,
        segment,
        new_mrr_corporate
    from mrr_movements
    where is_new_customer

),

company as (

    select
        month_expenses.month_start,
        'company' as breakdown,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as segment,
        cast(null as {{ dbt.type_string() }}) as allocation_basis,
        1.0 as basis_share,
        count(new_customers.month_start) as new_customers,
        coalesce(sum(new_customers.new_mrr_corporate), 0) as new_mrr,
        max(month_expenses.fully_loaded_direct + month_expenses.fully_loaded_shared)
            as fully_loaded_expense,
        max(month_expenses.marketing_direct + month_expenses.marketing_shared)
            as marketing_expense,
        max(month_expenses.advertising_direct) as advertising_expense
    from month_expenses
    left join new_customers
        on month_expenses.month_start = new_customers.month_start
    group by 1, 2, 3, 4, 5

),

channel_customers as (

    select
        month_start,
        channel,
        count(*) as new_customers,
        sum(new_mrr_corporate) as new_mrr
    from new_customers
    group by 1, 2

),

channel_spend as (

    select
        month_start,
        channel,
        sum(spend_amount_corporate) as ad_spend
    from ad_spend
    group by 1, 2

),

channel_keys as (

    select
        month_start,
        channel
    from channel_customers
    union
    select
        month_start,
        channel
    from channel_spend
    union
    select
        month_start,
        cast(null as {{ dbt.type_string() }}) as channel
    from month_expenses

),

segment_customers as (

    select
        month_start,
        segment,
        count(*) as new_customers,
        sum(new_mrr_corporate) as new_mrr
    from new_customers
    group by 1, 2

),

segment_keys as (

    select
        month_start,
        segment
    from segment_customers
    union
    select
        month_start,
        cast(null as {{ dbt.type_string() }}) as segment
    from month_expenses

),

keys as (

    select
        month_start,
        'channel' as breakdown,
        channel,
        cast(null as {{ dbt.type_string() }}) as segment,
        channel as breakdown_value
    from channel_keys
    union all
    select
        month_start,
        'segment' as breakdown,
        cast(null as {{ dbt.type_string() }}) as channel,
        segment,
        segment as breakdown_value
    from segment_keys

),

keyed_basis as (

    select
        keys.month_start,
        keys.breakdown,
        keys.channel,
        keys.segment,
        keys.breakdown_value,
        cac_allocation_rules.allocation_basis,
        coalesce(channel_customers.new_customers, segment_customers.new_customers, 0)
            as new_customers,
        coalesce(channel_customers.new_mrr, segment_customers.new_mrr, 0) as new_mrr,
        coalesce(channel_spend.ad_spend, 0) as ad_spend
    from keys
    left join cac_allocation_rules
        on
            keys.breakdown = cac_allocation_rules.breakdown
            and keys.month_start >= cac_allocation_rules.valid_from
            and keys.month_start < cac_allocation_rules.valid_to
    left join channel_customers
        on
            keys.breakdown = 'channel'
            and keys.month_start = channel_customers.month_start
            and coalesce(keys.channel, '') = coalesce(channel_customers.channel, '')
            and (keys.channel is null) = (channel_customers.channel is null)
    left join segment_customers
        on
            keys.breakdown = 'segment'
            and keys.month_start = segment_customers.month_start
            and coalesce(keys.segment, '') = coalesce(segment_customers.segment, '')
            and (keys.segment is null) = (segment_customers.segment is null)
    left join channel_spend
        on
            keys.breakdown = 'channel'
            and keys.month_start = channel_spend.month_start
            and coalesce(keys.channel, '') = coalesce(channel_spend.channel, '')
            and (keys.channel is null) = (channel_spend.channel is null)

),

with_basis as (

    select
        *,
        case
            when allocation_basis = 'new_mrr' then cast(new_mrr as double)
            else cast(new_customers as double)
        end as basis_value
    from keyed_basis

),

totals as (

    select
        month_start,
        breakdown,
        sum(basis_value) as total_basis,
        sum(ad_spend) as total_ad_spend
    from with_basis
    group by 1, 2

),

shares as (

    select
        with_basis.*,
        case
            when totals.total_basis > 0
                then {{ divide('with_basis.basis_value', 'totals.total_basis') }}
            when with_basis.breakdown_value is null then 1.0
            else 0.0
        end as shared_share,
        case
            when with_basis.breakdown = 'channel' and totals.total_ad_spend > 0
                then {{ divide('with_basis.ad_spend', 'totals.total_ad_spend') }}
            when totals.total_basis > 0
                then {{ divide('with_basis.basis_value', 'totals.total_basis') }}
            when with_basis.breakdown_value is null then 1.0
            else 0.0
        end as direct_share
    from with_basis
    inner join totals
        on
            with_basis.month_start = totals.month_start
            and with_basis.breakdown = totals.breakdown

),

allocated as (

    select
        shares.month_start,
        shares.breakdown,
        shares.channel,
        shares.segment,
        shares.allocation_basis,
        shares.shared_share as basis_share,
        shares.new_customers,
        shares.new_mrr,
        month_expenses.fully_loaded_direct * shares.direct_share
        + month_expenses.fully_loaded_shared * shares.shared_share as fully_loaded_expense,
        month_expenses.marketing_direct * shares.direct_share
        + month_expenses.marketing_shared * shares.shared_share as marketing_expense,
        month_expenses.advertising_direct * shares.direct_share as advertising_expense
    from shares
    inner join month_expenses
        on shares.month_start = month_expenses.month_start

),

unioned as (

    select * from company
    union all
    select * from allocated

),

final as (

    select
        unioned.month_start,
        unioned.breakdown,
        unioned.channel,
        unioned.segment,
        unioned.allocation_basis,
        cast(unioned.basis_share as double) as basis_share,
        cast(unioned.new_customers as bigint) as new_customers,
        cast(unioned.new_mrr as decimal(18, 2)) as new_mrr_corporate,
        {{ to_money('unioned.fully_loaded_expense') }} as fully_loaded_expense,
        {{ to_money('unioned.marketing_expense') }} as marketing_expense,
        {{ to_money('unioned.advertising_expense') }} as advertising_expense,
        {{ to_money(
            'case when unioned.new_customers > 0 then '
            ~ divide('unioned.fully_loaded_expense', 'unioned.new_customers') ~ ' end'
        ) }} as fully_loaded_cac,
        {{ to_money(
            'case when unioned.new_customers > 0 then '
            ~ divide('unioned.marketing_expense', 'unioned.new_customers') ~ ' end'
        ) }} as marketing_cac,
        {{ to_money(
            'case when unioned.new_customers > 0 then '
            ~ divide('unioned.advertising_expense', 'unioned.new_customers') ~ ' end'
        ) }} as advertising_cac,
        case
            when unioned.new_customers = 0 then 'no new customers in the month'
        end as cac_null_reason,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        as_of.as_of_date
    from unioned
    cross join as_of
    where unioned.month_start <= as_of.as_of_date

)

select * from final
