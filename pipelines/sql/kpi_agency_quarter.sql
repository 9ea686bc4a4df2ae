-- kpi_agency_quarter: one row per agency x quarter with every quarterly KPI (see kpi_scorecard) plus the
-- agency's attributes, which reports it filed, and the flags has_peers / bills_nothing.
create or replace view kpi_agency_quarter as
with scorecard as (
    select * exclude (level, entity_id, entity_name, population_count, peer_fte_per_100k)
    from kpi_scorecard
    where level = 'agency'
),

agency_quarter as (
    select
        agency_id,
        quarter,
        agency_name,
        local_authority,
        agency_type,
        ownership,
        medicaid_enrolled,
        serves_children,
        headcount_reported,
        certification_reported,
        billing_reported,
        retention_reported
    from int_agency_quarter
),

final as (
    select
        s.agency_id,
        a.agency_name,
        s.region_id,
        a.local_authority,
        a.agency_type,
        a.ownership,
        a.medicaid_enrolled,
        a.serves_children,
        s.quarter,
        s.quarter_ordinal,
        s.quarter_start,
        s.quarter_end,
        a.headcount_reported,
        a.certification_reported,
        a.billing_reported,
        a.retention_reported,
        coalesce(s.peer_headcount_count > 0, false) as has_peers,
        coalesce(s.peer_headcount_count > 0 and s.units_billed_count = 0, false) as bills_nothing,
        s.* exclude (agency_id, region_id, quarter, quarter_ordinal, quarter_start, quarter_end,
                     agencies_reporting_count, peer_agencies_count, peer_agencies_billing_nothing_count,
                     peer_agencies_billing_nothing_pct)
    from scorecard as s
    inner join agency_quarter as a on a.agency_id = s.agency_id and a.quarter = s.quarter
)

select * from final
