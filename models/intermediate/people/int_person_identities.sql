-- Identity resolution: one row per live CRM person record (Salesforce lead or contact,
-- HubSpot contact) with the person it belongs to. Records are one person when linked by
-- the CRM (a Salesforce lead and the contact it converted to) or when they share a
-- normalised email (within or across CRMs). Merged and deleted records are already removed
-- in staging. Links are followed two hops (email -> conversion -> email -> conversion),
-- which covers every chain a conversion and shared emails can form in practice.
-- person_first_created_at is the one place a person's first creation is defined.


with

int_person_records_unioned as (

    select * from {{ ref('int_person_records_unioned') }}

),

records as (

    select
        source_system,
        crm_object,
        crm_record_id,
        email,
        converted_crm_record_id,
        created_at
    from int_person_records_unioned

),

keyed as (

    -- match key: the normalised email (staging lowercases and trims it), else the record
    select
        *,
        {{ dbt.concat(["source_system", "':'", "crm_object", "':'", "crm_record_id"]) }}
            as record_key,
        case
            when email is not null and email != ''
                then {{ dbt.concat(["'email:'", "email"]) }}
            else {{ dbt.concat([
                "'record:'", "source_system", "':'", "crm_object", "':'", "crm_record_id"
            ]) }}
        end as match_key
    from records

),

conversion_links as (

    -- a converted lead and its contact (same CRM) are one person
    select
        leads.match_key as from_key,
        contacts.match_key as to_key
    from keyed as leads
    inner join keyed as contacts
        on
            leads.source_system = contacts.source_system
            and contacts.crm_object = 'contact'
            and leads.converted_crm_record_id = contacts.crm_record_id
    where
        leads.crm_object = 'lead'
        and leads.match_key != contacts.match_key

),

edges as (

    select distinct
        match_key as from_key,
        match_key as to_key
    from keyed

    union all

    select
        from_key,
        to_key
    from conversion_links

    union all

    select
        to_key as from_key,
        from_key as to_key
    from conversion_links

),

first_hop as (

    select
        from_key as match_key,
        min(to_key) as anchor_key
    from edges
    group by 1

),

second_hop as (

    -- each key takes the smallest anchor among its neighbours' anchors
    select
        edges.from_key as match_key,
        min(first_hop.anchor_key) as anchor_key
    from edges
    inner join first_hop
        on edges.to_key = first_hop.match_key
    group by 1

),

final as (

    select
        keyed.source_system,
        keyed.crm_object,
        keyed.crm_record_id,
        -- keyed pseudonyms (HMAC-SHA256, macro pseudonym): an md5 of an email finds nobody
        cast({{ pseudonym('second_hop.anchor_key') }} as {{ dbt.type_string() }}) as person_id,
        keyed.record_key,
        case
            when keyed.email is not null and keyed.email != ''
                then cast({{ pseudonym('keyed.email') }} as {{ dbt.type_string() }})
        end as email_hash,
        keyed.created_at,
        -- the person's first CRM creation: the earliest of the person's records
        -- (dim_persons.first_created_at; the lead-creation touch is the latest before it)
        min(keyed.created_at) over (partition by second_hop.anchor_key) as person_first_created_at
    from keyed
    inner join second_hop
        on keyed.match_key = second_hop.match_key

)

select * from final
