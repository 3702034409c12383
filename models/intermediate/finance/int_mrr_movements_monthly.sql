-- MRR per billed account and month in the corporate currency, with the month's movement.
-- Months run from the account's first billed month to the as-of month without gaps (a month
-- without a billing row has MRR 0), so a subscription that stops without a churn row still
-- churns. The first month of billing history is the opening balance: nobody is new in it.

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

subscriptions as (

    {% if var('billing_enabled', true) %}
    select * from {{ ref('stg_billing__subscriptions_monthly') }}
    {% else %}
    -- billing switched off: no subscriptions
    select
        cast(null as {{ dbt.type_string() }}) as subscription_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as plan_name,
        cast(null as {{ dbt.type_string() }}) as mrr_movement,
        cast(null as decimal(18, 2)) as mrr_amount,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        cast(null as date) as month_start_date
    where 1 = 0
    {% endif %}

),

conversion_rates as (

    select * from {{ ref('int_currency_conversion_rates') }}

),

billed_months as (

    select distinct subscriptions.month_start_date
    from subscriptions
    cross join as_of
    where subscriptions.month_start_date <= as_of.as_of_date

),

history_start as (

    select min(month_start_date) as history_start_month from billed_months

),

account_currencies as (

    -- the currency of the account's latest billing row fills months without one
    select
        source_system,
        account_id,
        first_billed_month,
        currency_code
    from (
        select
            source_system,
            account_id,
            currency_code,
            min(month_start_date) over (
                partition by source_system, account_id
            ) as first_billed_month,
            row_number() over (
                partition by source_system, account_id
                order by month_start_date desc
            ) as recency
        from subscriptions
    ) as ranked
    where recency = 1

),

account_months as (

    select
        account_currencies.source_system,
        account_currencies.account_id,
        billed_months.month_start_date,
        coalesce(subscriptions.mrr_amount, 0) as mrr_amount,
        coalesce(
            subscriptions.currency_code, account_currencies.currency_code
        ) as currency_code,
        subscriptions.plan_name,
        subscriptions.mrr_movement as billing_movement
    from account_currencies
    inner join billed_months
        on account_currencies.first_billed_month <= billed_months.month_start_date
    left join subscriptions
        on
            account_currencies.source_system = subscriptions.source_system
            and account_currencies.account_id = subscriptions.account_id
            and billed_months.month_start_date = subscriptions.month_start_date

),

converted as (

    select
        account_months.*,
        conversion_rates.conversion_rate,
        {{ to_money(divide('account_months.mrr_amount', 'conversion_rates.conversion_rate')) }}
            as mrr_corporate
    from account_months
    left join conversion_rates
        on
            account_months.currency_code = conversion_rates.currency_code
            and account_months.month_start_date >= conversion_rates.valid_from
            and account_months.month_start_date < conversion_rates.valid_to

),

with_previous as (

    select
        converted.*,
        coalesce(lag(converted.mrr_amount) over (
            partition by converted.source_system, converted.account_id
            order by converted.month_start_date
        ), 0) as previous_mrr_amount,
        lag(converted.currency_code) over (
            partition by converted.source_system, converted.account_id
            order by converted.month_start_date
        ) as previous_currency_code,
        coalesce(lag(converted.mrr_corporate) over (
            partition by converted.source_system, converted.account_id
            order by converted.month_start_date
        ), 0) as previous_mrr_corporate,
        coalesce(sum(case when converted.mrr_amount > 0 then 1 else 0 end) over (
            partition by converted.source_system, converted.account_id
            order by converted.month_start_date
            rows between unbounded preceding and 1 preceding
        ), 0) as prior_paying_months
    from converted

),

previous_at_current_rate as (

    -- last month's MRR at this month's rate: the difference to last month's converted MRR
    -- is the currency effect, so movements are measured in constant currency
    select
        with_previous.*,
        history_start.history_start_month,
        {{ to_money(
            divide('with_previous.previous_mrr_amount', 'previous_rates.conversion_rate')
        ) }} as previous_mrr_at_current_rate
    from with_previous
    cross join history_start
    left join conversion_rates as previous_rates
        on
            coalesce(with_previous.previous_currency_code, with_previous.currency_code)
            = previous_rates.currency_code
            and with_previous.month_start_date >= previous_rates.valid_from
            and with_previous.month_start_date < previous_rates.valid_to

),

classified as (

    select
        *,
        case
            when month_start_date = history_start_month then 'opening'
            when previous_mrr_amount = 0 and mrr_amount > 0 and prior_paying_months = 0
                then 'new'
            when previous_mrr_amount = 0 and mrr_amount > 0 then 'reactivation'
            when previous_mrr_amount > 0 and mrr_amount = 0 then 'churn'
            when mrr_corporate > previous_mrr_at_current_rate then 'expansion'
            when mrr_corporate < previous_mrr_at_current_rate then 'contraction'
            else 'flat'
        end as mrr_movement
    from previous_at_current_rate
    where mrr_amount > 0 or previous_mrr_amount > 0

),

final as (

    select
        source_system,
        account_id,
        month_start_date as month_start,
        mrr_movement,
        billing_movement,
        plan_name,
        currency_code,
        cast(mrr_amount as decimal(18, 2)) as mrr_amount,
        cast(conversion_rate as double) as conversion_rate,
        case
            when mrr_movement = 'opening' then mrr_corporate else previous_mrr_corporate
        end as starting_mrr_corporate,
        case
            when mrr_movement in ('opening', 'new', 'reactivation') then cast(0 as decimal(18, 2))
            else cast(previous_mrr_at_current_rate - previous_mrr_corporate as decimal(18, 2))
        end as fx_adjustment_mrr_corporate,
        case
            when mrr_movement = 'new' then mrr_corporate else cast(0 as decimal(18, 2))
        end as new_mrr_corporate,
        case
            when mrr_movement = 'reactivation' then mrr_corporate
            else cast(0 as decimal(18, 2))
        end as reactivation_mrr_corporate,
        case
            when mrr_movement = 'expansion'
                then cast(mrr_corporate - previous_mrr_at_current_rate as decimal(18, 2))
            else cast(0 as decimal(18, 2))
        end as expansion_mrr_corporate,
        case
            when mrr_movement = 'contraction'
                then cast(previous_mrr_at_current_rate - mrr_corporate as decimal(18, 2))
            else cast(0 as decimal(18, 2))
        end as contraction_mrr_corporate,
        case
            when mrr_movement = 'churn' then previous_mrr_at_current_rate
            else cast(0 as decimal(18, 2))
        end as churned_mrr_corporate,
        mrr_corporate as ending_mrr_corporate,
        mrr_movement = 'new' as is_new_customer,
        mrr_movement = 'churn' as is_churned_customer,
        mrr_amount > 0 as is_active_customer,
        case when mrr_movement = 'opening' then mrr_amount > 0 else previous_mrr_amount > 0 end
            as was_active_customer
    from classified

)

select * from final
