"""The finance marts give back the demo generator's unit economics (ground_truth.json
`unit_economics`, computed in sros/demo_company/truth.py from the generator's own arrays, not
from SQL), at two scales and seeds; and the finance marts' dbt tests fail a warehouse whose
retention, bridge, CAC or allocations are broken, naming the rows.

Each number is rebuilt from the marts as truth.py defines it (ratios of sums). Counts are
exact; money differs only by rounding: the marts store each converted amount to the cent, the
generator sums unrounded floats, so a sum of n amounts may differ by n * 0.005.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

pytestmark = pytest.mark.slow  # builds whole warehouses (conftest.py runs these first)

COMPANIES = [(2000, 42), (4000, 7)]
ROUNDING = 1e-6  # truth.py rounds every rate to 6 decimals
CENT = 0.005


@pytest.fixture(scope="module", params=COMPANIES, ids=lambda c: f"{c[0]}-leads-seed-{c[1]}")
def company(request: pytest.FixtureRequest, built_company: Callable) -> tuple:
    leads, seed = request.param
    built = built_company(leads=leads, seed=seed)
    con = duckdb.connect(str(built.warehouse), read_only=True)
    yield con, built.truth["unit_economics"]
    con.close()


def test_new_customers_and_cac_of_each_kind_match_the_generator(company: tuple) -> None:
    con, truth = company
    first, last = truth["cac_period"]
    months, new, fully_loaded, marketing, advertising = con.execute(
        """
        select count(*), sum(new_customers), sum(fully_loaded_expense),
            sum(marketing_expense), sum(advertising_expense)
        from marts.kpi_cac_monthly
        where breakdown = 'company' and month_start between ? and ?
        """,
        [first, last],
    ).fetchone()
    assert months == 12
    assert new == truth["new_customers_in_cac_period"] > 0
    tolerance = months * CENT / new + ROUNDING * 10
    assert float(fully_loaded) / new == pytest.approx(truth["cac_fully_loaded"], abs=tolerance)
    assert float(marketing) / new == pytest.approx(truth["cac_marketing"], abs=tolerance)
    assert float(advertising) / new == pytest.approx(truth["cac_advertising"], abs=tolerance)


def test_cac_by_segment_matches_the_generator(company: tuple) -> None:
    con, truth = company
    first, last = truth["cac_period"]
    rows = con.execute(
        """
        select segment, sum(new_customers), sum(fully_loaded_expense), count(*)
        from marts.kpi_cac_monthly
        where breakdown = 'segment' and month_start between ? and ? and segment is not null
        group by 1
        """,
        [first, last],
    ).fetchall()
    by_segment = {segment: (new, expense, n) for segment, new, expense, n in rows}
    for segment, cac in truth["cac_fully_loaded_by_segment"].items():
        expected_new = truth["new_customers_by_segment_in_cac_period"][segment]
        new, expense, n = by_segment.get(segment, (0, 0, 0))
        assert new == expected_new, segment
        if cac is None:
            assert new == 0, segment
        else:
            assert float(expense) / new == pytest.approx(cac, abs=n * CENT / new + 1e-5), segment


def test_nrr_and_grr_of_the_last_month_match_the_generator(company: tuple) -> None:
    con, truth = company
    rows = con.execute(
        """
        select coalesce(segment, 'company'), net_revenue_retention, gross_revenue_retention,
            cohort_customers, retention_lookback_months
        from marts.kpi_revenue_retention
        where month_start = ? and (breakdown = 'company' or segment is not null)
        """,
        [truth["ending_month"]],
    ).fetchall()
    marts = {key: (nrr, grr, n, lookback) for key, nrr, grr, n, lookback in rows}
    assert truth["nrr"]["company"] is not None
    for key, expected in truth["nrr"].items():
        if expected is None:
            assert key not in marts or marts[key][0] is None, key
            continue
        nrr, grr, _, lookback = marts[key]
        assert lookback == truth["retention_lookback_months"]
        assert grr <= 1
        assert nrr == pytest.approx(expected, abs=1e-5), key
        assert grr == pytest.approx(truth["grr"][key], abs=1e-5), key


def test_company_nrr_grr_and_cac_of_every_month_match_the_generator(company: tuple) -> None:
    """Every month, not only the last: the company's and each segment's NRR and GRR
    (kpi_revenue_retention), the company's new customers and each kind of expense
    (kpi_cac_monthly), and its CAC as their ratio."""
    con, truth = company
    retention = {
        (month.isoformat(), key): (nrr, grr)
        for month, key, nrr, grr in con.execute(
            "select month_start, case when breakdown = 'company' then 'company' "
            "else coalesce(segment, '(none)') end, net_revenue_retention, "
            "gross_revenue_retention from marts.kpi_revenue_retention "
            "where net_revenue_retention is not null"
        ).fetchall()
    }
    expected_retention = {
        (month, segment): values
        for month, row in truth["retention_months"].items()
        for segment, values in [("company", row), *row["segments"].items()]
    }
    assert len(truth["retention_months"]) >= 12
    assert retention.keys() == expected_retention.keys()
    for key, expected in expected_retention.items():
        nrr, grr = retention[key]
        assert nrr == pytest.approx(expected["nrr"], abs=1e-5), key
        assert grr == pytest.approx(expected["grr"], abs=1e-5), key
    cac = {
        month.isoformat(): values
        for month, *values in con.execute(
            "select month_start, new_customers, fully_loaded_expense, marketing_expense, "
            "advertising_expense, fully_loaded_cac from marts.kpi_cac_monthly "
            "where breakdown = 'company'"
        ).fetchall()
    }
    assert cac.keys() == truth["cac_months"].keys()
    for month, expected in truth["cac_months"].items():
        new, fully_loaded, marketing, advertising, fully_loaded_cac = cac[month]
        assert new == expected["new_customers"], month
        for value, kind in (
            (fully_loaded, "fully_loaded"),
            (marketing, "marketing"),
            (advertising, "advertising"),
        ):
            assert float(value) == pytest.approx(expected[f"{kind}_expense"], abs=CENT), month
        if new:
            assert float(fully_loaded_cac) == pytest.approx(
                expected["fully_loaded_expense"] / new, abs=CENT + ROUNDING
            ), month
        else:
            assert fully_loaded_cac is None, month


def test_cohort_payback_months_match_the_generator(company: tuple) -> None:
    con, truth = company
    rows = con.execute(
        """
        select distinct cohort_month, coalesce(segment, 'all'), payback_month
        from marts.kpi_cac_payback_cohorts
        where breakdown = 'company' or segment is not null
        """
    ).fetchall()
    marts = {f"{month.isoformat()}|{key}": payback for month, key, payback in rows}
    assert marts == truth["cohort_payback_month"]
    # the generator's company has at least one cohort that has paid back
    assert any(value is not None for value in truth["cohort_payback_month"].values())


def test_cac_payback_months_of_each_month_match_the_generator(company: tuple) -> None:
    """The period form (kpi_cac_payback_monthly), for the company and each segment, every
    month: last month's expense over this month's new gross-margin MRR."""
    con, truth = company
    rows = con.execute(
        """
        select month_start, coalesce(segment, 'all'), cac_payback_months
        from marts.kpi_cac_payback_monthly
        where breakdown = 'company' or segment is not null
        """
    ).fetchall()
    marts = {f"{month.isoformat()}|{key}": payback for month, key, payback in rows}
    expected = truth["cac_payback_months"]
    assert sum(value is not None for value in expected.values()) >= 12
    for key, payback in expected.items():
        if payback is None:
            assert marts.get(key) is None, key
        else:
            # money to the cent in the marts, unrounded floats in the generator
            assert marts[key] == pytest.approx(payback, rel=1e-4), key
    # a month the generator has no payback for has none in the mart either
    assert all(value is None for key, value in marts.items() if key not in expected)


def test_cac_of_each_acquisition_channel_and_month_matches_the_generator(company: tuple) -> None:
    """kpi_cac_monthly's channel rows, every month: the new customers counted under the lead
    source channel of the account's first won opportunity (a null channel: none), and each
    kind of expense allocated to the channel (advertising categories by its share of the
    month's ad spend, the other categories by its share of the month's new customers), as
    the generator's spend and customers give them; the CAC is their ratio."""
    con, truth = company
    rows = con.execute(
        "select month_start, channel, new_customers, fully_loaded_expense, marketing_expense, "
        "advertising_expense, fully_loaded_cac from marts.kpi_cac_monthly "
        "where breakdown = 'channel' and (new_customers > 0 or fully_loaded_expense <> 0 "
        "or marketing_expense <> 0 or advertising_expense <> 0)"
    ).fetchall()
    marts = {f"{month.isoformat()}|{channel}": values for month, channel, *values in rows}
    expected = truth["cac_channel_months"]
    assert marts.keys() == expected.keys()
    assert len({key.split("|")[1] for key, row in expected.items() if row["new_customers"]}) >= 3
    kinds = ("fully_loaded", "marketing", "advertising")
    for key, (new, *expenses, fully_loaded_cac) in marts.items():
        row = expected[key]
        assert new == row["new_customers"], key
        for kind, value in zip(kinds, expenses, strict=True):
            # the mart and the truth each round an allocated amount to the cent
            assert float(value) == pytest.approx(row[f"{kind}_expense"], abs=2 * CENT + ROUNDING), (
                key,
                kind,
            )
        if new:
            assert float(fully_loaded_cac) == pytest.approx(
                row["fully_loaded_expense"] / new, abs=2 * CENT + ROUNDING
            ), key
        else:
            assert fully_loaded_cac is None, key


