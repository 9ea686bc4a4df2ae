-- title: Agencies billing near or above the units-per-FTE ceiling
-- description: Medicaid peer units billed per peer FTE in a quarter at or above a share of the state ceiling (policy setting units_per_fte_ceiling). Use 100 to list only agency-quarters above the ceiling.
-- default percent_of_ceiling: 75
with ceiling as (
    select cast(value as double) as units_per_fte
    from policy
    where setting = 'units_per_fte_ceiling'
),

final as (
    select a.agency_id, a.agency_name, a.region_id, a.quarter,
           a.units_billed_count, round(a.peer_fte, 2) as peer_fte,
           round(a.units_billed_per_peer_fte, 0) as units_per_peer_fte,
           c.units_per_fte as ceiling_units_per_fte,
           round(100 * a.units_billed_per_peer_fte / c.units_per_fte, 1) as percent_of_ceiling
    from kpi_agency_quarter as a
    cross join ceiling as c
    where a.units_billed_per_peer_fte >= c.units_per_fte * cast($percent_of_ceiling as double) / 100
)

select * from final order by percent_of_ceiling desc
