-- Dated conversion rates into the corporate currency (units of currency_code per one unit
-- of it, valid over [valid_from, valid_to)): Salesforce advanced currency management rates,
-- plus rate 1 for the corporate currency itself when Salesforce does not list it (so
-- corporate-currency amounts convert even without Salesforce). HubSpot has no dated rates:
-- its amounts use these too.

with

{% if var('salesforce_enabled', true) %}
salesforce_dated_conversion_rates as (

    select * from {{ ref('stg_salesforce__dated_conversion_rates') }}

),
{% endif %}

crm_rates as (

    {% if var('salesforce_enabled', true) %}
    select
        currency_code,
        conversion_rate,
        valid_from,
        valid_to,
        source_system
    from salesforce_dated_conversion_rates
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as currency_code,
        cast(null as {{ dbt.type_float() }}) as conversion_rate,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        cast(null as {{ dbt.type_string() }}) as source_system
    where 1 = 0
    {% endif %}

),

corporate_currency_rate as (

    select
        '{{ var("corporate_currency") }}' as currency_code,
        cast(1 as {{ dbt.type_float() }}) as conversion_rate,
        cast('1900-01-01' as date) as valid_from,
        cast('9999-12-31' as date) as valid_to,
        'corporate_currency' as source_system
    where not exists (
        select crm_rates.currency_code
        from crm_rates
        where crm_rates.currency_code = '{{ var("corporate_currency") }}'
    )

),

final as (

    select * from crm_rates
    union all
    select * from corporate_currency_rate

)

select * from final
