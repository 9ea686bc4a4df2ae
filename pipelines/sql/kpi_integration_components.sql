-- kpi_integration_components: the five integration-index components per level x entity x quarter, one
-- row each, with value, target, weight and sub-score (0-100). Higher-is-better components score
-- min(100, value / target * 100); supervision coverage (peers per trained supervisor, lower is better)
-- scores min(100, target / value * 100), 0 when there are peers but no trained supervisor, and is not
-- applicable (null) without peers. A component whose value or target is missing has a null sub-score.
create or replace view kpi_integration_components as
with targets_by_component as (
    select
        component,
        max(label) as label,
        max(target) as target,
        max(weight) as weight
    from targets
    group by component
),

scorecard as (
    select
        level,
        entity_id,
        entity_name,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        peer_to_clinician_ratio,
        certified_pct,
        peer_headcount_count,
        trained_supervisor_count,
        peers_per_trained_supervisor,
        retention_12m_pct,
        billing_sustainability_pct
    from kpi_scorecard
),

components as (
    select
        * exclude (peer_to_clinician_ratio, certified_pct, peer_headcount_count, trained_supervisor_count,
                   peers_per_trained_supervisor, retention_12m_pct, billing_sustainability_pct),
        'peer_to_clinician_ratio' as component,
        1 as component_order,
        'Peer-to-clinician ratio' as default_label,
        peer_to_clinician_ratio as component_value,
        true as higher_is_better,
        false as scores_zero
    from scorecard
    union all by name
    select
        * exclude (peer_to_clinician_ratio, certified_pct, peer_headcount_count, trained_supervisor_count,
                   peers_per_trained_supervisor, retention_12m_pct, billing_sustainability_pct),
        'pct_certified' as component,
        2 as component_order,
        '% certified' as default_label,
        certified_pct as component_value,
        true as higher_is_better,
        false as scores_zero
    from scorecard
    union all by name
    select
        * exclude (peer_to_clinician_ratio, certified_pct, peer_headcount_count, trained_supervisor_count,
                   peers_per_trained_supervisor, retention_12m_pct, billing_sustainability_pct),
        'supervision_coverage' as component,
        3 as component_order,
        'Peers per trained supervisor' as default_label,
        case when peer_headcount_count > 0 then peers_per_trained_supervisor end as component_value,
        false as higher_is_better,
        coalesce(peer_headcount_count > 0 and coalesce(trained_supervisor_count, 0) = 0, false) as scores_zero
    from scorecard
    union all by name
    select
        * exclude (peer_to_clinician_ratio, certified_pct, peer_headcount_count, trained_supervisor_count,
                   peers_per_trained_supervisor, retention_12m_pct, billing_sustainability_pct),
        'retention_12m' as component,
        4 as component_order,
        '12-month retention' as default_label,
        retention_12m_pct as component_value,
        true as higher_is_better,
        false as scores_zero
    from scorecard
    union all by name
    select
        * exclude (peer_to_clinician_ratio, certified_pct, peer_headcount_count, trained_supervisor_count,
                   peers_per_trained_supervisor, retention_12m_pct, billing_sustainability_pct),
        'billing_sustainability' as component,
        5 as component_order,
        'Billing sustainability' as default_label,
        billing_sustainability_pct as component_value,
        true as higher_is_better,
        false as scores_zero
    from scorecard
),

scored as (
    select
        c.level,
        c.entity_id,
        c.entity_name,
        c.region_id,
        c.agency_id,
        c.quarter,
        c.quarter_ordinal,
        c.component,
        c.component_order,
        coalesce(t.label, c.default_label) as component_label,
        c.higher_is_better,
        c.component_value,
        t.target as target_value,
        t.weight,
        case
            when t.target is null then null
            when c.scores_zero then 0.0
            when c.component_value is null then null
            when c.higher_is_better then least(100.0, 100.0 * c.component_value / nullif(t.target, 0))
            when c.component_value = 0 then 100.0
            else least(100.0, 100.0 * t.target / c.component_value)
        end as sub_score
    from components as c
    left join targets_by_component as t on t.component = c.component
),

final as (
    select * from scored
)

select * from final
