-- kpi_turnover: annualized peer turnover over a rolling window of the current and 3 preceding quarters,
-- per agency, region and state. Only quarters in the window with a headcount report count (for both
-- the separations and the average headcount):
--   annualized_turnover_pct = 100 * separations / average peer headcount * 4 / quarters in window.
create or replace view kpi_turnover as
with agency_quarter as (
    select
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        peer_headcount_count,
        case when headcount_reported then separations_count end as separations_count
    from int_agency_quarter
),

level_quarter as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        cast(sum(peer_headcount_count) as bigint) as peer_headcount_count,
        cast(sum(separations_count) as bigint) as separations_count
    from agency_quarter
    group by grouping sets (
        (region_id, agency_id, quarter, quarter_ordinal),
        (region_id, quarter, quarter_ordinal),
        (quarter, quarter_ordinal)
    )
),

with_entity as (
    select
        level,
        entity_of(level, agency_id, region_id) as entity_id,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        peer_headcount_count,
        separations_count
    from level_quarter
    where not (level = 'region' and region_id is null)
),

windowed as (
    select
        *,
        count(peer_headcount_count) over rolling as window_quarters_count,
        cast(sum(separations_count) over rolling as bigint) as window_separations_count,
        avg(peer_headcount_count) over rolling as window_avg_peer_headcount
    from with_entity
    window rolling as (
        partition by level, entity_id
        order by quarter_ordinal
        range between 3 preceding and current row
    )
),

final as (
    select
        level,
        entity_id,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        peer_headcount_count,
        separations_count,
        window_quarters_count,
        window_separations_count,
        window_avg_peer_headcount,
        100.0 * window_separations_count / nullif(window_avg_peer_headcount, 0)
            * 4 / nullif(window_quarters_count, 0) as annualized_turnover_pct
    from windowed
)

select * from final
