-- kpi_practice_domains: the practices self-assessment per level x entity x assessment quarter x domain
-- (domain 'ALL' = every item: the practice pillar). Quarters are those in which some agency assessed;
-- each agency counts with its latest assessment in the quarter or the one before (the index's window),
-- only the items in scope for it. Regions and the state pool their agencies' item rows (ratio of sums).
--   leadership_rating, peers_rating: weighted (item weight) mean ratings 0-4; peers over the items with a
--     peer rating (null when none);
--   combined_score: 100 / 4 x the weighted mean item rating (leadership and peers averaged where both
--     exist), 0-100, as the practice pillar;
--   peer_voice_gap: leadership minus peers, rating points, over the items rated by both (1.5 or more on a
--     domain is worth a look);
--   peer_respondents_count: per agency the most peer respondents on any of its items, summed.
create or replace view kpi_practice_domains as
with domain_labels as (
    select *
    from (
        values
            ('ALL', 'All practices', 0),
            ('LEADERSHIP', 'Leadership', 1),
            ('POLICY', 'Policy', 2),
            ('STAFF_BUY_IN', 'Staff buy-in', 3),
            ('ROLE_CLARITY', 'Role clarity', 4),
            ('RECRUITMENT_HIRING', 'Recruitment and hiring', 5),
            ('TRAINING', 'Training', 6),
            ('SUPERVISION', 'Supervision', 7),
            ('RETENTION_CAREER', 'Retention and career', 8),
            ('CULTURE_INCLUSION', 'Culture and inclusion', 9),
            ('FAMILY_YOUTH', 'Family and youth', 10)
    ) as v (domain, domain_label, domain_order)
),

assessments as (
    select distinct agency_id, region_id, quarter, quarter_ordinal
    from stg_practices
    where quarter_ordinal is not null
),

assessment_quarters as (
    select distinct quarter, quarter_ordinal
    from assessments
),

latest_in_window as (
    select
        q.quarter,
        q.quarter_ordinal,
        a.agency_id,
        a.region_id,
        max(a.quarter_ordinal) as practice_ordinal
    from assessment_quarters as q
    inner join assessments as a
        on a.quarter_ordinal between q.quarter_ordinal - 1 and q.quarter_ordinal
    group by q.quarter, q.quarter_ordinal, a.agency_id, a.region_id
),

items as (
    select
        w.quarter,
        w.quarter_ordinal,
        w.agency_id,
        w.region_id,
        p.domain,
        p.weight,
        p.rating_leadership,
        p.rating_peers,
        p.item_score,
        p.peer_respondents_count
    from latest_in_window as w
    inner join stg_practices as p
        on p.agency_id = w.agency_id and p.quarter_ordinal = w.practice_ordinal and p.in_scope
),

items_by_domain as (
    select * from items
    union all
    select * replace ('ALL' as domain) from items
),

agency_sums as (
    select
        quarter,
        quarter_ordinal,
        agency_id,
        region_id,
        domain,
        count(*) as items_count,
        sum(weight) as weight_sum,
        sum(weight * rating_leadership) as leadership_sum,
        sum(weight) filter (where rating_peers is not null) as peer_weight_sum,
        sum(weight * rating_peers) as peers_sum,
        sum(weight * rating_leadership) filter (where rating_peers is not null) as paired_leadership_sum,
        sum(weight * item_score) as item_score_sum,
        max(peer_respondents_count) as peer_respondents_count,
        count(rating_peers) > 0 as has_peer_rating
    from items_by_domain
    group by quarter, quarter_ordinal, agency_id, region_id, domain
),

by_level as (
    select
        level_of(grouping(agency_id), grouping(region_id)) as level,
        region_id,
        agency_id,
        quarter,
        quarter_ordinal,
        domain,
        count(*) as agencies_assessed_count,
        cast(sum(items_count) as bigint) as items_count,
        sum(weight_sum) as weight_sum,
        sum(leadership_sum) as leadership_sum,
        sum(peer_weight_sum) as peer_weight_sum,
        sum(peers_sum) as peers_sum,
        sum(paired_leadership_sum) as paired_leadership_sum,
        sum(item_score_sum) as item_score_sum,
        cast(sum(peer_respondents_count) as bigint) as peer_respondents_count,
        count(*) filter (where has_peer_rating) as agencies_with_peer_rating_count
    from agency_sums
    group by grouping sets (
        (region_id, agency_id, quarter, quarter_ordinal, domain),
        (region_id, quarter, quarter_ordinal, domain),
        (quarter, quarter_ordinal, domain)
    )
),

final as (
    select
        b.level,
        entity_of(b.level, b.agency_id, b.region_id) as entity_id,
        e.entity_name,
        b.region_id,
        b.agency_id,
        b.quarter,
        b.quarter_ordinal,
        b.domain,
        d.domain_label,
        d.domain_order,
        b.agencies_assessed_count,
        b.items_count,
        b.leadership_sum / nullif(b.weight_sum, 0) as leadership_rating,
        b.peers_sum / nullif(b.peer_weight_sum, 0) as peers_rating,
        100.0 / 4 * b.item_score_sum / nullif(b.weight_sum, 0) as combined_score,
        (b.paired_leadership_sum - b.peers_sum) / nullif(b.peer_weight_sum, 0) as peer_voice_gap,
        b.peer_respondents_count,
        b.agencies_with_peer_rating_count
    from by_level as b
    left join domain_labels as d on d.domain = b.domain
    left join dim_entity as e on e.level = b.level and e.entity_id = entity_of(b.level, b.agency_id, b.region_id)
    where not (b.level = 'region' and b.region_id is null)
)

select * from final
