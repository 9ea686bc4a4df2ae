-- kpi_certification_status: certification status mix of peer workers (peer roles only) per quarter at
-- agency, region and state level, by role and for all peer roles together (role = 'ALL').
create or replace view kpi_certification_status as
with peers as (
    select
        agency_id,
        region_id,
        quarter,
        role,
        status,
        peer_id
    from stg_certification
    where is_peer
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        case when grouping(role) = 1 then 'ALL' else role end as role,
        status,
        count(*) as peer_count
    from peers
    group by grouping sets (
        (region_id, agency_id, quarter, role, status),
        (region_id, agency_id, quarter, status),
        (region_id, quarter, role, status),
        (region_id, quarter, status),
        (quarter, role, status),
        (quarter, status)
    )
),

with_entity as (
    select
        level,
        entity_of(level, agency_id, region_id) as entity_id,
        region_id,
        agency_id,
        quarter,
        role,
        status,
        peer_count
    from by_level
    where not (level = 'region' and region_id is null)
),

final as (
    select
        *,
        100.0 * peer_count / sum(peer_count) over (partition by level, entity_id, quarter, role) as status_share_pct
    from with_entity
)

select * from final
