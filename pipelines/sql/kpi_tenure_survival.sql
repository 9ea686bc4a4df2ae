-- kpi_tenure_survival: Kaplan-Meier survival curve of peer tenure (whole months since hire) per agency,
-- region and state. Spells start at a HIRE event (peers hired before the data begins have unknown
-- entry and are left out); they end at the first SEPARATION of the same peer at the same agency on or
-- after the hire date, or are censored at the end of the agency's latest reported quarter.
-- still_employed_pct at month m = share still employed after m completed months;
-- median_tenure_months = first month at which it is 50% or less (null while above 50%).
create or replace view kpi_tenure_survival as
with hires as (
    select distinct agency_id, region_id, peer_id, hire_date
    from stg_retention
    where event = 'HIRE' and hire_date is not null
),

separations as (
    select agency_id, peer_id, event_date
    from retention
    where event = 'SEPARATION'
),

agency_last_quarter as (
    select agency_id, max(quarter_end) as last_quarter_end
    from int_agency_quarter
    group by agency_id
),

spells as (
    select
        h.agency_id,
        h.region_id,
        h.hire_date,
        min(s.event_date) as separation_date,
        any_value(l.last_quarter_end) as censor_date
    from hires as h
    left join separations as s
        on s.agency_id = h.agency_id and s.peer_id = h.peer_id and s.event_date >= h.hire_date
    left join agency_last_quarter as l on l.agency_id = h.agency_id
    group by h.agency_id, h.region_id, h.peer_id, h.hire_date
),

durations as (
    select
        agency_id,
        region_id,
        separation_date is not null as separated,
        greatest(0, date_sub('month', hire_date, coalesce(separation_date, censor_date, hire_date))) as tenure_months
    from spells
),

spell_levels as (
    select 'agency' as level, agency_id as entity_id, region_id, agency_id, separated, tenure_months
    from durations
    union all
    select 'region' as level, region_id as entity_id, region_id, cast(null as varchar), separated, tenure_months
    from durations
    where region_id is not null
    union all
    select 'state' as level, 'STATE' as entity_id, cast(null as varchar), cast(null as varchar), separated,
        tenure_months
    from durations
),

entities as (
    select
        level,
        entity_id,
        any_value(region_id) as region_id,
        any_value(agency_id) as agency_id,
        count(*) as spells_count,
        max(tenure_months) as max_tenure_months
    from spell_levels
    group by level, entity_id
),

grid as (
    select level, entity_id, region_id, agency_id, spells_count, unnest(range(0, max_tenure_months + 2)) as tenure_month
    from entities
),

ended as (
    -- spells by the month they ended (separated or censored): the curve needs only these counts per month
    select
        level,
        entity_id,
        tenure_months,
        count(*) as ended_count,
        count(*) filter (where separated) as separations_count,
        count(*) filter (where not separated) as censored_count
    from spell_levels
    group by level, entity_id, tenure_months
),

counted as (
    -- at risk at month m: spells that lasted m months or more, the sum of those ending at m or later
    select
        g.level,
        g.entity_id,
        g.region_id,
        g.agency_id,
        g.spells_count,
        g.tenure_month,
        cast(sum(coalesce(e.ended_count, 0)) over (
            partition by g.level, g.entity_id
            order by g.tenure_month desc
            rows between unbounded preceding and current row
        ) as bigint) as at_risk_count,
        coalesce(e.separations_count, 0) as separations_count,
        coalesce(e.censored_count, 0) as censored_count
    from grid as g
    left join ended as e
        on e.level = g.level and e.entity_id = g.entity_id and e.tenure_months = g.tenure_month
),

survival as (
    select
        *,
        100.0 * coalesce(
            product(coalesce(1.0 - separations_count / nullif(at_risk_count, 0), 1.0)) over (
                partition by level, entity_id
                order by tenure_month
                rows between unbounded preceding and 1 preceding
            ),
            1.0
        ) as still_employed_pct
    from counted
),

final as (
    select
        level,
        entity_id,
        region_id,
        agency_id,
        spells_count,
        tenure_month,
        at_risk_count,
        separations_count,
        censored_count,
        still_employed_pct,
        min(tenure_month) filter (where still_employed_pct <= 50.0 + 1e-9)
            over (partition by level, entity_id) as median_tenure_months
    from survival
)

select * from final
