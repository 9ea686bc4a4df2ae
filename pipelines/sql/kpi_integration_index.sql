-- kpi_integration_index: the integration index (0-100) per level x entity x quarter = weighted mean of
-- the available component sub-scores (weights from targets), its stage (Emerging < 40 <= Developing
-- < 70 <= Integrated), and every component's value, target and sub-score beside it.
create or replace view kpi_integration_index as
with components as (
    select * from kpi_integration_components
),

pivoted as (
    select
        level,
        entity_id,
        entity_name,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        max(component_value) filter (where component = 'peer_to_clinician_ratio') as peer_to_clinician_ratio_value,
        max(target_value) filter (where component = 'peer_to_clinician_ratio') as peer_to_clinician_ratio_target,
        max(sub_score) filter (where component = 'peer_to_clinician_ratio') as peer_to_clinician_ratio_score,
        max(component_value) filter (where component = 'pct_certified') as pct_certified_value,
        max(target_value) filter (where component = 'pct_certified') as pct_certified_target,
        max(sub_score) filter (where component = 'pct_certified') as pct_certified_score,
        max(component_value) filter (where component = 'supervision_coverage') as supervision_coverage_value,
        max(target_value) filter (where component = 'supervision_coverage') as supervision_coverage_target,
        max(sub_score) filter (where component = 'supervision_coverage') as supervision_coverage_score,
        max(component_value) filter (where component = 'retention_12m') as retention_12m_value,
        max(target_value) filter (where component = 'retention_12m') as retention_12m_target,
        max(sub_score) filter (where component = 'retention_12m') as retention_12m_score,
        max(component_value) filter (where component = 'billing_sustainability') as billing_sustainability_value,
        max(target_value) filter (where component = 'billing_sustainability') as billing_sustainability_target,
        max(sub_score) filter (where component = 'billing_sustainability') as billing_sustainability_score,
        count(sub_score) as components_scored_count,
        sum(weight * sub_score) / nullif(sum(weight) filter (where sub_score is not null), 0) as index_score
    from components
    group by level, entity_id, entity_name, region_id, agency_id, quarter, quarter_ordinal
),

final as (
    select
        level,
        entity_id,
        entity_name,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        index_score,
        case
            when index_score is null then null
            when index_score < 40 then 'Emerging'
            when index_score < 70 then 'Developing'
            else 'Integrated'
        end as stage,
        components_scored_count,
        * exclude (level, entity_id, entity_name, region_id, agency_id, quarter, quarter_ordinal,
                   index_score, components_scored_count)
    from pivoted
)

select * from final
