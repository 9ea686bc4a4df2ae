-- dim_quarter: every quarter present in a fact table or an accepted submission, with its dates and an
-- ordinal (year * 4 + quarter - 1) so that "the 3 preceding quarters" is plain arithmetic.
create or replace view dim_quarter as
with reported as (
    select quarter from headcount
    union
    select quarter from certification
    union
    select quarter from billing
    union
    select quarter from retention
    union
    select quarter from practices
    union
    select quarter from submissions where status = 'accepted'
),

parsed as (
    select
        quarter,
        cast(substr(quarter, 1, 4) as integer) as year,
        cast(substr(quarter, 7, 1) as integer) as quarter_number
    from reported
    where regexp_full_match(quarter, '[0-9]{4}-Q[1-4]')
),

final as (
    select
        quarter,
        year,
        quarter_number,
        make_date(year, 3 * quarter_number - 2, 1) as quarter_start,
        cast(make_date(year, 3 * quarter_number - 2, 1) + interval 3 month - interval 1 day as date) as quarter_end,
        year * 4 + quarter_number - 1 as quarter_ordinal
    from parsed
)

select * from final
