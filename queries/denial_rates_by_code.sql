-- title: Denial rate by billing code
-- description: Statewide units billed, paid and denied per HCPCS code and modifier in the latest quarter, highest denial rate first.
select hcpcs, coalesce(modifier, '') as modifier, code_description, agencies_count,
       units_billed_count, units_paid_count, units_denied_count,
       round(denial_rate_pct, 1) as denial_rate_pct
from kpi_billing_codes
where level = 'state' and quarter = (select max(quarter) from kpi_billing_codes)
order by denial_rate_pct desc nulls last
