"""Funnel suites: fct_lead_lifecycle and fct_lead_handoffs against the stage definitions,
the MQL rule, the SLA terms and the rejection reason codes in force."""

from expectations.suite import Column, Definitions, E, MartSuite

# The lead funnel and the handoff stage are the seed-derived roles of
# int_funnel_stages_classified (lead, mql, sal, sql and mql by default), not literals.
LIFECYCLE_QUERY = """
with

lead_funnel as (
    select stage_key, stage_order
    from intermediate.int_funnel_stages_classified
    where is_lead_funnel_stage
)

select
    lifecycle.lifecycle_stage_id,
    lifecycle.person_id,
    lifecycle.stage_key,
    lifecycle.previous_funnel_stage_key,
    lifecycle.stage_order,
    defined.stage_order as defined_stage_order,
    lifecycle.entered_at,
    lifecycle.exited_at,
    lifecycle.has_skipped_stages,
    lifecycle.skipped_stage_count,
    case
        when lifecycle.stage_key in (select stage_key from lead_funnel) then (
            select count(*) from lead_funnel
            where
                lead_funnel.stage_order > coalesce(previous_defined.stage_order, 0)
                and lead_funnel.stage_order < defined.stage_order
        )
        else 0
    end as defined_skipped_stage_count
from marts.fct_lead_lifecycle as lifecycle
left join seeds.funnel_stages as defined
    on lifecycle.stage_key = defined.stage_key
left join seeds.funnel_stages as previous_defined
    on lifecycle.previous_funnel_stage_key = previous_defined.stage_key
"""


def lifecycle_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeInSet(
            column="stage_key",
            value_set=definitions.values("funnel_stages", "stage_key"),
            description="Every stage is a funnel stage of the funnel_stages seed.",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="stage_order",
            column_B="defined_stage_order",
            description="Stages carry the order the funnel_stages seed gives them.",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="skipped_stage_count",
            column_B="defined_skipped_stage_count",
            description=(
                "Stages are reached in order: a lead-funnel entry that jumps over stages (by "
                "the seed's order) counts exactly the stages it skipped, and no other entry "
                "claims a skip."
            ),
        ),
        E.ExpectColumnValuesToBeInSet(
            column="has_skipped_stages",
            value_set=[True],
            row_condition=Column("defined_skipped_stage_count") > 0,
            description="No stage is skipped without its has_skipped_stages flag.",
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="exited_at",
            column_B="entered_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description="A stage is left at or after it was entered: time in stage >= 0.",
        ),
    ]


HANDOFFS_QUERY = """
select
    handoffs.handoff_id,
    handoffs.person_id,
    handoffs.handed_at,
    handoffs.lead_priority,
    handoffs.is_rejected,
    -- the CRMs keep the reason of a record's latest rejection only
    handoffs.is_rejected and handoffs.is_latest_handoff as is_current_rejection,
    handoffs.rejection_reason_code,
    handoffs.dispositioned_at,
    handoffs.hours_to_disposition,
    handoffs.sla_term_id,
    term_in_force.sla_term_id as sla_term_in_force_id,
    handoffs.business_minutes_to_first_touch,
    handoffs.is_response_sla_met,
    coalesce(
        handoffs.first_touch_at is not null
        and handoffs.business_minutes_to_first_touch
        <= term_in_force.first_touch_target_business_minutes,
        false
    ) as is_response_sla_met_by_term,
    handoffs.mql_rule_id,
    handoffs.mql_score_at_handoff,
    handoffs.is_mql_rule_met
from marts.fct_lead_handoffs as handoffs
left join seeds.sla_terms as term_in_force
    on
        handoffs.lead_priority = term_in_force.lead_priority
        and handoffs.handed_at >= term_in_force.valid_from
        and handoffs.handed_at < term_in_force.valid_to
"""


