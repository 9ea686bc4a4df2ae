-- title: Why peers leave
-- description: Statewide separations by reason over the four quarters ending with the latest one, with each reason's share and how many were voluntary.
select separation_reason, separations_count, voluntary_count, round(share_pct, 1) as share_pct,
       round(cumulative_share_pct, 1) as cumulative_share_pct, quarter as window_ends
from kpi_separation_reasons
where level = 'state' and quarter = (select max(quarter) from kpi_separation_reasons)
order by reason_rank
