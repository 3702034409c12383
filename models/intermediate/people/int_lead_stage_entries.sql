-- The lead lifecycle: one row per person, stage and entry into it (published as
-- fct_lead_lifecycle; the handoff models read it here, as they must not read a mart).
-- Built from every recorded value of a funnel field (int_lead_status_changes_unioned), in
-- time order per person (ties by stage order); a value that keeps the person in the stage
-- they are in is not a new entry. A stage reached without passing the lead-funnel stages
-- before it is flagged on the row reached after the skip (skipped stages listed, never
-- invented as rows); a move to an earlier lead-funnel stage is flagged as a regression.

with

int_lead_status_changes_unioned as (

    select * from {{ ref('int_lead_status_changes_unioned') }}

),

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

ordered_changes as (

    -- the person's changes in time order, ties by stage order (status_change_id is unique,
    -- so the order is total): change_number numbers it, and every later window orders by
    -- it. Windows sharing a partition and an order share one sort.
    select
        int_lead_status_changes_unioned.*,
        int_funnel_stages_classified.stage_order,
        int_funnel_stages_classified.stage_group,
        coalesce(int_funnel_stages_classified.is_lead_funnel_stage, false)
            as is_lead_funnel_stage,
        row_number() over person_changes as change_number,
        lag(int_lead_status_changes_unioned.stage_key) over person_changes
            as previous_change_stage_key
    from int_lead_status_changes_unioned
    -- left join: an unmapped value (null stage_key) stays and fails the stage_key tests
    left join int_funnel_stages_classified
        on int_lead_status_changes_unioned.stage_key = int_funnel_stages_classified.stage_key
    window person_changes as (
        partition by int_lead_status_changes_unioned.person_id
        order by
            int_lead_status_changes_unioned.changed_at,
            int_funnel_stages_classified.stage_order,
            int_lead_status_changes_unioned.status_change_id
    )

),

stage_entries as (

    -- a change is an entry unless the person is already in that stage
    select *
    from ordered_changes
    where
        previous_change_stage_key is null
        or stage_key is null
        or stage_key != previous_change_stage_key

),

with_neighbours as (

    -- entry_sequence numbers the entries in change order; the neighbours and the previous
    -- lead-funnel entry are found in the same order (change_number), in one sort
    select
        *,
        row_number() over person_entries as entry_sequence,
        lag(stage_key) over person_entries as previous_stage_key,
        lead(stage_key) over person_entries as next_stage_key,
        lead(changed_at) over person_entries as exited_at,
        -- the window written out: Spark cannot add a frame to a named window
        max(case when is_lead_funnel_stage then change_number end) over (
            partition by person_id
            order by change_number
            rows between unbounded preceding and 1 preceding
        ) as previous_funnel_change_number,
        row_number() over (
            partition by person_id, stage_key order by change_number
        ) as stage_entry_number
    from stage_entries
    window person_entries as (partition by person_id order by change_number)

),

with_previous_funnel_stage as (

    select
        with_neighbours.*,
        previous_funnel.stage_key as previous_funnel_stage_key,
        previous_funnel.stage_order as previous_funnel_stage_order
    from with_neighbours
    left join with_neighbours as previous_funnel
        on
            with_neighbours.person_id = previous_funnel.person_id
            and with_neighbours.previous_funnel_change_number = previous_funnel.change_number

),

skipped_stages as (

    -- lead-funnel stages strictly between the previous lead-funnel stage and this one
    select
        with_previous_funnel_stage.status_change_id,
        count(*) as skipped_stage_count,
        {{ ordered_listagg(
            'int_funnel_stages_classified.stage_key',
            "','",
            ['int_funnel_stages_classified.stage_order'],
        ) }} as skipped_stage_keys
    from with_previous_funnel_stage
    inner join int_funnel_stages_classified
        on
            int_funnel_stages_classified.is_lead_funnel_stage
            and int_funnel_stages_classified.stage_order
            > coalesce(with_previous_funnel_stage.previous_funnel_stage_order, 0)
            and with_previous_funnel_stage.stage_order > int_funnel_stages_classified.stage_order
    where with_previous_funnel_stage.is_lead_funnel_stage
    group by 1

),

final as (

    select
        cast({{ dbt.hash(dbt.concat([
            "with_previous_funnel_stage.person_id", "'|'",
            "coalesce(with_previous_funnel_stage.stage_key, with_previous_funnel_stage.crm_value)",
            "'|'",
            "cast(with_previous_funnel_stage.stage_entry_number as " ~ dbt.type_string() ~ ")",
        ])) }} as {{ dbt.type_string() }}) as lifecycle_stage_id,
        with_previous_funnel_stage.person_id,
        with_previous_funnel_stage.stage_key,
        with_previous_funnel_stage.stage_order,
        with_previous_funnel_stage.stage_group,
        cast(with_previous_funnel_stage.stage_entry_number as integer) as stage_entry_number,
        with_previous_funnel_stage.stage_entry_number = 1 as is_first_entry,
        cast(with_previous_funnel_stage.entry_sequence as integer) as entry_sequence,
        with_previous_funnel_stage.changed_at as entered_at,
        with_previous_funnel_stage.exited_at,
        with_previous_funnel_stage.exited_at is null as is_current_stage,
        with_previous_funnel_stage.previous_stage_key,
        with_previous_funnel_stage.next_stage_key,
        with_previous_funnel_stage.previous_funnel_stage_key,
        coalesce(
            with_previous_funnel_stage.is_lead_funnel_stage
            and with_previous_funnel_stage.stage_order
            < with_previous_funnel_stage.previous_funnel_stage_order,
            false
        ) as is_regression,
        coalesce(skipped_stages.skipped_stage_count, 0) > 0 as has_skipped_stages,
        cast(coalesce(skipped_stages.skipped_stage_count, 0) as integer) as skipped_stage_count,
        skipped_stages.skipped_stage_keys,
        with_previous_funnel_stage.source_system,
        with_previous_funnel_stage.crm_object,
        with_previous_funnel_stage.crm_record_id,
        with_previous_funnel_stage.crm_field,
        with_previous_funnel_stage.crm_value,
        with_previous_funnel_stage.change_kind,
        with_previous_funnel_stage.changed_by_user_id,
        with_previous_funnel_stage.status_change_id,
        with_previous_funnel_stage.source_table,
        with_previous_funnel_stage.source_row_id
    from with_previous_funnel_stage
    left join skipped_stages
        on with_previous_funnel_stage.status_change_id = skipped_stages.status_change_id

)

select * from final
