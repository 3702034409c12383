-- Persons: leads and contacts of both CRMs unified by identity resolution
-- (int_person_identities). Attributes come from the person's records: the earliest record
-- gives the original lead source and first creation; the latest contact record (curated by
-- sales) wins for account and buying role. No PII: the email is kept as a hash only.


with

int_person_identities as (

    select * from {{ ref('int_person_identities') }}

),

title_seniorities as (

    select * from {{ ref('title_seniorities') }}

),

lead_source_channels as (

    select * from {{ ref('lead_source_channels') }}

),

int_person_records_unioned as (

    select * from {{ ref('int_person_records_unioned') }}

),

record_attributes as (

    select
        source_system,
        crm_object,
        crm_record_id,
        account_id,
        title,
        buying_role,
        lead_source,
        country_code
    from int_person_records_unioned

),

records as (

    select
        int_person_identities.*,
        record_attributes.account_id,
        record_attributes.title,
        record_attributes.buying_role,
        record_attributes.lead_source,
        record_attributes.country_code,
        row_number() over (
            partition by int_person_identities.person_id
            order by int_person_identities.created_at, int_person_identities.record_key
        ) as record_number,
        case
            when int_person_identities.crm_object = 'contact'
                then row_number() over (
                    partition by int_person_identities.person_id, int_person_identities.crm_object
                    order by
                        int_person_identities.created_at desc,
                        int_person_identities.record_key desc
                )
        end as contact_number
    from int_person_identities
    inner join record_attributes
        on
            int_person_identities.source_system = record_attributes.source_system
            and int_person_identities.crm_object = record_attributes.crm_object
            and int_person_identities.crm_record_id = record_attributes.crm_record_id

),

persons as (

    select
        person_id,
        max(case when record_number = 1 then source_system end) as first_source_system,
        max(case when source_system = 'salesforce' then 1 else 0 end) = 1
            as has_salesforce_record,
        max(case when source_system = 'hubspot' then 1 else 0 end) = 1 as has_hubspot_record,
        min(case when source_system = 'salesforce' and crm_object = 'lead' then crm_record_id end)
            as salesforce_lead_id,
        min(
            case when source_system = 'salesforce' and crm_object = 'contact' then crm_record_id end
        ) as salesforce_contact_id,
        min(case when source_system = 'hubspot' then crm_record_id end) as hubspot_contact_id,
        count(*) as crm_record_count,
        max(email_hash) as email_hash,
        min(person_first_created_at) as first_created_at
    from records
    group by 1

),

first_records as (

    select * from records
    where record_number = 1

),

latest_contacts as (

    select * from records
    where contact_number = 1

),

final as (

    select
        persons.person_id,
        cast(
            {{ dbt.concat(["'person-'", "substr(persons.person_id, 1, 10)"]) }}
            as {{ dbt.type_string() }}
        ) as person_label,
        persons.email_hash,
        persons.first_source_system as source_system,
        case
            when persons.has_salesforce_record and persons.has_hubspot_record
                then 'hubspot,salesforce'
            when persons.has_salesforce_record then 'salesforce'
            when persons.has_hubspot_record then 'hubspot'
        end as source_systems,
        persons.has_salesforce_record,
        persons.has_hubspot_record,
        persons.salesforce_lead_id,
        persons.salesforce_contact_id,
        persons.hubspot_contact_id,
        cast(persons.crm_record_count as integer) as crm_record_count,
        coalesce(latest_contacts.account_id, first_records.account_id) as account_id,
        case
            when latest_contacts.account_id is not null then latest_contacts.source_system
            when first_records.account_id is not null then first_records.source_system
        end as account_source_system,
        coalesce(first_records.title, latest_contacts.title) is not null as has_title,
        title_seniorities.seniority as title_seniority,
        coalesce(title_seniorities.is_icp_seniority, false) as is_icp_seniority,
        coalesce(latest_contacts.buying_role, first_records.buying_role) as buying_role,
        first_records.lead_source,
        lead_source_channels.channel,
        lead_source_channels.team as channel_team,
        coalesce(first_records.country_code, latest_contacts.country_code) as country_code,
        persons.first_created_at
    from persons
    inner join first_records
        on persons.person_id = first_records.person_id
    left join latest_contacts
        on persons.person_id = latest_contacts.person_id
    left join title_seniorities
        on coalesce(first_records.title, latest_contacts.title) = title_seniorities.title
    left join lead_source_channels
        on
            first_records.source_system = lead_source_channels.source_system
            and first_records.lead_source = lead_source_channels.lead_source

)

select * from final
