-- stg_practices: the practices self-assessment's current rows with the agency's region, type and
-- serves_children, the quarter's ordinal and end date, and the item's domain, statement and weight joined
-- once. item_score is the item's rating (0-4): leadership and peers averaged where both exist. in_scope
-- marks the items that count for the agency: known, active in the quarter, and applying to it
-- (applies_to SERVES_CHILDREN only where the agency serves children). The action's due quarter gets its
-- ordinal and end date too (it may lie beyond every reported quarter).
create or replace view stg_practices as
with parsed as (
    select
        f.*,
        case
            when regexp_full_match(f.action_due_quarter, '[0-9]{4}-Q[1-4]')
                then cast(substr(f.action_due_quarter, 1, 4) as integer) * 4
                + cast(substr(f.action_due_quarter, 7, 1) as integer) - 1
        end as action_due_ordinal
    from practices as f
),

final as (
    select
        f.* exclude (action_due_ordinal),
        a.region_id,
        a.agency_type,
        a.serves_children,
        q.quarter_ordinal,
        q.quarter_end,
        i.domain,
        i.statement,
        i.weight,
        i.applies_to,
        case
            when f.rating_peers is null then cast(f.rating_leadership as double)
            else (f.rating_leadership + f.rating_peers) / 2.0
        end as item_score,
        coalesce(
            i.weight is not null
            and (i.applies_to = 'ALL' or (i.applies_to = 'SERVES_CHILDREN' and a.serves_children))
            and i.active_from <= q.quarter_end
            and (i.active_to is null or i.active_to >= q.quarter_start),
            false
        ) as in_scope,
        f.action_due_ordinal,
        cast(
            make_date(f.action_due_ordinal // 4, 3 * (f.action_due_ordinal % 4) + 1, 1) + interval 3 month
            - interval 1 day as date
        ) as action_due_end
    from parsed as f
    left join agencies as a on a.agency_id = f.agency_id
    left join dim_quarter as q on q.quarter = f.quarter
    left join integration_practices as i on i.practice_code = f.practice_code
)

select * from final
