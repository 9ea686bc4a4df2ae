-- kpi_workforce_by_role: headcount, FTE and vacancies by role and setting (agency_type) per quarter at
-- agency, region and state level. agency_type = 'ALL' on the rows that sum over every setting.
create or replace view kpi_workforce_by_role as
with rows_with_agency as (
    select
        agency_id,
        region_id,
        agency_type,
        quarter,
        role,
        headcount,
        headcount_fulltime,
        fte,
        vacancies,
        trained_peer_supervisors
    from stg_headcount
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        case when grouping(agency_type) = 1 then 'ALL' else agency_type end as agency_type,
        quarter,
        role,
        count(distinct agency_id) as agencies_count,
        cast(sum(headcount) as bigint) as headcount_count,
        cast(sum(headcount_fulltime) as bigint) as fulltime_count,
        sum(fte) as fte,
        cast(sum(vacancies) as bigint) as vacancy_count,
        cast(sum(trained_peer_supervisors) as bigint) as trained_supervisor_count
    from rows_with_agency
    group by grouping sets (
        (region_id, agency_id, agency_type, quarter, role),
        (region_id, agency_type, quarter, role),
        (region_id, quarter, role),
        (agency_type, quarter, role),
        (quarter, role)
    )
),

final as (
    select
        b.level,
        entity_of(b.level, b.agency_id, b.region_id) as entity_id,
        b.region_id,
        b.agency_id,
        b.agency_type,
        b.quarter,
        b.role,
        r.role_label,
        r.is_peer,
        r.role_order,
        b.agencies_count,
        b.headcount_count,
        b.fulltime_count,
        b.fte,
        b.vacancy_count,
        b.trained_supervisor_count,
        100.0 * b.fulltime_count / nullif(b.headcount_count, 0) as fulltime_pct,
        100.0 * b.vacancy_count / nullif(b.headcount_count + b.vacancy_count, 0) as vacancy_rate_pct
    from by_level as b
    left join dim_role as r on r.role = b.role
    where not (b.level = 'region' and b.region_id is null)
)

select * from final
