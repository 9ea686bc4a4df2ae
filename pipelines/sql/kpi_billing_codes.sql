-- kpi_billing_codes: Medicaid billing by code (hcpcs + modifier) per quarter at agency, region and state
-- level: units and dollars, denial rate = units_denied / (units_paid + units_denied), and the code's
-- share of the entity's units billed.
create or replace view kpi_billing_codes as
with codes as (
    select
        hcpcs,
        coalesce(modifier, '') as modifier,
        arg_max(service_kind, effective_from) as service_kind,
        arg_max(description, effective_from) as code_description
    from billing_codes
    group by hcpcs, coalesce(modifier, '')
),

billing_rows as (
    select
        b.agency_id,
        b.region_id,
        b.quarter,
        b.hcpcs,
        coalesce(b.modifier, '') as modifier,
        b.claims_submitted,
        b.units_billed,
        b.units_paid,
        b.units_denied,
        b.amount_billed,
        b.amount_paid,
        b.unique_beneficiaries
    from stg_billing as b
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        hcpcs,
        modifier,
        count(distinct agency_id) as agencies_count,
        cast(sum(claims_submitted) as bigint) as claims_submitted_count,
        cast(sum(units_billed) as bigint) as units_billed_count,
        cast(sum(units_paid) as bigint) as units_paid_count,
        cast(sum(units_denied) as bigint) as units_denied_count,
        sum(amount_billed) as amount_billed_usd,
        sum(amount_paid) as amount_paid_usd,
        cast(sum(unique_beneficiaries) as bigint) as beneficiaries_count
    from billing_rows
    group by grouping sets (
        (region_id, agency_id, quarter, hcpcs, modifier),
        (region_id, quarter, hcpcs, modifier),
        (quarter, hcpcs, modifier)
    )
),

final as (
    select
        b.level,
        entity_of(b.level, b.agency_id, b.region_id) as entity_id,
        b.region_id,
        b.agency_id,
        b.quarter,
        b.hcpcs,
        b.modifier,
        c.service_kind,
        c.code_description,
        b.agencies_count,
        b.claims_submitted_count,
        b.units_billed_count,
        b.units_paid_count,
        b.units_denied_count,
        b.amount_billed_usd,
        b.amount_paid_usd,
        b.beneficiaries_count,
        100.0 * b.units_denied_count / nullif(b.units_paid_count + b.units_denied_count, 0) as denial_rate_pct,
        b.amount_paid_usd / nullif(b.units_paid_count, 0) as paid_per_unit_usd,
        100.0 * b.units_billed_count
            / nullif(sum(b.units_billed_count) over (partition by b.level, b.region_id, b.agency_id, b.quarter), 0)
            as share_of_units_billed_pct
    from by_level as b
    left join codes as c on c.hcpcs = b.hcpcs and c.modifier = b.modifier
    where not (b.level = 'region' and b.region_id is null)
)

select * from final
