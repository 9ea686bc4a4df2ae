-- kpi_wage_bands: hourly wage bands of peers hired and of peers who separated over the rolling 4 quarters
-- ending with each quarter, per agency, region and state (retention events carry the wage band).
create or replace view kpi_wage_bands as
with bands as (
    select *
    from (
        values ('<15', 1), ('15-17.99', 2), ('18-20.99', 3), ('21-24.99', 4), ('25+', 5)
    ) as v (hourly_wage_band, band_order)
),

events as (
    select
        r.agency_id,
        r.region_id,
        r.quarter_ordinal,
        r.event,
        r.hourly_wage_band
    from stg_retention as r
    where r.quarter_ordinal is not null and r.event in ('HIRE', 'SEPARATION') and r.hourly_wage_band is not null
),

windowed as (
    select q.quarter, e.*
    from dim_quarter as q
    inner join events as e
        on e.quarter_ordinal between q.quarter_ordinal - 3 and q.quarter_ordinal
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        hourly_wage_band,
        count(*) filter (where event = 'HIRE') as hires_count,
        count(*) filter (where event = 'SEPARATION') as separations_count
    from windowed
    group by grouping sets (
        (region_id, agency_id, quarter, hourly_wage_band),
        (region_id, quarter, hourly_wage_band),
        (quarter, hourly_wage_band)
    )
),

final as (
    select
        b.level,
        entity_of(b.level, b.agency_id, b.region_id) as entity_id,
        b.region_id,
        b.agency_id,
        b.quarter,
        b.hourly_wage_band,
        w.band_order,
        b.hires_count,
        b.separations_count,
        100.0 * b.hires_count / nullif(sum(b.hires_count) over entity_quarter, 0) as share_of_hires_pct,
        100.0 * b.separations_count / nullif(sum(b.separations_count) over entity_quarter, 0)
            as share_of_separations_pct
    from by_level as b
    left join bands as w on w.hourly_wage_band = b.hourly_wage_band
    where not (b.level = 'region' and b.region_id is null)
    window entity_quarter as (partition by b.level, b.region_id, b.agency_id, b.quarter)
)

select * from final
