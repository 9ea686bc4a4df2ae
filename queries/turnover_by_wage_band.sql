-- title: Turnover by wage band
-- description: Statewide peer hires and separations by hourly wage band over every quarter loaded, and separations per hire (above 1 means the band is shrinking).
with bands as (
    select hourly_wage_band, any_value(band_order) as band_order,
           sum(hires_count) as hires_count,
           sum(separations_count) as separations_count
    from kpi_wage_bands
    where level = 'state'
    group by hourly_wage_band
),

final as (
    select hourly_wage_band, hires_count, separations_count,
           round(separations_count / nullif(hires_count, 0), 2) as separations_per_hire,
           round(100.0 * separations_count / sum(separations_count) over (), 1) as share_of_separations_pct
    from bands
    order by band_order
)

select * from final
