"""Reference and cross-report checks, set-based in DuckDB against what the warehouse already holds.

The uploaded rows are registered as the relation `upload` (typed columns, `__row`, quarter_start,
quarter_end). Each check is one query returning (row, column, value, message) for offending rows.
Only rows of the agencies a run is scoped to reach `upload`, so no check reads another agency's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.contracts import PEER_ROLES, QUARTER_PATTERN, REPORTS
from pipelines.findings import ERROR, WARNING, Finding

PEERS = "(" + ", ".join(f"'{r}'" for r in PEER_ROLES) + ")"
EVERY_REPORT = tuple(REPORTS)


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    reports: tuple[str, ...]
    sql: str
    """Selects row, column, value, message; `$as_of` and `$ceiling` are bound as parameters."""


REFERENCE_CHECKS = [
    Check("unknown-agency", ERROR, EVERY_REPORT, """
        select u.__row, 'agency_id', u.agency_id,
               'Agency ' || u.agency_id || ' is not in the state''s list of agencies. Check the id, or ask the '
               || 'state office to add the agency.'
        from upload u anti join agencies a using (agency_id)
        where u.agency_id is not null"""),
    Check("agency-inactive", ERROR, EVERY_REPORT, """
        select u.__row, 'quarter', u.quarter,
               'Agency ' || u.agency_id || ' was not active in ' || u.quarter || ' (active '
               || strftime(a.active_from, '%Y-%m-%d') || ' to ' || coalesce(strftime(a.active_to, '%Y-%m-%d'), 'now')
               || '). Check the quarter.'
        from upload u join agencies a using (agency_id)
        where u.quarter_start is not null
          and (u.quarter_end < a.active_from or u.quarter_start > a.active_to)"""),
    Check("future-quarter", ERROR, EVERY_REPORT, """
        select u.__row, 'quarter', u.quarter,
               'Quarter ' || u.quarter || ' has not ended yet (as of ' || strftime($as_of, '%Y-%m-%d')
               || '). Report a quarter only after it ends.'
        from upload u where u.quarter_end >= $as_of"""),
    Check("issue-date-in-future", ERROR, ("certification",), """
        select u.__row, 'issue_date', strftime(u.issue_date, '%Y-%m-%d'),
               'The issue date ' || strftime(u.issue_date, '%Y-%m-%d') || ' is after the as-of date ('
               || strftime($as_of, '%Y-%m-%d') || '). A credential cannot be issued in the future: check the year.'
        from upload u where u.issue_date > $as_of"""),
    Check("expiration-too-far", ERROR, ("certification",), """
        select u.__row, 'expiration_date', strftime(u.expiration_date, '%Y-%m-%d'),
               'The expiration date ' || strftime(u.expiration_date, '%Y-%m-%d') || ' is more than 5 years after '
               || 'the as-of date (' || strftime($as_of, '%Y-%m-%d') || '); credentials renew every 2-3 years. '
               || 'Check the year.'
        from upload u where u.expiration_date > $as_of + interval 5 year"""),
    Check("hire-date-in-future", ERROR, ("retention",), """
        select u.__row, 'hire_date', strftime(u.hire_date, '%Y-%m-%d'),
               'The hire date ' || strftime(u.hire_date, '%Y-%m-%d') || ' is after the as-of date ('
               || strftime($as_of, '%Y-%m-%d') || '). Check the year.'
        from upload u where u.hire_date > $as_of"""),
    Check("unknown-credential", ERROR, ("certification",), """
        select u.__row, 'credential_code', u.credential_code,
               'Credential ''' || u.credential_code || ''' is not recognised by the state. Use a code from the '
               || 'credentials list, or NONE.'
        from upload u
        where u.credential_code is not null and u.credential_code <> 'NONE'
          and u.credential_code not in (select credential_code from credentials)"""),
    Check("unknown-billing-code", ERROR, ("billing",), """
        select u.__row, case when k.hcpcs is null then 'hcpcs' else 'modifier' end,
               case when k.hcpcs is null then u.hcpcs else coalesce(u.modifier, '') end,
               case when k.hcpcs is null
                    then 'Billing code ' || u.hcpcs || ' is not a peer service code in the state fee schedule.'
                    else 'Billing code ' || u.hcpcs || coalesce(' with modifier ' || u.modifier, ' (no modifier)')
                         || ' is not in the state fee schedule; ' || u.hcpcs || ' is billed with '
                         || k.modifiers || '.' end
        from upload u
        left join (select hcpcs, string_agg(distinct coalesce('modifier ' || modifier, 'no modifier'), ' or '
                                            order by coalesce('modifier ' || modifier, 'no modifier')) as modifiers
                   from billing_codes group by hcpcs) k on k.hcpcs = u.hcpcs
        where u.hcpcs is not null and not exists (
          select 1 from billing_codes c
          where c.hcpcs = u.hcpcs and coalesce(c.modifier, '') = coalesce(u.modifier, ''))"""),
    Check("billing-code-not-effective", ERROR, ("billing",), """
        select u.__row, 'hcpcs', u.hcpcs || coalesce(' ' || u.modifier, ''),
               'Billing code ' || u.hcpcs || coalesce(' ' || u.modifier, '') || ' was not in effect in '
               || u.quarter || '. Use the code in force that quarter.'
        from upload u
        where u.quarter_start is not null
          and exists (select 1 from billing_codes c
                      where c.hcpcs = u.hcpcs and coalesce(c.modifier, '') = coalesce(u.modifier, ''))
          and not exists (
            select 1 from billing_codes c
            where c.hcpcs = u.hcpcs and coalesce(c.modifier, '') = coalesce(u.modifier, '')
              and c.effective_from <= u.quarter_end
              and (c.effective_to is null or c.effective_to >= u.quarter_start))"""),
    Check("unknown-practice", ERROR, ("practices",), """
        select u.__row, 'practice_code', u.practice_code,
               'Practice ' || u.practice_code || ' is not in the state''s list of integration practices. Use a '
               || 'practice_code from the integration_practices list (see the data dictionary), spelled as there.'
        from upload u
        where u.practice_code is not null
          and u.practice_code not in (select practice_code from integration_practices)"""),
    Check("practice-not-active", ERROR, ("practices",), """
        select u.__row, 'practice_code', u.practice_code,
               'Practice ' || u.practice_code || ' is not part of the ' || u.quarter || ' assessment (asked from '
               || strftime(p.active_from, '%Y-%m-%d') || ' to ' || coalesce(strftime(p.active_to, '%Y-%m-%d'), 'now')
               || '). Remove the row, or check the quarter.'
        from upload u join integration_practices p using (practice_code)
        where u.quarter_start is not null
          and (p.active_from > u.quarter_end or p.active_to < u.quarter_start)"""),
    Check("practice-missing", ERROR, ("practices",), """
        with g as (select distinct agency_id, quarter, quarter_start, quarter_end from upload
                   where quarter_start is not null)
        select null, 'practice_code', p.practice_code,
               'Practice ' || p.practice_code || ' (' || p.statement || ') is missing from the ' || g.quarter
               || ' assessment. Add one row for it: every practice in force is rated, 0 when it is not in place.'
        from g join agencies a using (agency_id)
        join integration_practices p
          on p.active_from <= g.quarter_end and (p.active_to is null or p.active_to >= g.quarter_start)
         and (p.applies_to = 'ALL' or a.serves_children)
        where not exists (select 1 from upload u where u.agency_id = g.agency_id and u.quarter = g.quarter
                                                    and u.practice_code = p.practice_code)"""),
    Check("practice-not-applicable", WARNING, ("practices",), """
        select u.__row, 'practice_code', u.practice_code,
               'Practice ' || u.practice_code || ' applies only to agencies that serve children and families, and '
               || 'agency ' || u.agency_id || ' is not listed as one: the row is accepted but not scored. Remove it, '
               || 'or ask the state office to update the agency''s record if it now serves children.'
        from upload u join agencies a using (agency_id) join integration_practices p using (practice_code)
        where p.applies_to = 'SERVES_CHILDREN' and not a.serves_children"""),
]

_PRIOR_QUARTER = """(case when right(g.quarter, 1) = '1'
    then (try_cast(left(g.quarter, 4) as int) - 1)::varchar || '-Q4'
    else left(g.quarter, 6) || (try_cast(right(g.quarter, 1) as int) - 1)::varchar end)"""
"""The quarter before g.quarter; cross checks read only rows whose quarter is well-formed (`upload_q`), and
try_cast keeps a malformed one from failing the query whatever order DuckDB evaluates the filters in."""

CROSS_CHECKS = [
    Check("headcount-flow-mismatch", WARNING, ("headcount",), f"""
        with g as (
          select agency_id, quarter, min(__row) as first_row,
                 sum(headcount) filter (where role in {PEERS}) as peers
          from upload_q group by all),
        prior as (
          select agency_id, quarter, sum(headcount) as peers from headcount
          where role in {PEERS} group by all),
        flow as (
          select agency_id, quarter, count(*) filter (where event = 'HIRE') as hires,
                 count(*) filter (where event = 'SEPARATION') as separations
          from retention group by all)
        select g.first_row, 'headcount', g.peers,
               'Peer headcount ' || g.peers || ' in ' || g.quarter || ' does not follow from last quarter: '
               || p.peers || ' + ' || f.hires || ' hires - ' || f.separations || ' separations = '
               || (p.peers + f.hires - f.separations) || '. Check the headcount or the retention report.'
        from g
        join prior p on p.agency_id = g.agency_id and p.quarter = {_PRIOR_QUARTER}
        join flow f on f.agency_id = g.agency_id and f.quarter = g.quarter
        where abs(g.peers - (p.peers + f.hires - f.separations)) > greatest(2, 0.1 * g.peers)"""),
    Check("certification-headcount-mismatch", WARNING, ("certification",), f"""
        with g as (
          select agency_id, quarter, min(__row) as first_row, count(distinct peer_id) as peers
          from upload_q where role in {PEERS} group by all),
        h as (
          select agency_id, quarter, sum(headcount) as peers from headcount where role in {PEERS} group by all)
        select g.first_row, 'peer_id', g.peers,
               'The certification report lists ' || g.peers || ' peer workers but the headcount report for '
               || g.quarter || ' has ' || h.peers || '. Every peer worker on staff needs one row.'
        from g join h using (agency_id, quarter)
        where abs(g.peers - h.peers) > greatest(1, 0.1 * h.peers)"""),
    Check("billing-without-certified-peer", ERROR, ("billing",), """
        with g as (
          select agency_id, quarter, min(__row) as first_row, sum(units_billed) as units
          from upload_q group by all having sum(units_billed) > 0),
        c as (
          select agency_id, quarter,
                 count(*) filter (where status in ('CERTIFIED_ACTIVE', 'PROVISIONAL')) as billable
          from certification group by all)
        select g.first_row, 'units_billed', g.units,
               'Medicaid units were billed in ' || g.quarter || ' but the certification report shows no '
               || 'CERTIFIED_ACTIVE or PROVISIONAL peer. The state requires certification to bill peer services.'
        from g join c using (agency_id, quarter) where c.billable = 0"""),
    Check("units-per-fte-high", WARNING, ("billing",), f"""
        with g as (
          select agency_id, quarter, min(__row) as first_row, sum(units_billed) as units
          from upload_q group by all),
        h as (
          select agency_id, quarter, sum(fte) as fte from headcount where role in {PEERS} group by all)
        select g.first_row, 'units_billed', g.units,
               round(g.units / h.fte) || ' units per peer FTE in ' || g.quarter || ' is above '
               || $ceiling || ' (13 weeks x 40 hours x 4 units = 2,080 is the most possible). Check the units '
               || 'or the FTE reported in the headcount report.'
        from g join h using (agency_id, quarter)
        where h.fte > 0 and g.units / h.fte > $ceiling"""),
    Check("family-youth-code-adult-agency", WARNING, ("billing",), """
        select u.__row, 'hcpcs', u.hcpcs || coalesce(' ' || u.modifier, ''),
               'Code ' || u.hcpcs || coalesce(' ' || u.modifier, '') || ' is a ' || c.service_kind
               || ' peer service, but agency ' || u.agency_id || ' is not listed as serving children.'
        from upload_q u join agencies a using (agency_id)
        join billing_codes c on c.hcpcs = u.hcpcs and coalesce(c.modifier, '') = coalesce(u.modifier, '')
        where c.service_kind in ('family', 'youth') and not a.serves_children and u.units_billed > 0"""),
    Check("peer-respondents-exceed-headcount", WARNING, ("practices",), f"""
        with h as (
          select agency_id, quarter, sum(headcount) filter (where role in {PEERS}) as peers from headcount
          group by all)
        select min(u.__row) filter (where u.peer_respondents_count > h.peers), 'peer_respondents_count',
               max(u.peer_respondents_count),
               'Up to ' || max(u.peer_respondents_count) || ' peer staff took part in the peer ratings, but the '
               || 'headcount report for ' || u.quarter || ' lists ' || h.peers || ' peer workers. Check '
               || 'peer_respondents_count (the peer staff who rated, at most those on staff) or the headcount report.'
        from upload_q u join h using (agency_id, quarter)
        where h.peers > 0
        group by u.agency_id, u.quarter, h.peers
        having max(u.peer_respondents_count) > h.peers"""),
    Check("peer-rating-without-peers", ERROR, ("practices",), f"""
        with g as (
          select agency_id, quarter, min(__row) filter (where rating_peers is not null) as first_row,
                 count(*) filter (where rating_peers is not null) as rated
          from upload_q group by all),
        h as (
          select s.agency_id, s.quarter, coalesce(sum(c.headcount) filter (where c.role in {PEERS}), 0) as peers
          from submissions s left join headcount c on c.submission_id = s.submission_id
          where s.report = 'headcount' and s.status = 'accepted' and s.superseded_by is null
          group by all)
        select g.first_row, 'rating_peers', g.rated,
               g.rated || ' practices have a peer rating, but the headcount report for ' || g.quarter
               || ' lists no peer workers. Leave rating_peers empty and peer_respondents_count 0 when no peer '
               || 'staff rated, or correct the headcount report.'
        from g join h using (agency_id, quarter)
        where g.rated > 0 and h.peers = 0"""),
]


def run(con: duckdb.DuckDBPyConnection, upload: pl.DataFrame, kind: str, as_of: dt.date, cap: int, cross: bool,
        agencies: Collection[str] | None = None, billing_requires_certification: bool = True,
        ceiling: float = 1400) -> tuple[list[Finding], dict[str, int]]:
    """Run the reference checks (and the cross-report checks when `cross`) on the uploaded rows.

    `agencies` scopes the run: rows naming any other agency are not checked (None: every agency, for the
    state's own backfills).
    """
    scoped = in_scope(upload, agencies)
    con.register("upload", scoped)
    con.register("upload_q", scoped.filter(pl.col("quarter").str.contains(QUARTER_PATTERN).fill_null(False)))
    try:
        return _run_checks(con, kind, as_of, cap, cross, billing_requires_certification, ceiling)
    finally:
        con.unregister("upload")
        con.unregister("upload_q")


def in_scope(upload: pl.DataFrame, agencies: Collection[str] | None) -> pl.DataFrame:
    """The rows whose agency is in `agencies` (or not filled in: those match no agency's data)."""
    if agencies is None:
        return upload
    return upload.filter(pl.col("agency_id").is_null() | pl.col("agency_id").is_in(list(agencies)))


def _run_checks(con: duckdb.DuckDBPyConnection, kind: str, as_of: dt.date, cap: int, cross: bool,
                billing_requires_certification: bool, ceiling: float) -> tuple[list[Finding], dict[str, int]]:
    findings: list[Finding] = []
    overflow: dict[str, int] = {}
    checks = REFERENCE_CHECKS + (CROSS_CHECKS if cross else [])
    for check in checks:
        if kind not in check.reports:
            continue
        severity = check.severity
        if check.code == "billing-without-certified-peer" and not billing_requires_certification:
            severity = WARNING
        params = {k: v for k, v in (("as_of", as_of), ("ceiling", ceiling)) if f"${k}" in check.sql}
        rows = con.execute(f"select * from ({check.sql}) order by 1, 3 limit {cap + 1}", params).fetchall()
        if len(rows) > cap:
            total = con.execute(f"select count(*) from ({check.sql})", params).fetchall()[0][0]
            overflow[check.code] = total - cap
            rows = rows[:cap]
        for row, column, value, message in rows:
            findings.append(Finding(check.code, f"Row {row}: {message}" if row is not None else message, row=row,
                                    column=column, value=value, severity=severity))
    return findings, overflow
