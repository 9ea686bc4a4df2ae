-- kpi_denial_spikes: each agency's denial rate against its previous reported billing quarter. A spike is a
-- denial rate of at least 20% that rose by at least 10 points, on at least 100 adjudicated units (so a
-- handful of denied units at a small agency is not an alarm). Thresholds are the design's assumption,
-- from DOMAIN.md's ranges: 4-15% denied normally, 20-30% for two quarters after a code change.
create or replace view kpi_denial_spikes as
with billed as (
    select
        agency_id,
        agency_name,
        region_id,
        agency_type,
        quarter,
        quarter_ordinal,
        units_paid_count + units_denied_count as adjudicated_units_count,
        denial_rate_pct
    from kpi_agency_quarter
    where units_paid_count + units_denied_count > 0
),

compared as (
    select
        *,
        lag(denial_rate_pct) over (partition by agency_id order by quarter_ordinal) as prior_denial_rate_pct,
        lag(quarter) over (partition by agency_id order by quarter_ordinal) as prior_quarter
    from billed
),

final as (
    select
        *,
        denial_rate_pct - prior_denial_rate_pct as change_pts,
        coalesce(
            denial_rate_pct >= 20
            and denial_rate_pct - prior_denial_rate_pct >= 10
            and adjudicated_units_count >= 100,
            false
        ) as is_spike
    from compared
)

select * from final