def test_magic_number_of_each_quarter_matches_the_generator(company: tuple) -> None:
    """kpi_magic_number_quarterly: each quarter's revenue (its months' MRR), its fully
    loaded expense, and the magic number where the quarter and the one before are complete."""
    con, truth = company
    marts = {
        quarter.isoformat(): (revenue, expense, magic)
        for quarter, revenue, expense, magic in con.execute(
            "select quarter_start, quarterly_revenue, sales_and_marketing_expense, magic_number "
            "from marts.kpi_magic_number_quarterly"
        ).fetchall()
    }
    expected = truth["magic_number"]
    assert marts.keys() == expected.keys()
    assert sum(row["magic_number"] is not None for row in expected.values()) >= 3
    previous = None
    for quarter, row in sorted(expected.items()):
        revenue, expense, magic = marts[quarter]
        # each account-month's MRR converted to the cent in the mart
        cents = row["paying_account_months"] * CENT + CENT
        assert float(revenue) == pytest.approx(row["revenue"], abs=cents), quarter
        assert float(expense) == pytest.approx(row["expense"], abs=CENT), quarter
        if row["magic_number"] is None:
            assert magic is None, quarter
        else:
            assert previous is not None
            bound = 4 * (cents + previous["paying_account_months"] * CENT) / previous["expense"]
            assert magic == pytest.approx(row["magic_number"], abs=bound + ROUNDING), quarter
        previous = row


