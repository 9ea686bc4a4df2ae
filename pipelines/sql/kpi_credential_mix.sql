-- kpi_credential_mix: peer workers by credential (credential_code, NONE for not yet credentialed) per
-- quarter at agency, region and state level, with each credential's share of the entity's peers.
create or replace view kpi_credential_mix as
with peers as (
    select
        agency_id,
        region_id,
        quarter,
        credential_code,
        status
    from stg_certification
    where is_peer
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        credential_code,
        count(*) as peer_count,
        count(*) filter (where status = 'CERTIFIED_ACTIVE') as certified_active_count
    from peers
    group by grouping sets (
        (region_id, agency_id, quarter, credential_code),
        (region_id, quarter, credential_code),
        (quarter, credential_code)
    )
),

final as (
    select
        b.level,
        entity_of(b.level, b.agency_id, b.region_id) as entity_id,
        b.region_id,
        b.agency_id,
        b.quarter,
        b.credential_code,
        coalesce(cr.title, 'No credential yet') as credential_title,
        b.peer_count,
        b.certified_active_count,
        100.0 * b.peer_count / sum(b.peer_count) over (
            partition by b.level, entity_of(b.level, b.agency_id, b.region_id), b.quarter
        ) as share_pct
    from by_level as b
    left join credentials as cr on cr.credential_code = b.credential_code
    where not (b.level = 'region' and b.region_id is null)
)

select * from final
