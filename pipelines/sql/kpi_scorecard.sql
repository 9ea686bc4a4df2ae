-- kpi_scorecard: every quarterly KPI at agency, region and state level in one shape (level x entity x
-- quarter). Region and state values are ratios of sums over agencies, never means of agency ratios.
-- Regions appear for every quarter (null measures when no agency of the region reported).
create or replace view kpi_scorecard as
with sums as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        count(*) as agencies_reporting_count,
        cast(sum(peer_headcount_count) as bigint) as peer_headcount_count,
        cast(sum(peer_fulltime_count) as bigint) as peer_fulltime_count,
        sum(peer_fte) as peer_fte,
        cast(sum(peer_vacancy_count) as bigint) as peer_vacancy_count,
        cast(sum(supervisor_headcount_count) as bigint) as supervisor_headcount_count,
        cast(sum(trained_supervisor_count) as bigint) as trained_supervisor_count,
        cast(sum(clinician_headcount_count) as bigint) as clinician_headcount_count,
        sum(clinician_fte) as clinician_fte,
        cast(sum(cert_peer_count) as bigint) as cert_peer_count,
        cast(sum(certified_active_count) as bigint) as certified_active_count,
        cast(sum(certified_or_provisional_count) as bigint) as certified_or_provisional_count,
        cast(sum(claims_submitted_count) as bigint) as claims_submitted_count,
        cast(sum(claims_paid_count) as bigint) as claims_paid_count,
        cast(sum(claims_denied_count) as bigint) as claims_denied_count,
        cast(sum(units_billed_count) as bigint) as units_billed_count,
        cast(sum(units_paid_count) as bigint) as units_paid_count,
        cast(sum(units_denied_count) as bigint) as units_denied_count,
        cast(sum(group_units_billed_count) as bigint) as group_units_billed_count,
        sum(amount_billed_usd) as amount_billed_usd,
        sum(amount_paid_usd) as amount_paid_usd,
        cast(sum(beneficiaries_count) as bigint) as beneficiaries_count,
        cast(sum(hires_count) as bigint) as hires_count,
        cast(sum(separations_count) as bigint) as separations_count,
        cast(sum(voluntary_separations_count) as bigint) as voluntary_separations_count,
        sum(case when units_billed_count > 0 then peer_fte else 0 end) as billing_peer_fte,
        sum(case when units_paid_count > 0 then peer_fte else 0 end) as paid_peer_fte,
        count(*) filter (where peer_headcount_count > 0) as peer_agencies_count,
        count(*) filter (
            where peer_headcount_count > 0 and units_billed_count = 0
        ) as peer_agencies_billing_nothing_count
    from int_agency_quarter
    group by grouping sets ((region_id, agency_id, quarter), (region_id, quarter), (quarter))
),

sums_by_entity as (
    select
        *,
        entity_of(level, agency_id, region_id) as entity_id
    from sums
),

spine as (
    select distinct 'agency' as level, agency_id as entity_id, region_id, agency_id, quarter
    from int_agency_quarter
    union all
    select 'region' as level, r.region_id as entity_id, r.region_id, cast(null as varchar) as agency_id, q.quarter
    from regions as r
    cross join dim_quarter as q
    union all
    select 'state' as level, 'STATE' as entity_id, cast(null as varchar), cast(null as varchar), quarter
    from dim_quarter
),

joined as (
    select
        sp.level,
        sp.entity_id,
        e.entity_name,
        sp.region_id,
        sp.agency_id,
        sp.quarter,
        q.quarter_ordinal,
        q.quarter_start,
        q.quarter_end,
        e.population as population_count,
        coalesce(s.agencies_reporting_count, 0) as agencies_reporting_count,
        s.* exclude (level, entity_id, region_id, agency_id, quarter, agencies_reporting_count),
        t.window_quarters_count as turnover_window_quarters_count,
        t.window_separations_count as turnover_window_separations_count,
        t.window_avg_peer_headcount as turnover_window_avg_peer_headcount,
        t.annualized_turnover_pct,
        r.cohort_hires_count as retention_cohort_hires_count,
        r.retained_12m_count,
        r.retention_12m_pct
    from spine as sp
    inner join dim_quarter as q on q.quarter = sp.quarter
    left join dim_entity as e on e.level = sp.level and e.entity_id = sp.entity_id
    left join sums_by_entity as s on s.level = sp.level and s.entity_id = sp.entity_id and s.quarter = sp.quarter
    left join kpi_turnover as t on t.level = sp.level and t.entity_id = sp.entity_id and t.quarter = sp.quarter
    left join kpi_retention_12m as r on r.level = sp.level and r.entity_id = sp.entity_id and r.quarter = sp.quarter
),

final as (
    select
        *,
        peer_fte / nullif(population_count, 0) * 100000 as peer_fte_per_100k,
        peer_fte / nullif(clinician_fte, 0) as peer_to_clinician_ratio,
        100.0 * peer_fulltime_count / nullif(peer_headcount_count, 0) as peer_fulltime_pct,
        100.0 * peer_vacancy_count / nullif(peer_headcount_count + peer_vacancy_count, 0) as peer_vacancy_rate_pct,
        peer_headcount_count / nullif(trained_supervisor_count, 0) as peers_per_trained_supervisor,
        100.0 * certified_active_count / nullif(cert_peer_count, 0) as certified_pct,
        100.0 * units_denied_count / nullif(units_paid_count + units_denied_count, 0) as denial_rate_pct,
        100.0 * group_units_billed_count / nullif(units_billed_count, 0) as group_share_pct,
        units_billed_count / nullif(peer_fte, 0) as units_billed_per_peer_fte,
        units_billed_count / nullif(billing_peer_fte, 0) as units_billed_per_billing_peer_fte,
        units_paid_count / nullif(peer_fte, 0) as units_paid_per_peer_fte,
        beneficiaries_count / nullif(peer_fte, 0) as beneficiaries_per_peer_fte,
        amount_paid_usd / nullif(units_paid_count, 0) as paid_per_unit_usd,
        100.0 * peer_agencies_billing_nothing_count / nullif(peer_agencies_count, 0)
            as peer_agencies_billing_nothing_pct,
        100.0 * paid_peer_fte / nullif(peer_fte, 0) as billing_sustainability_pct
    from joined
)

select * from final
