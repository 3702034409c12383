-- The persons of each opportunity: its originating person (the converted lead or the
-- contact it came from, as fct_opportunities resolves it) and the contacts of its buying
-- group (Salesforce opportunity contact roles, HubSpot deal-contact associations), each
-- resolved to a person through int_person_identities. A person is listed once per
-- opportunity. Attribution paths and the influenced flag read the touches of these persons.
-- is_primary_person marks one person per opportunity: the originating person, else the
-- primary contact role, else the contact first linked to it (then the smallest person_id),
-- so an opportunity that was never a lead (a CRM export without leads) still has a person.

with

opportunities as (

    select * from {{ ref('int_opportunities_accepted') }}

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
        false as is_originating_person,
        is_primary as is_primary_contact,
        created_at as linked_at
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
        false as is_originating_person,
        false as is_primary_contact,
        cast(null as {{ dbt.type_timestamp() }}) as linked_at
    from deal_contacts
    {% endif %}

),

opportunity_records as (

    select
        source_system,
        opportunity_id,
        originating_crm_object as crm_object,
        originating_crm_record_id as crm_record_id,
        true as is_originating_person,
        false as is_primary_contact,
        created_at as linked_at
    from opportunities
    where originating_crm_record_id is not null

    union all

    select * from buying_group_contacts

),

opportunity_persons as (

    select
        opportunity_records.source_system,
        opportunity_records.opportunity_id,
        person_identities.person_id,
        {{ dbt.bool_or('opportunity_records.is_originating_person') }} as is_originating_person,
        {{ dbt.bool_or('opportunity_records.is_primary_contact') }} as is_primary_contact,
        min(opportunity_records.linked_at) as first_linked_at
    from opportunity_records
    inner join person_identities
        on
            opportunity_records.source_system = person_identities.source_system
            and opportunity_records.crm_object = person_identities.crm_object
            and opportunity_records.crm_record_id = person_identities.crm_record_id
    group by 1, 2, 3

),

final as (

    select
        source_system,
        opportunity_id,
        person_id,
        is_originating_person,
        row_number() over (
            partition by source_system, opportunity_id
            order by
                case when is_originating_person then 0 when is_primary_contact then 1 else 2 end,
                first_linked_at asc nulls last,
                person_id asc
        ) = 1 as is_primary_person
    from opportunity_persons

)

select * from final
