-- The opportunities (Salesforce opportunities, HubSpot deals) that break a definition, one
-- row per opportunity and broken rule, with the rule's reason (quarantine_rules seed) and
-- the offending values as text. The one place the rules are written:
--   closed_before_created        closed, and its close date is before its creation date
--   closed_without_close_date    closed (won or lost) with no close date
--   won_without_positive_amount  won, and its amount is null, zero or negative ("positive"
--                                means > 0: a null fails)
--   negative_amount              its amount is below zero (any stage)
-- Closed and won follow the stage mapping (int_opportunity_stages), as in fct_opportunities.
-- int_opportunities_accepted leaves these opportunities out, so no published number counts
-- them; fct_quarantined_records lists them.

{%- set null_text = "'null'" %}

with

opportunities as (

    select * from {{ ref('int_opportunities_unioned') }}

),

opportunity_stages as (

    select * from {{ ref('int_opportunity_stages') }}

),

quarantine_rules as (

    select * from {{ ref('quarantine_rules') }}

),

opportunities_judged as (

    select
        opportunities.source_system,
        opportunities.opportunity_id,
        opportunities.crm_stage_value,
        opportunities.amount,
        opportunities.currency_code,
        opportunities.close_date,
        cast(opportunities.created_at as date) as created_date,
        coalesce(opportunity_stages.is_closed, false) as is_closed,
        coalesce(opportunity_stages.is_won, false) as is_won,
        {{ dbt.concat([
            "'stage '",
            "coalesce(opportunities.crm_stage_value, " ~ null_text ~ ")",
        ]) }} as stage_text,
        {{ dbt.concat([
            "'amount '",
            "coalesce("
            ~ dbt.safe_cast("opportunities.amount", dbt.type_string())
            ~ ", " ~ null_text ~ ")",
            "' '",
            "coalesce(opportunities.currency_code, '')",
        ]) }} as amount_text,
        {{ dbt.concat([
            "'close date '",
            "coalesce("
            ~ dbt.safe_cast("opportunities.close_date", dbt.type_string())
            ~ ", " ~ null_text ~ ")",
        ]) }} as close_date_text,
        {{ dbt.concat([
            "'created '",
            "coalesce("
            ~ dbt.safe_cast("opportunities.created_at", dbt.type_string())
            ~ ", " ~ null_text ~ ")",
        ]) }} as created_text
    from opportunities
    left join opportunity_stages
        on
            opportunities.source_system = opportunity_stages.source_system
            and opportunities.crm_stage_value = opportunity_stages.crm_stage_value

),

rules_broken as (

    select
        source_system,
        opportunity_id,
        'closed_before_created' as rule_key,
        {{ dbt.concat(["stage_text", "', '", "close_date_text", "', '", "created_text"]) }}
            as offending_values
    from opportunities_judged
    where
        is_closed
        and close_date < created_date

    union all

    select
        source_system,
        opportunity_id,
        'closed_without_close_date' as rule_key,
        {{ dbt.concat(["stage_text", "', '", "close_date_text"]) }} as offending_values
    from opportunities_judged
    where
        is_closed
        and close_date is null

    union all

    select
        source_system,
        opportunity_id,
        'won_without_positive_amount' as rule_key,
        {{ dbt.concat(["stage_text", "', '", "amount_text"]) }} as offending_values
    from opportunities_judged
    where
        is_won
        and (amount is null or amount <= 0)

    union all

    select
        source_system,
        opportunity_id,
        'negative_amount' as rule_key,
        {{ dbt.concat(["stage_text", "', '", "amount_text"]) }} as offending_values
    from opportunities_judged
    where amount < 0

),

final as (

    select
        rules_broken.source_system,
        quarantine_rules.record_type,
        rules_broken.opportunity_id,
        rules_broken.rule_key,
        quarantine_rules.reason,
        rules_broken.offending_values
    from rules_broken
    left join quarantine_rules
        on rules_broken.rule_key = quarantine_rules.rule_key

)

select * from final
