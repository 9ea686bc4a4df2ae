-- kpi_region_quarter: one row per region x quarter (every region, every quarter) with every quarterly KPI,
-- summed over the region's agencies before dividing (ratios of sums), and peer FTE per 100k residents.
create or replace view kpi_region_quarter as
with scorecard as (
    select * from kpi_scorecard where level = 'region'
),

final as (
    select
        region_id,
        entity_name as region_name,
        * exclude (level, entity_id, entity_name, region_id, agency_id)
    from scorecard
)

select * from final