def handoff_expectations(definitions: Definitions) -> list:
    rejected = Column("is_rejected") == True  # noqa: E712 (a GX condition, not a comparison)
    return [
        E.ExpectColumnValuesToNotBeNull(
            column="rejection_reason_code",
            row_condition=Column("is_current_rejection") == True,  # noqa: E712
            severity="warning",
            description=(
                "Every rejection carries a reason code (checked where the CRM still holds it: "
                "the record's latest handoff). A missing code is a sales process breach to "
                "chase in the CRM: it warns, it does not stop publication."
            ),
        ),
        E.ExpectColumnValuesToBeInSet(
            column="rejection_reason_code",
            value_set=definitions.values("rejection_reasons", "reason_code"),
            row_condition=rejected,
            description="Every reason code is one of the rejection_reasons seed.",
        ),
        E.ExpectColumnValuesToNotBeNull(
            column="dispositioned_at",
            row_condition=rejected,
            description="Every rejection has a disposition time.",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="sla_term_id",
            column_B="sla_term_in_force_id",
            ignore_row_if="both_values_are_missing",
            description=(
                "Each handoff is judged by the sla_terms row in force at handed_at for its "
                "priority."
            ),
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="is_response_sla_met",
            column_B="is_response_sla_met_by_term",
            description=(
                "The SLA result agrees with the business minutes to first touch and the "
                "target of the term in force."
            ),
        ),
        E.ExpectColumnValuesToBeInSet(
            column="is_mql_rule_met",
            value_set=[True],
            description=(
                "Every MQL met the MQL rule in force when it was handed over "
                "(fct_lead_handoffs.is_mql_rule_met: ICP size, target industry, ICP seniority "
                "and the score threshold of the mql_rules row in force)."
            ),
        ),
        E.ExpectColumnValuesToBeBetween(
            column="business_minutes_to_first_touch",
            min_value=0,
            description="Time to first touch is not negative.",
        ),
        E.ExpectColumnValuesToBeBetween(
            column="hours_to_disposition",
            min_value=0,
            description="Time to disposition is not negative.",
        ),
    ]


# One row: what enters the funnel's handoff step comes out of it, and into pipeline.
HANDOFF_RECONCILIATION_QUERY = """
select
    (
        -- the MQL entries that are handoffs (a move back into MQL from SAL is none)
        select count(*) from marts.fct_lead_lifecycle where is_handoff_entry
    ) as mql_entries,
    count(*) as handoffs,
    count(*) filter (where is_accepted)
    + count(*) filter (where is_rejected)
    + count(*) filter (where not is_dispositioned) as handoffs_accepted_rejected_or_open,
    count(*) filter (
        where is_converted_to_opportunity
        and not exists (
            select 1 from marts.fct_quarantined_records as quarantined
            where quarantined.record_type = 'opportunity'
                and quarantined.source_system = fct_lead_handoffs.source_system
                and quarantined.record_id = fct_lead_handoffs.opportunity_id
        )
    ) as handoffs_converted,
    (
        select count(distinct originating_handoff_id) from marts.fct_opportunities
    ) as handoffs_originating_an_opportunity
from marts.fct_lead_handoffs
"""


def handoff_reconciliation_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnPairValuesToBeEqual(
            column_A="handoffs",
            column_B="mql_entries",
            description=(
                "Every handoff entry of the lifecycle (is_handoff_entry) is one handoff, and back."
            ),
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="handoffs",
            column_B="handoffs_accepted_rejected_or_open",
            description="Leads in = leads out: each handoff is accepted, rejected or still open.",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="handoffs_converted",
            column_B="handoffs_originating_an_opportunity",
            description=(
                "Converted handoffs = handoffs fct_opportunities names as origin (a handoff "
                "whose opportunity is quarantined, fct_quarantined_records, is in neither)."
            ),
        ),
    ]


SUITES = (
    MartSuite(
        name="funnel.fct_lead_lifecycle",
        mart="fct_lead_lifecycle",
        description="Stages exist, carry the seed's order, and are reached in order or flagged.",
        query=LIFECYCLE_QUERY,
        key=("lifecycle_stage_id", "person_id", "stage_key", "previous_funnel_stage_key"),
        expectations=lifecycle_expectations,
    ),
    MartSuite(
        name="funnel.fct_lead_handoffs",
        mart="fct_lead_handoffs",
        description=(
            "Every MQL met the MQL rule in force; every SLA result agrees with its times and "
            "the term in force; every rejection has a valid reason code and a disposition time."
        ),
        query=HANDOFFS_QUERY,
        key=("handoff_id", "handed_at", "lead_priority"),
        expectations=handoff_expectations,
    ),
    MartSuite(
        name="funnel.handoff_reconciliation",
        mart="fct_lead_handoffs",
        description="MQL entries = handoffs = accepted + rejected + open; conversions reconcile.",
        query=HANDOFF_RECONCILIATION_QUERY,
        key=("handoffs",),
        expectations=handoff_reconciliation_expectations,
    ),
)
