-- stg_agency: every agency with its region's name (the attributes the other views group and label by).
create or replace view stg_agency as
with final as (
    select
        a.agency_id,
        a.name as agency_name,
        a.region_id,
        r.name as region_name,
        a.local_authority,
        a.agency_type,
        a.ownership,
        a.medicaid_enrolled,
        a.serves_children,
        a.active_from,
        a.active_to
    from agencies as a
    left join regions as r on r.region_id = a.region_id
)

select * from final
