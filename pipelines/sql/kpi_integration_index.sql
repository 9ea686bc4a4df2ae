-- kpi_integration_index: the integration index (0-100) per level x entity x quarter. The workforce pillar
-- is the weighted mean (component weights) of the available workforce sub-scores; the practice pillar is
-- the practice row of kpi_integration_components; the index is the weighted mean of the available pillars
-- (weights: the targets rows of pillar 'index'), index_basis says which. Stage: 'No peer workforce' where
-- the entity reported headcount and has no peers (index and workforce score null, never 0); else Emerging,
-- Developing from targets' stage_developing, Integrated from stage_integrated. Every workforce component's
-- value, target and sub-score sits beside it.
create or replace view kpi_integration_index as
with components as (
    select * from kpi_integration_components
),

pillar_weights as (
    select
        max(weight) filter (where component = 'workforce') as workforce_weight,
        max(weight) filter (where component = 'practice') as practice_weight
    from targets
    where pillar = 'index'
),

stage_thresholds as (
    select
        max(target) filter (where component = 'stage_developing') as developing_from,
        max(target) filter (where component = 'stage_integrated') as integrated_from
    from targets
    where pillar = 'stage'
),

headcounts as (
    select level, entity_id, quarter, peer_headcount_count
    from kpi_scorecard
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
        count(sub_score) filter (where pillar = 'workforce') as components_scored_count,
        sum(weight * sub_score) filter (where pillar = 'workforce')
        / nullif(sum(weight) filter (where pillar = 'workforce' and sub_score is not null), 0) as workforce_value,
        max(sub_score) filter (where pillar = 'practice') as practice_score,
        max(practice_quarter) filter (where pillar = 'practice') as practice_quarter,
        max(practice_agencies_count) filter (where pillar = 'practice') as practice_agencies_count
    from components
    group by level, entity_id, entity_name, region_id, agency_id, quarter, quarter_ordinal
),

pillars as (
    select
        p.*,
        coalesce(h.peer_headcount_count = 0, false) as no_peer_workforce,
        case when not coalesce(h.peer_headcount_count = 0, false) then p.workforce_value end as workforce_score,
        w.workforce_weight,
        w.practice_weight
    from pivoted as p
    left join headcounts as h on h.level = p.level and h.entity_id = p.entity_id and h.quarter = p.quarter
    cross join pillar_weights as w
),

indexed as (
    select
        *,
        case
            when no_peer_workforce then null
            else (
                coalesce(workforce_weight * workforce_score, 0) + coalesce(practice_weight * practice_score, 0)
            ) / nullif(
                case when workforce_score is not null then workforce_weight else 0 end
                + case when practice_score is not null then practice_weight else 0 end,
                0
            )
        end as index_score,
        case
            when no_peer_workforce then null
            when workforce_score is not null and practice_score is not null then 'workforce and practice'
            when workforce_score is not null then 'workforce only'
            when practice_score is not null then 'practice only'
        end as index_basis
    from pillars
),

staged as (
    select
        i.*,
        case
            when i.no_peer_workforce then 0
            when i.index_score is null then null
            when i.index_score >= t.integrated_from then 3
            when i.index_score >= t.developing_from then 2
            else 1
        end as stage_order
    from indexed as i
    cross join stage_thresholds as t
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
        case stage_order
            when 0 then 'No peer workforce'
            when 1 then 'Emerging'
            when 2 then 'Developing'
            when 3 then 'Integrated'
        end as stage,
        stage_order,
        workforce_score,
        practice_score,
        practice_quarter,
        practice_agencies_count,
        index_basis,
        components_scored_count,
        peer_to_clinician_ratio_value,
        peer_to_clinician_ratio_target,
        peer_to_clinician_ratio_score,
        pct_certified_value,
        pct_certified_target,
        pct_certified_score,
        supervision_coverage_value,
        supervision_coverage_target,
        supervision_coverage_score,
        retention_12m_value,
        retention_12m_target,
        retention_12m_score,
        billing_sustainability_value,
        billing_sustainability_target,
        billing_sustainability_score
    from staged
)

select * from final
