-- kpi_funding_mix: peer FTE by primary funding source (headcount report's primary_funding) per quarter at
-- agency, region and state level, with each source's share of the entity's peer FTE.
create or replace view kpi_funding_mix as
with peer_rows as (
    select
        agency_id,
        region_id,
        quarter,
        primary_funding,
        fte,
        headcount
    from stg_headcount
    where is_peer
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        primary_funding,
        sum(fte) as peer_fte,
        cast(sum(headcount) as bigint) as peer_headcount_count
    from peer_rows
    group by grouping sets (
        (region_id, agency_id, quarter, primary_funding),
        (region_id, quarter, primary_funding),
        (quarter, primary_funding)
    )
),

final as (
    select
        level,
        entity_of(level, agency_id, region_id) as entity_id,
        region_id,
        agency_id,
        quarter,
        primary_funding,
        peer_fte,
        peer_headcount_count,
        100.0 * peer_fte / nullif(sum(peer_fte) over (partition by level, entity_of(level, agency_id, region_id),
                                                          quarter), 0) as share_of_peer_fte_pct
    from by_level
    where not (level = 'region' and region_id is null)
)

select * from final
