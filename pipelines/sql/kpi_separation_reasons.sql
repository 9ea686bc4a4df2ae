-- kpi_separation_reasons: Pareto of separation reasons over the rolling 4 quarters ending with each
-- quarter (the turnover window), per agency, region and state: count, share, cumulative share, rank.
create or replace view kpi_separation_reasons as
with separations as (
    select
        r.agency_id,
        r.region_id,
        r.quarter_ordinal,
        coalesce(r.separation_reason, 'UNKNOWN') as separation_reason,
        r.separation_type
    from stg_retention as r
    where r.quarter_ordinal is not null and r.event = 'SEPARATION'
),

windowed as (
    select q.quarter, s.*
    from dim_quarter as q
    inner join separations as s
        on s.quarter_ordinal between q.quarter_ordinal - 3 and q.quarter_ordinal
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        separation_reason,
        count(*) as separations_count,
        count(*) filter (where separation_type = 'VOLUNTARY') as voluntary_count
    from windowed
    group by grouping sets (
        (region_id, agency_id, quarter, separation_reason),
        (region_id, quarter, separation_reason),
        (quarter, separation_reason)
    )
),

with_entity as (
    select
        level,
        entity_of(level, agency_id, region_id) as entity_id,
        * exclude (level)
    from by_level
    where not (level = 'region' and region_id is null)
),

final as (
    select
        level,
        entity_id,
        region_id,
        agency_id,
        quarter,
        separation_reason,
        row_number() over pareto as reason_rank,
        separations_count,
        voluntary_count,
        100.0 * separations_count / sum(separations_count) over entity_quarter as share_pct,
        100.0 * sum(separations_count) over (pareto rows between unbounded preceding and current row)
            / sum(separations_count) over entity_quarter as cumulative_share_pct
    from with_entity
    window
        entity_quarter as (partition by level, entity_id, quarter),
        pareto as (partition by level, entity_id, quarter order by separations_count desc, separation_reason)
)

select * from final
