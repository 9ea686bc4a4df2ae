-- kpi_stage_transitions: agencies moving between integration stages, per level x entity x quarter x
-- from_stage x to_stage: each agency's stage in the quarter against its stage 4 quarters earlier (both must
-- exist). direction is 'up', 'down' or 'same' by stage order (No peer workforce 0 < Emerging < Developing
-- < Integrated). Agency rows carry the agency's own transition (agencies_count 1).
create or replace view kpi_stage_transitions as
with agency_stages as (
    select agency_id, region_id, quarter, quarter_ordinal, stage, stage_order
    from kpi_integration_index
    where level = 'agency' and stage is not null
),

transitions as (
    select
        n.agency_id,
        n.region_id,
        n.quarter,
        n.quarter_ordinal,
        p.quarter as from_quarter,
        p.stage as from_stage,
        p.stage_order as from_stage_order,
        n.stage as to_stage,
        n.stage_order as to_stage_order
    from agency_stages as n
    inner join agency_stages as p on p.agency_id = n.agency_id and p.quarter_ordinal = n.quarter_ordinal - 4
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        from_quarter,
        from_stage,
        from_stage_order,
        to_stage,
        to_stage_order,
        count(*) as agencies_count
    from transitions
    group by grouping sets (
        (region_id, agency_id, quarter, quarter_ordinal, from_quarter, from_stage, from_stage_order, to_stage,
         to_stage_order),
        (region_id, quarter, quarter_ordinal, from_quarter, from_stage, from_stage_order, to_stage, to_stage_order),
        (quarter, quarter_ordinal, from_quarter, from_stage, from_stage_order, to_stage, to_stage_order)
    )
),

final as (
    select
        b.level,
        entity_of(b.level, b.agency_id, b.region_id) as entity_id,
        e.entity_name,
        b.region_id,
        b.agency_id,
        b.quarter,
        b.quarter_ordinal,
        b.from_quarter,
        b.from_stage,
        b.from_stage_order,
        b.to_stage,
        b.to_stage_order,
        case
            when b.to_stage_order > b.from_stage_order then 'up'
            when b.to_stage_order < b.from_stage_order then 'down'
            else 'same'
        end as direction,
        b.agencies_count
    from by_level as b
    left join dim_entity as e on e.level = b.level and e.entity_id = entity_of(b.level, b.agency_id, b.region_id)
    where not (b.level = 'region' and b.region_id is null)
)

select * from final
