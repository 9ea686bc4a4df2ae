-- int_agency_quarter: additive measures per agency x quarter from the four reports (the base of every
-- agency / region / state KPI). Headcount and certification measures are null when the agency has not
-- reported that report for the quarter (no rows and no accepted header-only submission); billing and
-- retention measures are 0 when there are no rows (nothing billed, no employment events).
create or replace view int_agency_quarter as
with current_submissions as (
    select
        agency_id,
        quarter,
        bool_or(report = 'headcount') as headcount_submitted,
        bool_or(report = 'certification') as certification_submitted,
        bool_or(report = 'billing') as billing_submitted,
        bool_or(report = 'retention') as retention_submitted
    from submissions
    where status = 'accepted' and superseded_by is null and agency_id is not null and quarter is not null
    group by agency_id, quarter
),

headcount_by_agency as (
    select
        h.agency_id,
        h.quarter,
        sum(h.headcount) filter (where h.is_peer) as peer_headcount_count,
        sum(h.headcount_fulltime) filter (where h.is_peer) as peer_fulltime_count,
        sum(h.fte) filter (where h.is_peer) as peer_fte,
        sum(h.vacancies) filter (where h.is_peer) as peer_vacancy_count,
        sum(h.headcount) filter (where h.role = 'PEER_SUPERVISOR') as supervisor_headcount_count,
        sum(h.trained_peer_supervisors) filter (where h.role = 'PEER_SUPERVISOR') as trained_supervisor_count,
        sum(h.headcount) filter (where h.role = 'CLINICAL_LICENSED') as clinician_headcount_count,
        sum(h.fte) filter (where h.role = 'CLINICAL_LICENSED') as clinician_fte
    from stg_headcount as h
    group by h.agency_id, h.quarter
),

certification_by_agency as (
    select
        c.agency_id,
        c.quarter,
        count(distinct c.peer_id) as cert_peer_count,
        count(distinct c.peer_id) filter (where c.status = 'CERTIFIED_ACTIVE') as certified_active_count,
        count(distinct c.peer_id) filter (
            where c.status in ('CERTIFIED_ACTIVE', 'PROVISIONAL')
        ) as certified_or_provisional_count
    from stg_certification as c
    where c.is_peer
    group by c.agency_id, c.quarter
),

certification_rows as (
    select distinct agency_id, quarter from certification
),

billing_by_agency as (
    select
        agency_id,
        quarter,
        sum(claims_submitted) as claims_submitted_count,
        sum(claims_paid) as claims_paid_count,
        sum(claims_denied) as claims_denied_count,
        sum(units_billed) as units_billed_count,
        sum(units_paid) as units_paid_count,
        sum(units_denied) as units_denied_count,
        sum(units_billed) filter (where upper(trim(coalesce(modifier, ''))) = 'HQ') as group_units_billed_count,
        sum(amount_billed) as amount_billed_usd,
        sum(amount_paid) as amount_paid_usd,
        sum(unique_beneficiaries) as beneficiaries_count
    from billing
    group by agency_id, quarter
),

retention_by_agency as (
    select
        agency_id,
        quarter,
        count(*) filter (where event = 'HIRE') as hires_count,
        count(*) filter (where event = 'SEPARATION') as separations_count,
        count(*) filter (where event = 'SEPARATION' and separation_type = 'VOLUNTARY') as voluntary_separations_count
    from retention
    group by agency_id, quarter
),

spine as (
    select agency_id, quarter from headcount
    union
    select agency_id, quarter from certification
    union
    select agency_id, quarter from billing
    union
    select agency_id, quarter from retention
    union
    select agency_id, quarter from current_submissions
),

