-- The persons of each opportunity: its originating person (the converted lead or the
-- contact it came from, as fct_opportunities resolves it) and the contacts of its buying
-- group (Salesforce opportunity contact roles, HubSpot deal-contact associations), each
-- resolved to a person through int_person_identities. A person is listed once per
-- opportunity. Attribution paths and the influenced flag read the touches of these persons.

with

opportunities as (

    select * from {{ ref('int_opportunities_unioned') }}

),

person_identities as (

    select * from {{ ref('int_person_identities') }}

),

{% if var('salesforce_enabled', true) %}
opportunity_contact_roles as (

    select * from {{ ref('stg_salesforce__opportunity_contact_roles') }}

),
{% endif %}

{% if var('hubspot_enabled', true) %}
deal_contacts as (

    select * from {{ ref('stg_hubspot__deal_contacts') }}

),
{% endif %}

buying_group_contacts as (

    {% if var('salesforce_enabled', true) %}
    select
        source_system,
        opportunity_id,
        'contact' as crm_object,
        contact_id as crm_record_id,
        false as is_originating_person
    from opportunity_contact_roles
    {% endif %}
    {% if var('salesforce_enabled', true) and var('hubspot_enabled', true) %}
    union all
    {% endif %}
    {% if var('hubspot_enabled', true) %}
    select
        source_system,
        deal_id as opportunity_id,
        'contact' as crm_object,
        contact_id as crm_record_id,
        false as is_originating_person
    from deal_contacts
    {% endif %}

),

opportunity_records as (

    select
        source_system,
        opportunity_id,
        originating_crm_object as crm_object,
        originating_crm_record_id as crm_record_id,
        true as is_originating_person
    from opportunities
    where originating_crm_record_id is not null

    union all

    select * from buying_group_contacts

),

final as (

    select
        opportunity_records.source_system,
        opportunity_records.opportunity_id,
        person_identities.person_id,
        max(case when opportunity_records.is_originating_person then 1 else 0 end) = 1
            as is_originating_person
    from opportunity_records
    inner join person_identities
        on
            opportunity_records.source_system = person_identities.source_system
            and opportunity_records.crm_object = person_identities.crm_object
            and opportunity_records.crm_record_id = person_identities.crm_record_id
    group by 1, 2, 3

)

select * from final