def test_arpa_churn_and_ltv_of_the_last_month_match_the_generator(company: tuple) -> None:
    con, truth = company
    rows = con.execute(
        """
        select coalesce(segment, 'company'), arpa, trailing_churn_rate, ltv, churn_window_months
        from marts.kpi_unit_economics_monthly
        where month_start = ? and (breakdown = 'company' or segment is not null)
        """,
        [truth["ending_month"]],
    ).fetchall()
    marts = {key: values for key, *values in rows}
    assert truth["lifetime_value"]["company"]["ltv"] is not None
    for key, expected in truth["lifetime_value"].items():
        arpa, churn, ltv, window = marts[key]
        assert window == truth["churn_window_months"], key
        # the marts' ARPA: MRR converted to the cent per account, averaged, rounded to the
        # cent; the generator's unrounded (LTV is computed from the rounded ARPA)
        assert float(arpa) == pytest.approx(expected["arpa"], abs=2 * CENT + ROUNDING), key
        assert churn == pytest.approx(expected["trailing_churn_rate"], abs=ROUNDING), key
        if expected["ltv"] is None:
            assert ltv is None, key
        else:
            assert float(ltv) == pytest.approx(expected["ltv"], rel=1e-4), key


@pytest.mark.parametrize("leads, seed", COMPANIES, ids=lambda c: str(c))
def test_ending_mrr_and_customers_of_the_last_month_match_the_generator(
    built_company: Callable, leads: int, seed: int
) -> None:
    """The base of ARPA, NRR and the bridge: the last month's MRR (USD at that month's rate)
    and its paying accounts (ground_truth.json `billing`)."""
    built = built_company(leads=leads, seed=seed)
    billing = built.truth["billing"]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        mrr, customers, accounts = con.execute(
            """
            select sum(ending_mrr_corporate), count(*) filter (where is_active_customer),
                count(*)
            from marts.fct_mrr_movements
            where month_start = ?
            """,
            [billing["ending_month"]],
        ).fetchone()
    assert customers == billing["customers_at_end"] > 0
    # each account's MRR converted to the cent in the mart, unrounded in the generator
    assert float(mrr) == pytest.approx(billing["ending_mrr_usd"], abs=accounts * CENT + CENT)


