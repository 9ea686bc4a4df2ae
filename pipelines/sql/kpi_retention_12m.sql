-- kpi_retention_12m: 12-month retention of the peers hired during the 4 quarters that ended 12 months
-- before the quarter end (hire_date in (quarter_end - 24 months, quarter_end - 12 months]), so every
-- hire's first 12 months are observable. A hire is a HIRE event in the retention report; it is retained
-- unless the same agency reports a SEPARATION of the same peer_id dated on or after the hire date and
-- before the 12-month anniversary. Rows exist only for quarters with a non-empty hire cohort.
create or replace view kpi_retention_12m as
with hires as (
    select distinct agency_id, region_id, peer_id, hire_date
    from stg_retention
    where event = 'HIRE' and hire_date is not null
),

separations as (
    select agency_id, peer_id, event_date
    from retention
    where event = 'SEPARATION'
),

spells as (
    select
        h.agency_id,
        h.region_id,
        h.peer_id,
        h.hire_date,
        min(s.event_date) as separation_date
    from hires as h
    left join separations as s
        on s.agency_id = h.agency_id and s.peer_id = h.peer_id and s.event_date >= h.hire_date
    group by h.agency_id, h.region_id, h.peer_id, h.hire_date
),

cohort as (
    select
        q.quarter,
        q.quarter_ordinal,
        sp.region_id,
        sp.agency_id,
        sp.peer_id,
        (sp.separation_date is null or sp.separation_date >= sp.hire_date + interval 12 month) as retained
    from spells as sp
    inner join dim_quarter as q
        on sp.hire_date > q.quarter_end - interval 24 month
        and sp.hire_date <= q.quarter_end - interval 12 month
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        count(*) as cohort_hires_count,
        count(*) filter (where retained) as retained_12m_count
    from cohort
    group by grouping sets (
        (region_id, agency_id, quarter, quarter_ordinal),
        (region_id, quarter, quarter_ordinal),
        (quarter, quarter_ordinal)
    )
),

final as (
    select
        level,
        entity_of(level, agency_id, region_id) as entity_id,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        cohort_hires_count,
        retained_12m_count,
        100.0 * retained_12m_count / nullif(cohort_hires_count, 0) as retention_12m_pct
    from by_level
    where not (level = 'region' and region_id is null)
)

select * from final
