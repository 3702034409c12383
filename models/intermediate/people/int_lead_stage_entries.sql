{{
    config(
        post_hook="{{ remove_emptied_days(
            'first_entered_date',
            '(select person_id, min(changed_at) as first_entered_at from '
            ~ ref('int_lead_status_changes_unioned') ~ ' group by person_id) as persons',
            'first_entered_at',
        ) }}",
    )
}}

-- The lead lifecycle: one row per person, stage and entry into it (published as
-- fct_lead_lifecycle; the handoff models read it here, as they must not read a mart).
-- Built from every recorded value of a funnel field (int_lead_status_changes_unioned), in
-- time order per person (ties by stage order); a value that keeps the person in the stage
-- they are in is not a new entry. A stage reached without passing the lead-funnel stages
-- before it is flagged on the row reached after the skip (skipped stages listed, never
-- invented as rows); a move to an earlier lead-funnel stage is flagged as a regression.
--
-- Incremental by the day each person first entered a stage (first_entered_date;
-- materialization and strategy per engine in dbt_project.yml): a person's entries depend on
-- all their changes, and new changes come mostly to recent leads. Each row keeps its day's
-- count and hash of the changes it was built from (_sros_input_rows, _sros_input_hash:
-- every column of each change and the stage definitions, macro day_hashes), and a run
-- rebuilds whole the days whose changes differ now (a new or corrected change, a record now
-- another person's, a changed stage seed) and nothing else. A day whose every person is gone
-- has nothing to replace it: the post-hook removes it (macro remove_emptied_days).

{%- set hashed_columns = [
    'status_change_id', 'person_id', 'source_system', 'crm_object', 'crm_record_id',
    'crm_field', 'crm_value', 'previous_crm_value', 'stage_key', 'change_kind', 'changed_at',
    'changed_by_user_id', 'source_table', 'source_row_id', 'stage_definitions_hash',
] %}

with

int_lead_status_changes_unioned as (

    select * from {{ ref('int_lead_status_changes_unioned') }}

),

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

stage_definitions as (

    -- one row: a hash of the whole stage classification, which every entry depends on (a
    -- skip lists the lead-funnel stages between two others)
    select
        bit_xor({{ row_hash(['stage_key', 'stage_order', 'stage_group', 'is_lead_funnel_stage']) }})
            as stage_definitions_hash
    from int_funnel_stages_classified

),

dated_changes as (

    -- every change (every column of int_lead_status_changes_unioned: hashed_columns above),
    -- with the day its person first entered a stage, the day its entries are rebuilt on
    select
        int_lead_status_changes_unioned.*,
        stage_definitions.stage_definitions_hash,
        cast(min(int_lead_status_changes_unioned.changed_at) over (
            partition by int_lead_status_changes_unioned.person_id
        ) as date) as first_entered_date
    from int_lead_status_changes_unioned
    cross join stage_definitions

),

input_days as (

    {{ day_hashes('dated_changes', 'first_entered_date', hashed_columns) }}

),

{% if is_incremental() %}
days_to_rebuild as (

    {{ days_differing(
        'select * from input_days',
        'select distinct first_entered_date as day, _sros_input_rows as rows_count,'
        ~ ' _sros_input_hash as rows_hash from ' ~ this,
    ) }}

),

changes_to_sequence as (

    select dated_changes.*
    from dated_changes
    inner join days_to_rebuild
        on dated_changes.first_entered_date = days_to_rebuild.changed_date

),
{% else %}
changes_to_sequence as (

    select * from dated_changes

),
{% endif %}

ordered_changes as (

    -- the person's changes in time order, ties by stage order (status_change_id is unique,
    -- so the order is total): change_number numbers it, and every later window orders by
    -- it. Windows sharing a partition and an order share one sort.
    select
        changes_to_sequence.*,
        int_funnel_stages_classified.stage_order,
        int_funnel_stages_classified.stage_group,
        coalesce(int_funnel_stages_classified.is_lead_funnel_stage, false)
            as is_lead_funnel_stage,
        row_number() over person_changes as change_number,
        lag(changes_to_sequence.stage_key) over person_changes
            as previous_change_stage_key
    from changes_to_sequence
    -- left join: an unmapped value (null stage_key) stays and fails the stage_key tests
    left join int_funnel_stages_classified
        on changes_to_sequence.stage_key = int_funnel_stages_classified.stage_key
    window person_changes as (
        partition by changes_to_sequence.person_id
        order by
            changes_to_sequence.changed_at,
            -- an unmapped value (null stage_order) last on both engines (Spark sorts nulls
            -- first ascending)
            int_funnel_stages_classified.stage_order nulls last,
            changes_to_sequence.status_change_id
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

    -- entry_sequence numbers the entries in change order; the neighbours and the stage of
    -- the previous lead-funnel entry are found in the same order (change_number), in one sort
    select
        *,
        row_number() over person_entries as entry_sequence,
        lag(stage_key) over person_entries as previous_stage_key,
        lead(stage_key) over person_entries as next_stage_key,
        lead(changed_at) over person_entries as exited_at,
        -- the window written out: Spark cannot add a frame to a named window
        {{ last_value_ignoring_nulls('case when is_lead_funnel_stage then stage_key end') }}
            over (
                partition by person_id
                order by change_number
                rows between unbounded preceding and 1 preceding
            ) as previous_funnel_stage_key,
        row_number() over (
            partition by person_id, stage_key order by change_number
        ) as stage_entry_number
    from stage_entries
    window person_entries as (partition by person_id order by change_number)

),

lead_funnel_stages as (

    select
        stage_key,
        stage_order
    from int_funnel_stages_classified
    where is_lead_funnel_stage

),

previous_funnel_stage_orders as (

    -- the order of the lead-funnel stage a person was in before an entry; 0: none yet
    select 0 as stage_order
    union
    select stage_order from lead_funnel_stages

),

stage_skips as (

    -- for each lead-funnel stage and each previous one, the lead-funnel stages strictly
    -- between them (a few rows: stages by stages), which an entry from the one to the
    -- other skipped
    select
        entered_stage.stage_key,
        previous_funnel_stage_orders.stage_order as previous_funnel_stage_order,
        count(*) as skipped_stage_count,
        {{ ordered_listagg(
            'skipped_stage.stage_key',
            "','",
            ['skipped_stage.stage_order'],
        ) }} as skipped_stage_keys
    from lead_funnel_stages as entered_stage
    cross join previous_funnel_stage_orders
    inner join lead_funnel_stages as skipped_stage
        on
            previous_funnel_stage_orders.stage_order < skipped_stage.stage_order
            and entered_stage.stage_order > skipped_stage.stage_order
    group by 1, 2

),

with_previous_funnel_stage as (

    select
        with_neighbours.*,
        previous_funnel_stage.stage_order as previous_funnel_stage_order
    from with_neighbours
    left join lead_funnel_stages as previous_funnel_stage
        on with_neighbours.previous_funnel_stage_key = previous_funnel_stage.stage_key

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
        coalesce(stage_skips.skipped_stage_count, 0) > 0 as has_skipped_stages,
        cast(coalesce(stage_skips.skipped_stage_count, 0) as integer) as skipped_stage_count,
        stage_skips.skipped_stage_keys,
        with_previous_funnel_stage.source_system,
        with_previous_funnel_stage.crm_object,
        with_previous_funnel_stage.crm_record_id,
        with_previous_funnel_stage.crm_field,
        with_previous_funnel_stage.crm_value,
        with_previous_funnel_stage.change_kind,
        with_previous_funnel_stage.changed_by_user_id,
        with_previous_funnel_stage.status_change_id,
        with_previous_funnel_stage.source_table,
        with_previous_funnel_stage.source_row_id,
        with_previous_funnel_stage.first_entered_date,
        input_days.rows_count as _sros_input_rows,
        input_days.rows_hash as _sros_input_hash
    from with_previous_funnel_stage
    left join stage_skips
        on
            with_previous_funnel_stage.is_lead_funnel_stage
            and with_previous_funnel_stage.stage_key = stage_skips.stage_key
            and coalesce(with_previous_funnel_stage.previous_funnel_stage_order, 0)
            = stage_skips.previous_funnel_stage_order
    inner join input_days
        on with_previous_funnel_stage.first_entered_date = input_days.day

)

select * from final
