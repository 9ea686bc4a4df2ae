"""Submission compliance: for every active agency, quarter and report, was it filed on time?

A report is due `submission_due_days` (policy table, default 30) days after its quarter ends. The quarterly
reports are due every quarter; a report listed in DUE_QUARTERS only in the quarters of the year its policy
setting names (the practices self-assessment: `practices_due_quarters`, default "Q2 Q4"), and the grid has
no cell for it in other quarters. States:
- on time: the first accepted submission arrived on or before the due date (a later replacement
  is a correction and keeps it on time);
- late: the first accepted submission arrived after the due date;
- rejected: only rejected uploads so far;
- missing: nothing uploaded and the due date has passed (relative to the as-of date, dim_as_of);
- not due: nothing uploaded yet, and the due date is still ahead.
"""

from __future__ import annotations

import re

from pipelines.contracts import REPORTS

STATES = ("on time", "late", "rejected", "missing", "not due")
DEFAULT_DUE_DAYS = 30
DUE_QUARTERS = {"practices": ("practices_due_quarters", "Q2 Q4")}
"""Reports not due every quarter: report -> (policy setting naming the quarters of the year, default)."""


def due_quarters(value: str | None, report: str = "practices") -> list[str]:
    """The quarters of the year ('Q2', 'Q4') a policy value names (space, comma or semicolon separated)."""
    text = value if value and value.strip() else DUE_QUARTERS[report][1]
    return [q for q in re.split(r"[\s,;]+", text.strip().upper()) if q]


def _schedules() -> str:
    """(report, due_quarters list) for the reports of DUE_QUARTERS, from the policy table or the default."""
    rows = [f"""select '{report}' as report, regexp_split_to_array(upper(trim(coalesce(
                (select max(value) from policy where setting = '{setting}' and trim(value) <> ''), '{default}'))),
                '[\\s,;]+') as due_quarters""" for report, (setting, default) in DUE_QUARTERS.items()]
    return "\n    union all ".join(rows)


def grid_sql(agency_condition: str = "true") -> str:
    """One row per (agency, quarter, report) for quarters between ? and ?, agencies matching the condition
    (written over agencies' columns, e.g. "region_id = ?"; its parameters follow the two quarters)."""
    reports = ", ".join(f"'{r}'" for r in REPORTS)
    return f"""
with policy_days as (
    select coalesce(max(try_cast(value as integer)), {DEFAULT_DUE_DAYS}) as due_days
    from policy where setting = 'submission_due_days'
),
quarters as (
    select q.quarter, q.quarter_ordinal, q.quarter_start, q.quarter_end,
           cast(q.quarter_end + p.due_days as date) as due_date
    from dim_quarter q, policy_days p
    where q.quarter between ? and ?
),
active as (
    select a.agency_id, a.name as agency_name, a.region_id, a.agency_type, a.contact_email, q.*
    from agencies a join quarters q
      on a.active_from <= q.quarter_end and (a.active_to is null or a.active_to >= q.quarter_start)
    where {agency_condition}
),
filed as (
    select agency_id, quarter, report,
           min(submitted_at) filter (where status = 'accepted') as first_accepted_at,
           max(submission_id) filter (where status = 'accepted' and superseded_by is null) as current_id,
           max(submission_id) filter (where status = 'rejected') as last_rejected_id,
           count(*) filter (where status = 'rejected') as rejected_uploads,
           count(*) as uploads
    from submissions
    group by agency_id, quarter, report
),
schedules as (
    {_schedules()}
)
select a.agency_id, a.agency_name, a.region_id, a.agency_type, a.contact_email, a.quarter, a.quarter_ordinal,
       r.report, a.due_date,
       case when f.current_id is not null and f.first_accepted_at < a.due_date + interval 1 day then 'on time'
            when f.current_id is not null then 'late'
            when f.rejected_uploads > 0 then 'rejected'
            when a.due_date < (select as_of_date from dim_as_of) then 'missing'
            else 'not due' end as state,
       coalesce(f.current_id, f.last_rejected_id) as submission_id,
       f.first_accepted_at,
       coalesce(f.uploads, 0) as uploads
from active a
cross join (select unnest([{reports}]) as report) r
left join filed f on f.agency_id = a.agency_id and f.quarter = a.quarter and f.report = r.report
where not exists (select 1 from schedules s
                  where s.report = r.report and not list_contains(s.due_quarters, 'Q' || right(a.quarter, 1)))
order by a.agency_id, a.quarter_ordinal, list_position([{reports}], r.report)
"""


def outstanding_sql(agency_condition: str = "true") -> str:
    """Agencies with reports missing or rejected (nothing accepted yet), with their contact and what is missing."""
    return f"""
select agency_id, agency_name, region_id, agency_type, contact_email,
       string_agg(quarter || ' ' || report, '; ' order by quarter_ordinal, report) as reports_missing,
       count(*) as reports_missing_count
from ({grid_sql(agency_condition)}) g
where state in ('missing', 'rejected')
group by all
order by reports_missing_count desc, agency_id
"""
