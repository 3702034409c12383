-- The funnel stages (funnel_stages seed) with their role in the handoff and the CRM values
-- that map to each (crm_stage_mappings).

with

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

crm_stage_mappings as (

    select * from {{ ref('crm_stage_mappings') }}

),

mapped_values as (

    select
        stage_key,
        count(*) as crm_value_count,
        {{ ordered_listagg(
            dbt.concat([
                "source_system", "'.'", "crm_object", "'.'", "crm_field", "'='", "crm_value",
            ]),
            "'; '",
            ['source_system', 'crm_object', 'crm_field', 'crm_value'],
        ) }} as crm_values
    from crm_stage_mappings
    group by 1

),

final as (

    select
        int_funnel_stages_classified.stage_key,
        int_funnel_stages_classified.stage_order,
        int_funnel_stages_classified.stage_name,
        int_funnel_stages_classified.stage_group,
        int_funnel_stages_classified.owner_team,
        int_funnel_stages_classified.is_terminal,
        int_funnel_stages_classified.entry_criteria,
        int_funnel_stages_classified.exit_criteria,
        int_funnel_stages_classified.is_lead_funnel_stage,
        int_funnel_stages_classified.is_handoff_stage,
        int_funnel_stages_classified.is_acceptance_stage,
        int_funnel_stages_classified.is_qualification_stage,
        int_funnel_stages_classified.is_main_path_stage,
        int_funnel_stages_classified.is_rejection_stage,
        cast(coalesce(mapped_values.crm_value_count, 0) as integer) as crm_value_count,
        mapped_values.crm_values
    from int_funnel_stages_classified
    left join mapped_values
        on int_funnel_stages_classified.stage_key = mapped_values.stage_key

)

select * from final
