"""Finance suites: the unit-economics marts against their own arithmetic. GRR never above 1,
the MRR bridge balances (and each month starts where the last one ended), a CAC is set only
over new customers and a null one says why, and every allocation sums to the company total.
"""

from expectations.suite import Definitions, E, MartSuite

RETENTION_QUERY = """
with

retention as (
    select
        *,
        extract(year from month_start) * 12 + extract(month from month_start) as month_number
    from marts.kpi_revenue_retention
)

select
    retention.month_start,
    retention.breakdown,
    coalesce(retention.segment, '(none)') as segment,
    retention.gross_revenue_retention,
    retention.net_revenue_retention,
    retention.cohort_retained_mrr,
    retention.cohort_starting_mrr,
    retention.ending_mrr,
    retention.starting_mrr + retention.fx_adjustment_mrr + retention.new_mrr
    + retention.reactivation_mrr + retention.expansion_mrr - retention.contraction_mrr
    - retention.churned_mrr as bridged_ending_mrr,
    retention.starting_mrr,
    coalesce(previous_month.ending_mrr, retention.starting_mrr) as previous_ending_mrr
from retention
left join retention as previous_month
    on
        retention.breakdown = previous_month.breakdown
        and coalesce(retention.segment, '') = coalesce(previous_month.segment, '')
        and (retention.segment is null) = (previous_month.segment is null)
        and retention.month_number - 1 = previous_month.month_number
"""


def retention_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeBetween(
            column="gross_revenue_retention",
            min_value=0,
            max_value=1,
            description="GRR is in [0, 1]: expansion never counts in gross retention.",
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="cohort_starting_mrr",
            column_B="cohort_retained_mrr",
            or_equal=True,
            description="A cohort retains at most the MRR it started with.",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="bridged_ending_mrr",
            column_B="ending_mrr",
            description=(
                "The MRR bridge balances: starting + fx + new + reactivation + expansion "
                "- contraction - churned = ending."
            ),
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="starting_mrr",
            column_B="previous_ending_mrr",
            description="A month's starting MRR is the previous month's ending MRR.",
        ),
    ]


CAC_QUERY = """
select
    month_start,
    breakdown,
    coalesce(channel, '(none)') as channel,
    coalesce(segment, '(none)') as segment,
    new_customers,
    fully_loaded_cac,
    cac_null_reason,
    (
        new_customers > 0
        and fully_loaded_cac is not null
        and marketing_cac is not null
        and advertising_cac is not null
        and cac_null_reason is null
    ) or (
        new_customers = 0
        and fully_loaded_cac is null
        and marketing_cac is null
        and advertising_cac is null
        and cac_null_reason is not null
    ) as is_cac_explained
from marts.kpi_cac_monthly
"""


def cac_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeInSet(
            column="is_cac_explained",
            value_set=[True],
            description=(
                "A CAC is set only over new customers > 0; a null CAC carries cac_null_reason."
            ),
        ),
        E.ExpectColumnValuesToBeBetween(
            column="new_customers", min_value=0, description="No negative customer count."
        ),
    ]


ALLOCATION_QUERY = """
with

company as (
    select * from marts.kpi_cac_monthly where breakdown = 'company'
),

allocated as (
    select
        month_start,
        breakdown,
        count(*) as allocated_rows,
        sum(new_customers) as new_customers,
        sum(fully_loaded_expense) as fully_loaded_expense,
        sum(marketing_expense) as marketing_expense,
        sum(advertising_expense) as advertising_expense
    from marts.kpi_cac_monthly
    where breakdown <> 'company'
    group by 1, 2
)

select
    allocated.month_start,
    allocated.breakdown,
    allocated.new_customers,
    company.new_customers as company_new_customers,
    allocated.fully_loaded_expense,
    company.fully_loaded_expense as company_fully_loaded_expense,
    coalesce(
        abs(allocated.fully_loaded_expense - company.fully_loaded_expense)
        <= 0.01 * allocated.allocated_rows
        and abs(allocated.marketing_expense - company.marketing_expense)
        <= 0.01 * allocated.allocated_rows
        and abs(allocated.advertising_expense - company.advertising_expense)
        <= 0.01 * allocated.allocated_rows,
        false
    ) as is_expense_allocated_in_full
from allocated
left join company
    on allocated.month_start = company.month_start
"""


def allocation_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnPairValuesToBeEqual(
            column_A="new_customers",
            column_B="company_new_customers",
            description="Every breakdown counts each new customer of the month exactly once.",
        ),
        E.ExpectColumnValuesToBeInSet(
            column="is_expense_allocated_in_full",
            value_set=[True],
            description=(
                "Every breakdown allocates the company's expense of the month in full, kind "
                "by kind (to the cent per row)."
            ),
        ),
    ]


SUITES = (
    MartSuite(
        name="finance.kpi_revenue_retention",
        mart="kpi_revenue_retention",
        description=(
            "GRR <= 1, a cohort retains at most its starting MRR, and the MRR bridge balances "
            "and continues from month to month."
        ),
        query=RETENTION_QUERY,
        key=("month_start", "breakdown", "segment"),
        expectations=retention_expectations,
    ),
    MartSuite(
        name="finance.kpi_cac_monthly",
        mart="kpi_cac_monthly",
        description="CAC denominators are > 0, or the row says why its CAC is null.",
        query=CAC_QUERY,
        key=("month_start", "breakdown", "channel", "segment"),
        expectations=cac_expectations,
    ),
    MartSuite(
        name="finance.cac_allocations",
        mart="kpi_cac_monthly",
        description="Channel and segment allocations sum to the company's expense and customers.",
        query=ALLOCATION_QUERY,
        key=("month_start", "breakdown"),
        expectations=allocation_expectations,
    ),
)
