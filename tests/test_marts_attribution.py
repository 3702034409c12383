"""The attribution marts (fct_marketing_touchpoints, fct_attribution_touches,
kpi_attribution_monthly, fct_ad_spend_monthly) and fct_opportunities.is_marketing_influenced
on the 2000-lead demo company.

The invariants (credits sum to 1, attributed pipeline = total pipeline, spend counted once)
are checked on the whole company; the position models are recomputed from each path's
touch count, which a reader can redo by hand (U-shaped: 0.4 / 0.2 spread / 0.4; linear 1/n).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

MODELS = {
    "first_touch",
    "lead_creation",
    "last_touch",
    "linear",
    "u_shaped",
    "w_shaped",
    "full_path",
    "time_decay",
}
# credits are doubles: a sum of a path's credits is 1 up to float rounding
EPSILON = 1e-9
CENT = 0.005


@pytest.fixture(scope="module")
def con(built_company: Callable) -> duckdb.DuckDBPyConnection:
    built = built_company(leads=2000, seed=42)
    connection = duckdb.connect(str(built.warehouse), read_only=True)
    yield connection
    connection.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.sql(sql).fetchone()


def test_every_touch_is_kept_and_anonymous_ones_have_no_person(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """One row per raw touch; a touch has no person exactly when it carried no email and
    its cookie was never identified (staging only)."""
    (raw,) = _one(con, "select count(*) from raw_marketing.touchpoint")
    touches, without_person = _one(
        con,
        "select count(*), count(*) - count(person_id) from marts.fct_marketing_touchpoints",
    )
    assert touches == raw
    (never_identified,) = _one(
        con,
        """
        select count(*)
        from staging.stg_marketing__touchpoints as touchpoints
        left join staging.stg_marketing__identities as identities
            on touchpoints.anonymous_id = identities.anonymous_id
        where touchpoints.email is null and identities.email is null
        """,
    )
    assert without_person == never_identified > 0


def test_lead_creation_touch_is_the_touch_at_the_person_creation(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """The generator makes every lead with a touch at its creation moment: each person with
    touches has exactly one lead-creation touch, at dim_persons.first_created_at."""
    persons, flagged, at_creation = _one(
        con,
        """
        select
            count(distinct touches.person_id),
            sum(case when touches.is_lead_creation_touch then 1 else 0 end),
            sum(
                case
                    when touches.is_lead_creation_touch
                        and touches.occurred_at = persons.first_created_at
                        then 1
                    else 0
                end
            )
        from marts.fct_marketing_touchpoints as touches
        inner join marts.dim_persons as persons
            on touches.person_id = persons.person_id
        """,
    )
    assert flagged == at_creation == persons


def test_credits_sum_to_one_for_every_opportunity_and_model(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = con.sql(
        """
        select attribution_model, count(*), min(credits), max(credits)
        from (
            select opportunity_id, attribution_model, sum(credit) as credits
            from marts.fct_attribution_touches
            group by 1, 2
        )
        group by 1
        """
    ).fetchall()
    (opportunities,) = _one(con, "select count(*) from marts.fct_opportunities")
    assert {model for model, *_ in rows} == MODELS
    for model, count, low, high in rows:
        assert count == opportunities, model
        assert abs(low - 1) < EPSILON and abs(high - 1) < EPSILON, model


def test_attributed_pipeline_equals_total_pipeline_in_fact_and_kpi(
    con: duckdb.DuckDBPyConnection,
) -> None:
    (total,) = _one(con, "select sum(amount_corporate) from marts.fct_opportunities")
    attributed = dict(
        con.sql(
            """
            select attribution_model, sum(credit * amount_corporate)
            from marts.fct_attribution_touches
            group by 1
            """
        ).fetchall()
    )
    assert set(attributed) == MODELS
    for model, amount in attributed.items():
        assert abs(amount - float(total)) < 0.001, model
    kpi = con.sql(
        """
        select attribution_model, sum(pipeline_amount_corporate), count(*)
        from marts.kpi_attribution_monthly
        group by 1
        """
    ).fetchall()
    for model, amount, rows in kpi:
        assert abs(amount - total) <= rows * CENT, model


def test_bookings_equal_won_amounts(con: duckdb.DuckDBPyConnection) -> None:
    (won,) = _one(con, "select sum(amount_corporate) from marts.fct_opportunities where is_won")
    for model, amount, rows in con.sql(
        """
        select attribution_model, sum(bookings_amount_corporate), count(*)
        from marts.kpi_attribution_monthly
        group by 1
        """
    ).fetchall():
        assert abs(amount - won) <= rows * CENT, model


def test_spend_is_counted_once_per_model(con: duckdb.DuckDBPyConnection) -> None:
    """Every model's rows carry all the ad spend up to the as-of date, once (the demo's
    spend is in USD, the corporate currency, so it adds up unconverted)."""
    (spend,) = _one(
        con,
        """
        select sum(spend_amount)
        from staging.stg_ads__ad_spend_daily
        where spend_date <= (select as_of_date from intermediate.int_as_of_date)
        """,
    )
    by_model = con.sql(
        """
        select attribution_model, sum(spend_amount_corporate)
        from marts.kpi_attribution_monthly
        group by 1
        """
    ).fetchall()
    assert {model for model, _ in by_model} == MODELS
    for model, amount in by_model:
        assert amount == spend, model
    (fact_spend,) = _one(con, "select sum(spend_amount_corporate) from marts.fct_ad_spend_monthly")
    assert fact_spend == spend


def test_position_models_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    """On every path of three or more touches: linear gives 1/n; U-shaped 0.4 to the first
    and the last touch before creation and 0.2 / (n - 2) to each touch between; first and
    last touch give 1 to their touch."""
    wrong = _one(
        con,
        """
        select
            sum(case
                when attribution_model = 'linear'
                    and abs(credit - 1.0 / path_touches_count) > 1e-9 then 1 else 0 end),
            sum(case
                when attribution_model = 'u_shaped' and path_touches_count >= 3
                    and abs(credit - case
                        when is_first_touch or is_opportunity_creation_touch then 0.4
                        else 0.2 / (path_touches_count - 2)
                    end) > 1e-9 then 1 else 0 end),
            sum(case
                when attribution_model = 'first_touch'
                    and credit != (case when is_first_touch then 1 else 0 end) then 1 else 0 end),
            sum(case
                when attribution_model = 'last_touch'
                    and credit != (case when is_opportunity_creation_touch then 1 else 0 end)
                    then 1 else 0 end),
            count(*)
        from marts.fct_attribution_touches
        where not is_unattributed
        """,
    )
    assert wrong[:4] == (0, 0, 0, 0)
    assert wrong[4] > 0


def test_opportunities_without_touches_are_unattributed_under_every_model(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """An opportunity none of whose persons made an attribution touch in the 180 days before
    its creation has one unattributed row per model (full path may reach past creation for a
    won one, so it is left out of the count)."""
    (untouched,) = _one(
        con,
        """
        select count(*)
        from marts.fct_opportunities as opportunities
        where not exists (
            select 1
            from intermediate.int_opportunity_persons as persons
            inner join marts.fct_marketing_touchpoints as touches
                on persons.person_id = touches.person_id
            where
                persons.opportunity_id = opportunities.opportunity_id
                and touches.is_attribution_touch
                and touches.occurred_at <= opportunities.created_at
                and touches.occurred_date >= opportunities.created_date - 180
        )
        """,
    )
    counts = dict(
        con.sql(
            """
            select attribution_model, count(*)
            from marts.fct_attribution_touches
            where is_unattributed and path_touches_count = 0
            group by 1
            """
        ).fetchall()
    )
    assert untouched > 0
    for model in MODELS - {"full_path"}:
        assert counts[model] == untouched, model


def test_an_opportunity_whose_last_touch_is_marketing_is_influenced(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Attribution and influence both look back 180 days (seeds): an opportunity whose last
    touch before creation is on a marketing channel is marketing-influenced; one with no
    touch at all of its persons is not."""
    not_influenced, influenced_without_touches = _one(
        con,
        """
        select
            sum(case
                when touches.channel_team = 'marketing'
                    and not opportunities.is_marketing_influenced then 1 else 0 end),
            sum(case
                when touches.opportunity_id is null and opportunities.is_marketing_influenced
                    and not exists (
                        select 1
                        from intermediate.int_opportunity_persons as persons
                        inner join marts.fct_marketing_touchpoints as all_touches
                            on persons.person_id = all_touches.person_id
                        where persons.opportunity_id = opportunities.opportunity_id
                    )
                    then 1 else 0 end)
        from marts.fct_opportunities as opportunities
        left join marts.fct_attribution_touches as touches
            on
                opportunities.opportunity_id = touches.opportunity_id
                and touches.attribution_model = 'last_touch'
                and touches.is_opportunity_creation_touch
        """,
    )
    assert not_influenced == 0
    assert influenced_without_touches == 0
    (influenced,) = _one(
        con, "select count(*) from marts.fct_opportunities where is_marketing_influenced"
    )
    assert influenced > 0
