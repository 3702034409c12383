"""Funnel suites: fct_lead_lifecycle and fct_lead_handoffs against the stage definitions,
the MQL rule, the SLA terms and the rejection reason codes in force.

House rule: a rule the build computes (the MQL verdict, the SLA term and its verdicts, the
skipped stages) is read from the mart here, never derived again; its logic is proven by the
model's dbt unit tests. A suite checks what the data must satisfy under the seeds."""

from expectations.suite import Column, Definitions, E, MartSuite

# The seed gives each stage its order; which stage an entry is and which stages it skipped
# are the build's (int_lead_stage_entries, unit-tested there): read here, not derived.
LIFECYCLE_QUERY = """
select
    lifecycle.lifecycle_stage_id,
    lifecycle.person_id,
    lifecycle.stage_key,
    lifecycle.previous_funnel_stage_key,
    lifecycle.stage_order,
    defined.stage_order as defined_stage_order
from marts.fct_lead_lifecycle as lifecycle
left join seeds.funnel_stages as defined
    on lifecycle.stage_key = defined.stage_key
"""


def lifecycle_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnPairValuesToBeEqual(
            column_A="stage_order",
            column_B="defined_stage_order",
            description="Stages carry the order the funnel_stages seed gives them.",
        ),
    ]


HANDOFFS_QUERY = """
select
    handoffs.handoff_id,
    handoffs.person_id,
    handoffs.handed_at,
    handoffs.lead_priority,
    handoffs.is_rejected,
    handoffs.rejection_reason_code,
    handoffs.dispositioned_at,
    handoffs.hours_to_disposition,
    handoffs.sla_term_id,
    -- the term the build chose (int_lead_handoff_sla_terms), as the seed defines it
    coalesce(
        term.lead_priority = handoffs.lead_priority
        and term.first_touch_target_business_minutes
        = handoffs.first_touch_target_business_minutes
        and term.reassign_after_business_minutes = handoffs.reassign_after_business_minutes
        and term.disposition_window_hours = handoffs.disposition_window_hours,
        false
    ) as carries_its_sla_term,
    handoffs.business_minutes_to_first_touch,
    handoffs.mql_rule_id,
    handoffs.mql_score_at_handoff,
    handoffs.is_mql_rule_met
from marts.fct_lead_handoffs as handoffs
left join seeds.sla_terms as term
    on handoffs.sla_term_id = term.sla_term_id
"""


def handoff_expectations(definitions: Definitions) -> list:
    rejected = Column("is_rejected") == True  # noqa: E712 (a GX condition, not a comparison)
    return [
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
        E.ExpectColumnValuesToBeInSet(
            column="carries_its_sla_term",
            value_set=[True],
            row_condition=Column("sla_term_id").is_not_null(),
            description=(
                "Each handoff is judged by an sla_terms row of its own priority and carries "
                "that row's targets (the term and the verdicts are the build's: "
                "int_lead_handoff_sla_terms and fct_lead_handoffs, unit-tested there)."
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
        description="Stages carry the order the funnel_stages seed gives them.",
        query=LIFECYCLE_QUERY,
        key=("lifecycle_stage_id", "person_id", "stage_key", "previous_funnel_stage_key"),
        expectations=lifecycle_expectations,
    ),
    MartSuite(
        name="funnel.fct_lead_handoffs",
        mart="fct_lead_handoffs",
        description=(
            "Every MQL met the MQL rule in force; every handoff carries the SLA term of its "
            "priority; every rejection has a valid reason code and a disposition time."
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
