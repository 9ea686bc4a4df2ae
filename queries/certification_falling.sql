-- title: Agencies whose certification rate fell two quarters running
-- description: Share of peers CERTIFIED_ACTIVE per agency, for agencies where it dropped in each of the last two quarters they reported (latest quarter first).
with rates as (
    select agency_id, agency_name, region_id, quarter, quarter_ordinal, certified_pct,
           lag(certified_pct, 1) over w as previous_pct,
           lag(certified_pct, 2) over w as two_before_pct
    from kpi_agency_quarter
    where certified_pct is not null
    window w as (partition by agency_id order by quarter_ordinal)
),

final as (
    select agency_id, agency_name, region_id, quarter,
           round(two_before_pct, 1) as two_quarters_before_pct,
           round(previous_pct, 1) as previous_quarter_pct,
           round(certified_pct, 1) as certified_pct,
           round(certified_pct - two_before_pct, 1) as change_pct_points
    from rates
    where certified_pct < previous_pct and previous_pct < two_before_pct
)

select * from final order by quarter desc, change_pct_points
