-- kpi_action_plans: action list, one row per agency x assessment quarter x practice item with an action
-- plan (action_status other than NONE). is_latest marks the agency's latest assessment; is_open an action
-- PLANNED or IN_PROGRESS; is_overdue an open action of an agency still active at the as-of date (dim_as_of)
-- whose due quarter ended before that date; quarters_overdue counts the quarters from the due quarter to the as-of date's quarter.
create or replace view kpi_action_plans as
with latest as (
    select agency_id, max(quarter_ordinal) as quarter_ordinal
    from stg_practices
    group by agency_id
),

actions as (
    select
        p.*,
        p.quarter_ordinal = l.quarter_ordinal as is_latest,
        p.action_status in ('PLANNED', 'IN_PROGRESS') as is_open,
        d.as_of_date,
        year(d.as_of_date) * 4 + quarter(d.as_of_date) - 1 as as_of_ordinal
    from stg_practices as p
    left join latest as l on l.agency_id = p.agency_id
    cross join dim_as_of as d
    where p.action_status <> 'NONE'
),

final as (
    select
        a.agency_id,
        g.agency_name,
        a.region_id,
        a.agency_type,
        a.quarter,
        a.quarter_ordinal,
        a.practice_code,
        a.domain,
        a.statement,
        a.action_status,
        a.action_owner,
        a.action_due_quarter,
        coalesce(a.is_latest, false) as is_latest,
        a.is_open,
        coalesce(a.is_open and a.action_due_end < a.as_of_date and still_active, false) as is_overdue,
        case
            when a.is_open and a.action_due_end < a.as_of_date and still_active
                then a.as_of_ordinal - a.action_due_ordinal
            else 0
        end as quarters_overdue,
        a.as_of_date
    from actions as a
    left join stg_agency as g on g.agency_id = a.agency_id,
    lateral (select g.active_to is null or g.active_to >= a.as_of_date as still_active)
)

select * from final
