-- title: Regions by supervision coverage
-- description: Peers per trained peer supervisor in each region for one quarter (lower is better coverage), with the integration index target. Leave the quarter as the latest by default.
-- default quarter: 
with latest as (
    select coalesce(nullif($quarter, ''), max(quarter)) as quarter from kpi_region_quarter
),

final as (
    select r.region_id, r.region_name, r.quarter,
           r.peer_headcount_count, r.trained_supervisor_count,
           round(r.peers_per_trained_supervisor, 1) as peers_per_trained_supervisor,
           t.target as target_peers_per_supervisor
    from kpi_region_quarter as r
    join latest using (quarter)
    left join targets as t on t.component = 'supervision_coverage'
)

select * from final order by peers_per_trained_supervisor desc nulls first
