-- title: Turnover by wage band
-- description: Statewide peer hires and separations by hourly wage band over the four quarters ending with the latest one, and separations per hire (above 1 means the band is shrinking).
with latest as (
    select max(quarter) as quarter from kpi_wage_bands
),

final as (
    select w.hourly_wage_band, w.hires_count, w.separations_count,
           round(w.separations_count / nullif(w.hires_count, 0), 2) as separations_per_hire,
           round(w.share_of_separations_pct, 1) as share_of_separations_pct,
           w.quarter as window_ends
    from kpi_wage_bands as w
    join latest using (quarter)
    where w.level = 'state'
    order by w.band_order
)

select * from final
