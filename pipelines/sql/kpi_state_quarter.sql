-- kpi_state_quarter: one row per quarter with every quarterly KPI for the whole state (sums over all
-- agencies, population = sum of the regions' populations).
create or replace view kpi_state_quarter as
with scorecard as (
    select * from kpi_scorecard where level = 'state'
),

final as (
    select * exclude (level, entity_id, entity_name, region_id, agency_id)
    from scorecard
)

select * from final
