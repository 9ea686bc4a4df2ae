-- dim_as_of: the date used as "today" by date rules (warehouse_settings 'as_of' when set, else current_date).
create or replace view dim_as_of as
with setting as (
    select max(try_cast(value as date)) as fixed_date
    from warehouse_settings
    where name = 'as_of'
),

final as (
    select
        coalesce(fixed_date, current_date) as as_of_date,
        fixed_date is not null as is_fixed
    from setting
)

select * from final
