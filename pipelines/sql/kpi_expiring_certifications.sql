-- kpi_expiring_certifications: action list of CERTIFIED_ACTIVE credentials (any role on the certification
-- report, supervisors included) in each agency's latest reported certification quarter whose
-- expiration_date falls within the 90 days from the as-of date (as_of <= expiration_date <= as_of + 90).
create or replace view kpi_expiring_certifications as
with certification_quarters as (
    select *
    from stg_certification
    where quarter_ordinal is not null
),

latest as (
    select agency_id, max(quarter_ordinal) as quarter_ordinal
    from certification_quarters
    group by agency_id
),

final as (
    select
        c.agency_id,
        a.agency_name,
        a.region_id,
        c.quarter,
        c.peer_id,
        c.role,
        c.credential_code,
        c.status,
        c.issue_date,
        c.expiration_date,
        d.as_of_date,
        date_diff('day', d.as_of_date, c.expiration_date) as days_to_expiry
    from certification_quarters as c
    inner join latest as l on l.agency_id = c.agency_id and l.quarter_ordinal = c.quarter_ordinal
    cross join dim_as_of as d
    left join stg_agency as a on a.agency_id = c.agency_id
    where
        c.status = 'CERTIFIED_ACTIVE'
        and c.expiration_date >= d.as_of_date
        and c.expiration_date <= d.as_of_date + 90
)

select * from final