def test_the_mrr_bridge_balances_and_segments_add_up(company: tuple) -> None:
    con, _ = company
    unbalanced = con.sql(
        """
        select count(*) from marts.kpi_revenue_retention
        where starting_mrr + fx_adjustment_mrr + new_mrr + reactivation_mrr + expansion_mrr
            - contraction_mrr - churned_mrr <> ending_mrr
        """
    ).fetchone()[0]
    assert unbalanced == 0
    expansion, contraction, churn = con.sql(
        "select sum(expansion_mrr), sum(contraction_mrr), sum(churned_mrr) "
        "from marts.kpi_revenue_retention where breakdown = 'company'"
    ).fetchone()
    # the demo company has every movement
    assert expansion > 0 and contraction > 0 and churn > 0
    # every account is in one segment (the unknown one included), so per month the segment
    # rows add up to the company row, movement by movement
    additive = [
        "starting_mrr", "fx_adjustment_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr",
        "contraction_mrr", "churned_mrr", "ending_mrr", "customers_at_start",
        "customers_at_end", "cohort_customers", "cohort_starting_mrr", "cohort_retained_mrr",
    ]  # fmt: skip
    sums = ", ".join(f"sum({column})" for column in additive)
    by_breakdown = {
        breakdown: {row[0]: row[1:] for row in con.execute(
            f"select month_start, {sums} from marts.kpi_revenue_retention"
            " where breakdown = ? group by month_start", [breakdown]
        ).fetchall()}
        for breakdown in ("company", "segment")
    }  # fmt: skip
    assert len(by_breakdown["company"]) >= 12
    assert by_breakdown["segment"] == by_breakdown["company"]


@pytest.fixture(scope="module")
def broken(
    built_company: Callable, run_dbt: Callable, tmp_path_factory: pytest.TempPathFactory
) -> tuple:
    """The finance marts' dbt tests on a copy of the 2000-lead warehouse with four rows
    tampered: a GRR above 1, a segment's bridge off by 10, a CAC null without its reason, an
    allocation that no longer sums to the company."""
    folder = tmp_path_factory.mktemp("finance-broken")
    warehouse = built_company(leads=2000, seed=42).copy_to(folder)
    with duckdb.connect(str(warehouse)) as con:
        month = con.sql(
            "select max(month_start) from marts.kpi_revenue_retention "
            "where gross_revenue_retention is not null"
        ).fetchone()[0]
        con.execute(
            "update marts.kpi_revenue_retention set gross_revenue_retention = 1.2 "
            "where breakdown = 'company' and month_start = ?",
            [month],
        )
        con.execute(
            "update marts.kpi_revenue_retention set expansion_mrr = expansion_mrr + 10 "
            "where breakdown = 'segment' and segment = 'smb' and month_start = ?",
            [month],
        )
        empty = con.sql(
            "select min(month_start) from marts.kpi_cac_monthly "
            "where breakdown = 'company' and new_customers = 0"
        ).fetchone()[0]
        con.execute(
            "update marts.kpi_cac_monthly set cac_null_reason = null "
            "where breakdown = 'company' and month_start = ?",
            [empty],
        )
        con.execute(
            "update marts.kpi_cac_monthly set fully_loaded_expense = fully_loaded_expense + 100 "
            "where breakdown = 'channel' and channel is null and month_start = ?",
            [empty],
        )
    completed = run_dbt(
        "test", "--select", "kpi_revenue_retention", "kpi_cac_monthly", home=folder,
        warehouse=warehouse,
    )  # fmt: skip
    return completed, month, empty


def test_the_finance_tests_fail_naming_the_broken_rows(broken: tuple) -> None:
    """Each tampered row fails the dbt test of the rule it breaks, and the build's log names
    it (macros/log_test_failures.sql): the month and breakdown, with the row's values."""
    completed, month, empty = broken
    assert completed.returncode == 1, completed.stdout[-3000:]
    logged: dict[str, list[str]] = {}
    for line in completed.stdout.splitlines():
        name, _, text = line.split("  ", 1)[-1].partition(": ")
        if text:
            logged.setdefault(name, []).append(text)

    def named(test: str, *fragments: str) -> bool:
        return any(
            all(fragment in text for fragment in fragments)
            for name, texts in logged.items()
            if name.startswith(test)
            for text in texts
        )

    retention = "expression_is_true_kpi_revenue_retention_"
    assert named(
        retention + "gross_revenue_retention_is_null_or_gross_revenue_retention_between",
        f"month_start={month.isoformat()}, breakdown=company",
        "gross_revenue_retention=1.2",
    ), completed.stdout[-3000:]
    assert named(
        retention + "starting_mrr",
        f"month_start={month.isoformat()}, breakdown=segment, segment=smb",
    ), completed.stdout[-3000:]
    assert named(
        "expression_is_true_kpi_cac_monthly__new_customers",
        f"month_start={empty.isoformat()}, breakdown=company",
    ), completed.stdout[-3000:]
    assert named(
        "assert_finance_cac_allocations_sum_to_totals",
        f"CAC allocation by channel in {empty.isoformat()}",
    ), completed.stdout[-3000:]
