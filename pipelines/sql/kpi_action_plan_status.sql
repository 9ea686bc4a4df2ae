-- kpi_action_plan_status: action plans per level x entity x assessment quarter x domain (domain 'ALL' =
-- every item). Quarters are those in which some agency assessed; each agency counts with its latest
-- assessment as of the quarter (in it or before), if it is still active at the quarter's end. An open action
-- (PLANNED, IN_PROGRESS) is overdue when its due quarter ended before the close of the quarter (as the
-- assessment stood then) or, for the latest assessment quarter, before the as-of date (today's count, as
-- kpi_action_plans.is_overdue says).
create or replace view kpi_action_plan_status as
with assessments as (
    select distinct agency_id, region_id, quarter_ordinal
    from stg_practices
    where quarter_ordinal is not null
),

assessment_quarters as (
    select quarter, quarter_ordinal, quarter_end,
           lead(quarter_end) over (order by quarter_ordinal) as next_quarter_end
    from (select distinct p.quarter, p.quarter_ordinal, p.quarter_end
          from stg_practices as p
          where p.quarter_ordinal is not null)
),

latest_as_of as (
    select
        q.quarter,
        q.quarter_ordinal,
        q.quarter_end,
        q.next_quarter_end,
        a.agency_id,
        a.region_id,
        max(a.quarter_ordinal) as practice_ordinal
    from assessment_quarters as q
    inner join assessments as a on a.quarter_ordinal <= q.quarter_ordinal
    inner join stg_agency as g on g.agency_id = a.agency_id
        and (g.active_to is null or g.active_to >= q.quarter_end)
    group by q.quarter, q.quarter_ordinal, q.quarter_end, q.next_quarter_end, a.agency_id, a.region_id
),

items as (
    select
        w.quarter,
        w.quarter_ordinal,
        w.agency_id,
        w.region_id,
        p.domain,
        p.action_status in ('PLANNED', 'IN_PROGRESS') as is_open,
        p.action_status = 'DONE' as is_done,
        coalesce(
            p.action_status in ('PLANNED', 'IN_PROGRESS')
            and p.action_due_end < least(d.as_of_date,
                                         case when w.next_quarter_end is null then d.as_of_date
                                              else w.quarter_end + 1 end),
            false
        ) as is_overdue
    from latest_as_of as w
    inner join stg_practices as p on p.agency_id = w.agency_id and p.quarter_ordinal = w.practice_ordinal
    cross join dim_as_of as d
    where p.domain is not null
),

items_by_domain as (
    select * from items
    union all
    select * replace ('ALL' as domain) from items
),

agency_counts as (
    select
        quarter,
        quarter_ordinal,
        agency_id,
        region_id,
        domain,
        count(*) filter (where is_open) as actions_open_count,
        count(*) filter (where is_overdue) as actions_overdue_count,
        count(*) filter (where is_done) as actions_done_count
    from items_by_domain
    group by quarter, quarter_ordinal, agency_id, region_id, domain
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        domain,
        count(*) as agencies_assessed_count,
        cast(sum(actions_open_count) as bigint) as actions_open_count,
        cast(sum(actions_overdue_count) as bigint) as actions_overdue_count,
        cast(sum(actions_done_count) as bigint) as actions_done_count,
        count(*) filter (where actions_open_count > 0) as agencies_with_open_actions_count,
        count(*) filter (where actions_overdue_count > 0) as agencies_with_overdue_actions_count
    from agency_counts
    group by grouping sets (
        (region_id, agency_id, quarter, quarter_ordinal, domain),
        (region_id, quarter, quarter_ordinal, domain),
        (quarter, quarter_ordinal, domain)
    )
),

final as (
    select
        b.level,
        entity_of(b.level, b.agency_id, b.region_id) as entity_id,
        e.entity_name,
        b.region_id,
        b.agency_id,
        b.quarter,
        b.quarter_ordinal,
        b.domain,
        b.agencies_assessed_count,
        b.actions_open_count,
        b.actions_overdue_count,
        b.actions_done_count,
        b.agencies_with_open_actions_count,
        b.agencies_with_overdue_actions_count
    from by_level as b
    left join dim_entity as e on e.level = b.level and e.entity_id = entity_of(b.level, b.agency_id, b.region_id)
    where not (b.level = 'region' and b.region_id is null)
)

select * from final
