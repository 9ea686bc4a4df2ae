-- title: Overdue integration actions and their owners
-- description: Actions from each agency's latest practices self-assessment that are past their due quarter and not done, most overdue first, with the practice, its domain and who owns the action.
select agency_id, agency_name, region_id, practice_code, domain, action_status, action_owner,
       action_due_quarter, quarters_overdue, quarter as assessed_in
from kpi_action_plans
where is_latest and is_overdue
order by quarters_overdue desc, agency_id, practice_code
