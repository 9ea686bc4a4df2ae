-- kpi_integration_components: the integration index's components per level x entity x quarter, one row
-- each. The five workforce components (pillar 'workforce') are scored on the state's scale from targets
-- (score_of: 0 at or beyond the floor, the target score at the target, 100 at or beyond the stretch,
-- linear between, mirrored when lower is better). Supervision coverage scores 0 where there are peers
-- but no trained supervisor and is not applicable (null) without peers. A component without a value, or
-- without a target row, has a null sub-score. One more row per entity x quarter, component 'practice'
-- (pillar 'practice'), carries the practice pillar: 100 / 4 x the weighted mean of the in-scope item
-- ratings (leadership and peers averaged where both exist) of each agency's latest assessment in the
-- quarter or the one before; regions and the state pool their agencies' item rows (ratio of sums).
-- band: red / amber / green against the row's floor and target (band_of). practice_quarter names the
-- assessment used (a place's latest) and practice_agencies_count the agencies assessed.
create or replace view kpi_integration_components as
with workforce_targets as (
    select *
    from targets
    where pillar = 'workforce'
),

practice_target as (
    select *
    from targets
    where pillar = 'index' and component = 'practice'
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

workforce_values as (
    select
        s.level,
        s.entity_id,
        s.entity_name,
        s.region_id,
        s.agency_id,
        s.quarter,
        s.quarter_ordinal,
        v.component,
        v.component_order,
        v.default_label,
        v.default_direction,
        v.component_value,
        v.scores_zero
    from scorecard as s
    cross join lateral (
        values
            ('peer_to_clinician_ratio', 1, 'Peer-to-clinician ratio', 'higher', s.peer_to_clinician_ratio, false),
            ('pct_certified', 2, '% certified', 'higher', s.certified_pct, false),
            (
                'supervision_coverage', 3, 'Peers per trained supervisor', 'lower',
                case when s.peer_headcount_count > 0 then s.peers_per_trained_supervisor end,
                coalesce(s.peer_headcount_count > 0 and coalesce(s.trained_supervisor_count, 0) = 0, false)
            ),
            ('retention_12m', 4, '12-month retention', 'higher', s.retention_12m_pct, false),
            ('billing_sustainability', 5, 'Billing sustainability', 'higher', s.billing_sustainability_pct, false)
    ) as v (component, component_order, default_label, default_direction, component_value, scores_zero)
),

workforce_scored as (
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
        'workforce' as pillar,
        coalesce(t.direction, c.default_direction) as direction,
        c.component_value,
        t.floor as floor_value,
        t.target as target_value,
        t.stretch as stretch_value,
        t.weight,
        coalesce(t.contractual, false) as contractual,
        case
            when t.target is null then null
            when c.scores_zero then 0.0
            else score_of(c.component_value, coalesce(t.direction, c.default_direction), t.floor, t.target,
                             t.stretch)
        end as sub_score
    from workforce_values as c
    left join workforce_targets as t on t.component = c.component
),

assessments as (
    select distinct agency_id, region_id, quarter, quarter_ordinal
    from stg_practices
    where quarter_ordinal is not null
),

latest_in_window as (
    select
        q.quarter,
        a.agency_id,
        a.region_id,
        max(a.quarter_ordinal) as practice_ordinal
    from dim_quarter as q
    inner join assessments as a
        on a.quarter_ordinal between q.quarter_ordinal - 1 and q.quarter_ordinal
    group by q.quarter, a.agency_id, a.region_id
),

practice_sums as (
    select
        level_of(grouping(w.agency_id), grouping(w.region_id)) as level,
        w.region_id,
        w.agency_id,
        w.quarter,
        max(p.quarter) as practice_quarter,
        count(distinct w.agency_id) as practice_agencies_count,
        sum(p.weight * p.item_score) as weighted_rating_sum,
        sum(p.weight) as weight_sum
    from latest_in_window as w
    inner join stg_practices as p
        on p.agency_id = w.agency_id and p.quarter_ordinal = w.practice_ordinal and p.in_scope
    group by grouping sets ((w.region_id, w.agency_id, w.quarter), (w.region_id, w.quarter), (w.quarter))
),

practice_scored as (
    select
        s.level,
        s.entity_id,
        s.entity_name,
        s.region_id,
        s.agency_id,
        s.quarter,
        s.quarter_ordinal,
        'practice' as component,
        6 as component_order,
        coalesce(t.label, 'Practice pillar (self-assessment)') as component_label,
        'practice' as pillar,
        coalesce(t.direction, 'higher') as direction,
        100.0 / 4 * p.weighted_rating_sum / nullif(p.weight_sum, 0) as component_value,
        t.floor as floor_value,
        t.target as target_value,
        t.stretch as stretch_value,
        t.weight,
        coalesce(t.contractual, false) as contractual,
        100.0 / 4 * p.weighted_rating_sum / nullif(p.weight_sum, 0) as sub_score,
        p.practice_quarter,
        p.practice_agencies_count
    from scorecard as s
    left join practice_sums as p
        on
            p.level = s.level
            and p.quarter = s.quarter
            and entity_of(p.level, p.agency_id, p.region_id) = s.entity_id
    left join practice_target as t on true
),

unioned as (
    select
        *,
        cast(null as varchar) as practice_quarter,
        cast(null as bigint) as practice_agencies_count
    from workforce_scored
    union all by name
    select *
    from practice_scored
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
        component,
        component_order,
        component_label,
        pillar,
        direction,
        direction = 'higher' as higher_is_better,
        component_value,
        floor_value,
        target_value,
        stretch_value,
        weight,
        contractual,
        sub_score,
        band_of(component_value, direction, floor_value, target_value) as band,
        practice_quarter,
        practice_agencies_count
    from unioned
)

select * from final
