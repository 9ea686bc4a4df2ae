-- title: Agencies that changed integration stage in the past year
-- description: Agencies whose integration stage (No peer workforce, Emerging, Developing, Integrated) in the latest quarter differs from their stage four quarters before, down moves first, with both index scores.
select t.entity_id as agency_id, t.entity_name as agency_name, t.region_id, t.from_quarter, t.from_stage,
       round(before.index_score, 1) as from_index, t.quarter, t.to_stage, round(now.index_score, 1) as index_score,
       t.direction
from kpi_stage_transitions t
join kpi_integration_index now on now.level = 'agency' and now.entity_id = t.entity_id and now.quarter = t.quarter
join kpi_integration_index before on before.level = 'agency' and before.entity_id = t.entity_id
    and before.quarter = t.from_quarter
where t.level = 'agency' and t.direction <> 'same'
  and t.quarter = (select max(quarter) from kpi_stage_transitions)
order by t.direction = 'down' desc, now.index_score - before.index_score
