-- stg_billing: the billing report's current rows with the agency's region and type and the quarter's
-- ordinal and end date joined once (null when the agency or the quarter is unknown).
create or replace view stg_billing as
with final as (
    select
        f.*,
        a.region_id,
        a.agency_type,
        q.quarter_ordinal,
        q.quarter_end
    from billing as f
    left join agencies as a on a.agency_id = f.agency_id
    left join dim_quarter as q on q.quarter = f.quarter
)

select * from final
