-- title: One agency, quarter by quarter
-- description: The headline measures of one agency (give its id, e.g. AG0001) for every quarter it reported.
-- default agency_id: AG0001
select quarter, round(peer_fte, 2) as peer_fte, peer_headcount_count,
       round(certified_pct, 1) as certified_pct,
       round(annualized_turnover_pct, 1) as annualized_turnover_pct,
       round(denial_rate_pct, 1) as denial_rate_pct,
       round(units_billed_per_peer_fte, 0) as units_billed_per_peer_fte
from kpi_agency_quarter
where agency_id = $agency_id
order by quarter
