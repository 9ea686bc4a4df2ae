-- title: Agencies with missing reports in the latest quarter
-- description: Active agencies that have not filed all four reports for the latest quarter loaded, and which ones are missing.
with latest as (
    select max(quarter) as quarter from submissions where status = 'accepted'
),

expected as (
    select a.agency_id, a.name as agency_name, a.region_id, l.quarter, r.report
    from agencies as a
    cross join latest as l
    cross join (values ('headcount'), ('certification'), ('billing'), ('retention')) as r(report)
    where a.active_to is null
),

final as (
    select e.agency_id, e.agency_name, e.region_id, e.quarter,
           string_agg(e.report, ', ' order by e.report) as missing_reports
    from expected as e
    left join submissions as s
        on s.agency_id = e.agency_id and s.quarter = e.quarter and s.report = e.report and s.status = 'accepted'
    where s.submission_id is null
    group by all
)

select * from final order by region_id, agency_id
