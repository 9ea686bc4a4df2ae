-- title: Why peers leave
-- description: Statewide separations by reason over every quarter loaded, with each reason's share and how many were voluntary.
with reasons as (
    select separation_reason, sum(separations_count) as separations_count,
           sum(voluntary_count) as voluntary_count
    from kpi_separation_reasons
    where level = 'state'
    group by separation_reason
)

select separation_reason, separations_count, voluntary_count,
       round(100.0 * separations_count / sum(separations_count) over (), 1) as share_pct
from reasons
order by separations_count desc
