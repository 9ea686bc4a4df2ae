-- dim_entity: every agency, region and the state as (level, entity_id), with name and population.
create or replace view dim_entity as
with agency_entities as (
    select
        'agency' as level,
        agency_id as entity_id,
        name as entity_name,
        region_id,
        agency_id,
        cast(null as bigint) as population
    from agencies
),

region_entities as (
    select
        'region' as level,
        region_id as entity_id,
        name as entity_name,
        region_id,
        cast(null as varchar) as agency_id,
        population
    from regions
),

state_entity as (
    select
        'state' as level,
        'STATE' as entity_id,
        'Statewide' as entity_name,
        cast(null as varchar) as region_id,
        cast(null as varchar) as agency_id,
        cast(sum(population) as bigint) as population
    from regions
),

final as (
    select * from agency_entities
    union all
    select * from region_entities
    union all
    select * from state_entity
)

select * from final