joined as (
    select
        s.agency_id,
        s.quarter,
        q.quarter_ordinal,
        q.quarter_start,
        q.quarter_end,
        a.agency_name,
        a.region_id,
        a.local_authority,
        a.agency_type,
        a.ownership,
        a.medicaid_enrolled,
        a.serves_children,
        (h.agency_id is not null or coalesce(cs.headcount_submitted, false)) as headcount_reported,
        (cr.agency_id is not null or coalesce(cs.certification_submitted, false)) as certification_reported,
        (b.agency_id is not null or coalesce(cs.billing_submitted, false)) as billing_reported,
        (rt.agency_id is not null or coalesce(cs.retention_submitted, false)) as retention_reported,
        h.peer_headcount_count,
        h.peer_fulltime_count,
        h.peer_fte,
        h.peer_vacancy_count,
        h.supervisor_headcount_count,
        h.trained_supervisor_count,
        h.clinician_headcount_count,
        h.clinician_fte,
        c.cert_peer_count,
        c.certified_active_count,
        c.certified_or_provisional_count,
        b.claims_submitted_count,
        b.claims_paid_count,
        b.claims_denied_count,
        b.units_billed_count,
        b.units_paid_count,
        b.units_denied_count,
        b.group_units_billed_count,
        b.amount_billed_usd,
        b.amount_paid_usd,
        b.beneficiaries_count,
        rt.hires_count,
        rt.separations_count,
        rt.voluntary_separations_count
    from spine as s
    inner join dim_quarter as q on q.quarter = s.quarter
    left join stg_agency as a on a.agency_id = s.agency_id
    left join current_submissions as cs on cs.agency_id = s.agency_id and cs.quarter = s.quarter
    left join headcount_by_agency as h on h.agency_id = s.agency_id and h.quarter = s.quarter
    left join certification_rows as cr on cr.agency_id = s.agency_id and cr.quarter = s.quarter
    left join certification_by_agency as c on c.agency_id = s.agency_id and c.quarter = s.quarter
    left join billing_by_agency as b on b.agency_id = s.agency_id and b.quarter = s.quarter
    left join retention_by_agency as rt on rt.agency_id = s.agency_id and rt.quarter = s.quarter
),

final as (
    select
        agency_id,
        quarter,
        quarter_ordinal,
        quarter_start,
        quarter_end,
        agency_name,
        region_id,
        local_authority,
        agency_type,
        ownership,
        medicaid_enrolled,
        serves_children,
        headcount_reported,
        certification_reported,
        billing_reported,
        retention_reported,
        case when headcount_reported then cast(coalesce(peer_headcount_count, 0) as bigint) end
            as peer_headcount_count,
        case when headcount_reported then cast(coalesce(peer_fulltime_count, 0) as bigint) end
            as peer_fulltime_count,
        case when headcount_reported then coalesce(peer_fte, 0) end as peer_fte,
        case when headcount_reported then cast(coalesce(peer_vacancy_count, 0) as bigint) end
            as peer_vacancy_count,
        case when headcount_reported then cast(coalesce(supervisor_headcount_count, 0) as bigint) end
            as supervisor_headcount_count,
        case when headcount_reported then cast(coalesce(trained_supervisor_count, 0) as bigint) end
            as trained_supervisor_count,
        case when headcount_reported then cast(coalesce(clinician_headcount_count, 0) as bigint) end
            as clinician_headcount_count,
        case when headcount_reported then coalesce(clinician_fte, 0) end as clinician_fte,
        case when certification_reported then cast(coalesce(cert_peer_count, 0) as bigint) end
            as cert_peer_count,
        case when certification_reported then cast(coalesce(certified_active_count, 0) as bigint) end
            as certified_active_count,
        case
            when certification_reported then cast(coalesce(certified_or_provisional_count, 0) as bigint)
        end as certified_or_provisional_count,
        cast(coalesce(claims_submitted_count, 0) as bigint) as claims_submitted_count,
        cast(coalesce(claims_paid_count, 0) as bigint) as claims_paid_count,
        cast(coalesce(claims_denied_count, 0) as bigint) as claims_denied_count,
        cast(coalesce(units_billed_count, 0) as bigint) as units_billed_count,
        cast(coalesce(units_paid_count, 0) as bigint) as units_paid_count,
        cast(coalesce(units_denied_count, 0) as bigint) as units_denied_count,
        cast(coalesce(group_units_billed_count, 0) as bigint) as group_units_billed_count,
        coalesce(amount_billed_usd, 0) as amount_billed_usd,
        coalesce(amount_paid_usd, 0) as amount_paid_usd,
        cast(coalesce(beneficiaries_count, 0) as bigint) as beneficiaries_count,
        cast(coalesce(hires_count, 0) as bigint) as hires_count,
        cast(coalesce(separations_count, 0) as bigint) as separations_count,
        cast(coalesce(voluntary_separations_count, 0) as bigint) as voluntary_separations_count
    from joined
)

select * from final
