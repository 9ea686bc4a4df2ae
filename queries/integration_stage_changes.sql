-- title: Agencies that changed integration stage
-- description: Agencies whose integration stage (Emerging, Developing, Integrated) differs between the last two quarters, with their index scores.
with ranked as (
    select entity_id as agency_id, entity_name as agency_name, region_id, quarter, index_score, stage,
           lag(stage) over w as previous_stage, lag(index_score) over w as previous_score,
           lag(quarter) over w as previous_quarter
    from kpi_integration_index
    where level = 'agency'
    window w as (partition by entity_id order by quarter_ordinal)
)

select agency_id, agency_name, region_id, previous_quarter, previous_stage,
       round(previous_score, 1) as previous_score, quarter, stage, round(index_score, 1) as index_score
from ranked
where quarter = (select max(quarter) from kpi_integration_index) and stage <> previous_stage
order by index_score - previous_score
