"""The questions pages ask, as aggregate queries over the kpi_* views, with the global filters in SQL.

Region and state figures come from the views' region and state rows (one definition of every metric);
the agency-type filter narrows agency rows (lists, rankings, stage counts, heatmaps).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from dashboard.data import query
from dashboard.disclosure import restricted, view
from dashboard.filters import Filters
from pipelines import compliance



def _and(*parts: tuple[str, list]) -> tuple[str, list]:
    return " and ".join(f"({sql})" for sql, _ in parts), [p for _, params in parts for p in params]


def _agency_rows(f: Filters, alias: str = "k") -> tuple[str, list]:
    """Agency rows of the chosen region and type (the view must carry region_id and agency_type)."""
    return f.agencies(f"{alias}.")


# --- the selected place (region or state) over the selected quarters -------------------------------

def _hidden(*aliases: str, renamed: dict[str, str] | None = None) -> str:
    """The `suppressed` column of protected rows (the names of their hidden measures, as `renamed` by the
    query), for restricted readers."""
    if not restricted():
        return ""
    names = f"nullif(concat_ws(', ', {', '.join(a + '.suppressed' for a in aliases)}), '')"
    if renamed:
        cases = " ".join(f"when '{old}' then '{new}'" for old, new in renamed.items())
        names = f"array_to_string(list_transform(string_split({names}, ', '), lambda x: case x {cases} else x end), ', ')"
    return f", {names} as suppressed"


def scorecards(f: Filters) -> pl.DataFrame:
    """Every KPI of the state and of every region per quarter in range, with the integration index (pages
    keep the chosen place)."""
    where, params = f.quarters("s.quarter")
    return query(f"select s.*{_all_but_marks()}, i.index_score, i.stage, i.workforce_score, i.practice_score"
                 f"{_hidden('s', 'i')} "
                 f"from {view('kpi_scorecard')} s left join {view('kpi_integration_index')} i "
                 "using (level, entity_id, quarter) where s.level in ('state', 'region') and "
                 f"{where} and s.agencies_reporting_count > 0 order by s.quarter_ordinal, s.level desc, "
                 "s.entity_id", params)


def _all_but_marks() -> str:
    """`s.*` leaves out the protected view's own marks (merged by _hidden)."""
    return " exclude (suppressed)" if restricted() else ""


def index_trend(f: Filters) -> pl.DataFrame:
    """Integration index per quarter for every region and the state."""
    return place_trend(f, "kpi_integration_index", "index_score")


def stage_counts(f: Filters, quarter: str) -> pl.DataFrame:
    """Agencies (not people) per stage: every agency of the chosen region and type, whoever is looking."""
    where, params = _agency_rows(replace(f, scope=None))
    return query("select i.stage, count(*) as agencies from kpi_integration_index i join kpi_agency_quarter k "
                 "using (agency_id, quarter) where i.level = 'agency' and i.quarter = ? and i.stage is not null "
                 f"and {where} group by i.stage, i.stage_order order by i.stage_order", [quarter, *params])


# --- needs attention --------------------------------------------------------------------------------

def expiring_by_agency(f: Filters) -> pl.DataFrame:
    where, params = _agency_rows(f, "a")
    return query("select e.agency_id, e.agency_name, e.region_id, count(*) as credentials_expiring, "
                 "min(e.days_to_expiry) as soonest_in_days, min(e.expiration_date) as first_expiry "
                 "from kpi_expiring_certifications e join agencies a using (agency_id) "
                 f"where {where} group by all order by soonest_in_days, e.agency_id", params)


def expiring_list(f: Filters) -> pl.DataFrame:
    where, params = _agency_rows(f, "a")
    return query("select e.agency_id, e.agency_name, e.region_id, e.peer_id, e.role, e.credential_code, "
                 "e.expiration_date, e.days_to_expiry from kpi_expiring_certifications e join agencies a "
                 f"using (agency_id) where {where} order by e.days_to_expiry, e.agency_id, e.peer_id", params)


def denial_spikes(f: Filters) -> pl.DataFrame:
    where, params = _and(_agency_rows(f), f.quarters("k.quarter"))
    return query("select agency_id, agency_name, region_id, quarter, round(prior_denial_rate_pct, 1) as "
                 "prior_denial_rate_pct, round(denial_rate_pct, 1) as denial_rate_pct, "
                 "adjudicated_units_count from kpi_denial_spikes k "
                 f"where is_spike and {where} order by quarter desc, change_pts desc", params)


def not_billing(f: Filters, quarter: str) -> pl.DataFrame:
    where, params = _agency_rows(f)
    return query("select agency_id, agency_name, region_id, agency_type, peer_headcount_count as peers, "
                 "round(peer_fte, 1) as peer_fte from kpi_agency_quarter k "
                 f"where bills_nothing and quarter = ? and {where} order by peer_fte desc, agency_id",
                 [quarter, *params])


# --- regions ----------------------------------------------------------------------------------------

_REGION_NAMES = {"peer_headcount_count": "peers", "clinician_headcount_count": "clinicians",
                 "trained_supervisor_count": "trained_supervisors", "certified_active_count": "certified_peers",
                 "turnover_window_separations_count": "separations_in_4_quarters"}


def regions_in_quarter(quarter: str) -> pl.DataFrame:
    return query("select r.region_id, r.entity_name as region, r.population_count as population, "
                 "r.peer_headcount_count as peers, r.clinician_headcount_count as clinicians, "
                 "r.trained_supervisor_count as trained_supervisors, r.certified_active_count as certified_peers, "
                 "r.turnover_window_separations_count as separations_in_4_quarters, "
                 "round(r.peer_fte_per_100k, 1) as peer_fte_per_100k, round(r.peer_to_clinician_ratio, 2) "
                 "as peer_to_clinician_ratio, round(r.certified_pct, 1) as certified_pct, "
                 "round(r.peers_per_trained_supervisor, 1) as peers_per_trained_supervisor, "
                 "round(r.annualized_turnover_pct, 1) as annualized_turnover_pct, round(r.denial_rate_pct, 1) "
                 f"as denial_rate_pct, round(i.index_score, 1) as index_score, i.stage{_hidden('r', 'i', renamed=_REGION_NAMES)} "
                 f"from {view('kpi_scorecard')} r join {view('kpi_integration_index')} i on i.level = 'region' "
                 "and i.entity_id = r.entity_id and i.quarter = r.quarter where r.level = 'region' and "
                 "r.quarter = ? order by r.entity_id", [quarter])


def region_components(quarter: str) -> pl.DataFrame:
    return query("select c.entity_name as region, c.entity_id as region_id, "
                 "coalesce(t.label, c.component) as component, "
                 "c.component_order, round(c.component_value, 2) as value, c.target_value as target, "
                 f"round(c.sub_score, 0) as sub_score{_hidden('c', renamed={'component_value': 'value'})} "
                 f"from {view('kpi_integration_components')} c left join targets t on t.component = c.component "
                 "where c.level = 'region' and c.quarter = ? order by c.entity_id, c.component_order", [quarter])


def region_trends(f: Filters, column: str) -> pl.DataFrame:
    """One regional measure (a kpi_scorecard column or index_score) per region and quarter in range."""
    if column != "index_score" and not column.isidentifier():
        raise ValueError(column)
    where, params = f.quarters("r.quarter")
    measure = "i.index_score" if column == "index_score" else f"r.{column}"
    marks = _hidden("r", "i").replace(" as suppressed", "")
    hidden = (f", case when list_contains(string_split(coalesce({marks.lstrip(', ')}, ''), ', '), "
              f"'{column}') then 'value' end as suppressed") if marks else ""
    return query(f"select r.entity_name as region, r.quarter, round({measure}, 2) as value{hidden} "
                 f"from {view('kpi_scorecard')} r join {view('kpi_integration_index')} i on i.level = 'region' "
                 "and i.entity_id = r.entity_id and i.quarter = r.quarter where r.level = 'region' and "
                 f"{where} and r.agencies_reporting_count > 0 order by r.quarter_ordinal, r.entity_id", params)


def workforce_by_role(f: Filters, quarter: str) -> pl.DataFrame:
    """Peer headcount and FTE by role in the state and every region, of the chosen agency type (or every type;
    always every type for restricted readers, whose layer has no split by type)."""
    return query("select level, entity_id, role_label as role, headcount_count as headcount, round(fte, 1) as fte, "
                 "round(fulltime_pct, 1) as fulltime_pct, round(vacancy_rate_pct, 1) as vacancy_rate_pct"
                 f"{_hidden('w', renamed={'headcount_count': 'headcount'})} from {view('kpi_workforce_by_role')} w where level in ('state', 'region') "
                 "and agency_type = ? and quarter = ? and is_peer order by level desc, entity_id, role_order",
                 ["ALL" if restricted() else f.agency_type or "ALL", quarter])


# --- organizations ----------------------------------------------------------------------------------

def agency_table(f: Filters, quarter: str) -> pl.DataFrame:
    """One row per agency reporting in `quarter`: index, stage, components and the index trend."""
    where, params = _agency_rows(f)
    span, span_params = f.quarters("t.quarter")
    return query(
        "with trend as (select agency_id, list(round(index_score, 1) order by quarter_ordinal) as index_trend "
        f"from kpi_integration_index t where level = 'agency' and {span} group by agency_id) "
        "select k.agency_id, k.agency_name, k.region_id, k.agency_type, round(i.index_score, 1) as index_score, "
        "i.stage, t.index_trend, round(i.peer_to_clinician_ratio_value, 2) as peer_to_clinician_ratio, "
        "round(i.pct_certified_value, 1) as certified_pct, round(i.supervision_coverage_value, 1) as "
        "peers_per_trained_supervisor, round(i.retention_12m_value, 1) as retention_12m_pct, "
        "round(i.billing_sustainability_value, 1) as billing_sustainability_pct, k.peer_headcount_count as "
        "peers, round(k.peer_fte, 1) as peer_fte from kpi_agency_quarter k join kpi_integration_index i "
        "on i.level = 'agency' and i.entity_id = k.agency_id and i.quarter = k.quarter "
        f"left join trend t on t.agency_id = k.agency_id where k.quarter = ? and {where} "
        "order by i.index_score desc nulls last, k.agency_id", [*span_params, quarter, *params])


# --- one agency -------------------------------------------------------------------------------------

def agency_options(f: Filters) -> pl.DataFrame:
    where, params = f.agencies("")
    return query(f"select agency_id, name from agencies where {where} order by agency_id", params)


def agency_info(agency_id: str) -> pl.DataFrame:
    return query("select a.*, r.name as region_name from agencies a left join regions r using (region_id) "
                 "where agency_id = ?", [agency_id])


def agency_scorecard(agency_id: str) -> pl.DataFrame:
    return query("select s.*, i.index_score, i.stage from kpi_scorecard s left join kpi_integration_index i "
                 "using (level, entity_id, quarter) where s.level = 'agency' and s.entity_id = ? "
                 "order by s.quarter_ordinal", [agency_id])


def standing(agency_id: str, region_id: str, quarter: str) -> pl.DataFrame:
    """The agency, its region and the state side by side in one quarter (one row per level); the region and
    state rows from the layer the viewer reads."""
    marks = _hidden("s", "i") or ", cast(null as varchar) as suppressed"
    places = (f"select s.entity_name as place, s.*{_all_but_marks()}, i.index_score{marks}, case s.level when 'state' then 3 else 2 end "
              f"as place_order from {view('kpi_scorecard')} s left join {view('kpi_integration_index')} i "
              "using (level, entity_id, quarter) where s.quarter = ? and ((s.level = 'region' and s.entity_id = ?) "
              "or s.level = 'state')")
    own = ("select s.entity_name as place, s.*, i.index_score, cast(null as varchar) as suppressed, 1 as place_order "
           "from kpi_scorecard s left join kpi_integration_index i using (level, entity_id, quarter) "
           "where s.quarter = ? and s.level = 'agency' and s.entity_id = ?")
    return query(f"select * exclude (place_order) from ({own} union all by name {places}) order by place_order",
                 [quarter, agency_id, quarter, region_id])


def index_against_peers(agency_id: str, region_id: str) -> pl.DataFrame:
    """The agency's index per quarter beside its region's and the state's (from the layer the viewer reads)."""
    marks = ", case when i.suppressed is not null then 'index_score' end as suppressed" if restricted() else ""
    return query("select i.level, i.entity_name as place, i.quarter, round(i.index_score, 1) as index_score, "
                 "cast(null as varchar) as suppressed from kpi_integration_index i where i.level = 'agency' "
                 "and i.entity_id = ? and i.index_score is not null union all by name "
                 f"select i.level, i.entity_name as place, i.quarter, round(i.index_score, 1) as index_score{marks} "
                 f"from {view('kpi_integration_index')} i where (i.index_score is not null{' or i.suppressed is not null' if restricted() else ''}) "
                 "and ((i.level = 'region' and i.entity_id = ?) or i.level = 'state') order by quarter, level",
                 [agency_id, region_id])


def agency_roles(agency_id: str) -> pl.DataFrame:
    return query("select quarter, role_label as role, role_order as stack_order, headcount_count as headcount, "
                 "round(fte, 1) as fte from kpi_workforce_by_role where level = 'agency' and entity_id = ? "
                 "and agency_type <> 'ALL' order by quarter, role_order", [agency_id])


def agency_submissions(agency_id: str) -> pl.DataFrame:
    return query("select submission_id, 'submissions?submission=' || submission_id as history, quarter, report, "
                 "status, file_name, rows, error_count, warning_count, "
                 "submitted_at, superseded_by from submissions "
                 "where agency_id = ? order by quarter desc, report, submission_id desc", [agency_id])


# --- certification ----------------------------------------------------------------------------------

def status_mix(f: Filters, level: tuple[str, str] | None = None) -> pl.DataFrame:
    """Peer certification status counts and shares per quarter, of `level` (one agency, from the kpi view
    the viewer may see it in), else of the state and every region (pages keep the filters' place)."""
    entity = ("level = ? and entity_id = ?", list(level)) if level else ("level in ('state', 'region')", [])
    where, params = _and(entity, f.quarters())
    source = "kpi_certification_status" if level else view("kpi_certification_status")
    marks = _hidden("c", renamed={"peer_count": "peers", "status_share_pct": "share_pct"}) if not level else ""
    return query("select level, entity_id, quarter, status, peer_count as peers, round(status_share_pct, 1) as "
                 f"share_pct{marks} from {source} c where role = 'ALL' and {where} "
                 "order by quarter, level desc, entity_id, status", params)


def credential_mix(f: Filters, quarter: str) -> pl.DataFrame:
    """Peers by credential in the state and every region."""
    return query("select level, entity_id, credential_code, credential_title, peer_count as peers, "
                 "round(share_pct, 1) as share_pct from kpi_credential_mix where level in ('state', 'region') "
                 "and quarter = ? order by level desc, entity_id, peer_count desc", [quarter])


def certified_by_region_and_role(quarter: str) -> pl.DataFrame:
    return query("select c.level = 'state' as is_state, coalesce(r.name, 'Statewide') as place, d.role_order, "
                 "d.role_label as role, "
                 "sum(c.peer_count) as peers, round(coalesce(max(c.status_share_pct) filter (where c.status = "
                 "'CERTIFIED_ACTIVE'), 0), 1) as certified_pct from kpi_certification_status c "
                 "join dim_role d using (role) left join regions r on c.level = 'region' and "
                 "r.region_id = c.entity_id where c.level in ('region', 'state') and c.quarter = ? "
                 "group by all order by all", [quarter])


# --- retention --------------------------------------------------------------------------------------

def _state_and_regions(f: Filters, alias: str) -> tuple[str, list]:
    """The state's rows and every region's (or only the chosen region's) of a level view."""
    if f.region:
        return f"{alias}.level = 'state' or ({alias}.level = 'region' and {alias}.entity_id = ?)", [f.region]
    return f"{alias}.level in ('state', 'region')", []


def place_trend(f: Filters, view_name: str, column: str) -> pl.DataFrame:
    """A level view's measure per quarter for every region and the state."""
    where, params = _and(("v.level in ('state', 'region')", []), f.quarters("v.quarter"))
    hidden_here = f"list_contains(string_split(coalesce(v.suppressed, ''), ', '), '{column}')"
    hidden = f", case when {hidden_here} then 'value' end as suppressed" if restricted() else ""
    return query(f"select v.level, v.entity_id, e.entity_name as place, v.quarter, round(v.{column}, 1) as value"
                 f"{hidden} from {view(view_name)} v join dim_entity e using (level, entity_id) "
                 f"where {where} and (v.{column} is not null{f' or {hidden_here}' if restricted() else ''}) "
                 "order by v.quarter_ordinal, v.level desc, v.entity_id", params)


def survival(f: Filters) -> pl.DataFrame:
    where, params = _state_and_regions(f, "s")
    return query("select e.entity_name as place, s.tenure_month, round(s.still_employed_pct, 1) as "
                 "still_employed_pct, s.median_tenure_months, s.spells_count from kpi_tenure_survival s "
                 f"join dim_entity e using (level, entity_id) where {where} "
                 "order by s.level desc, s.entity_id, s.tenure_month", params)


def separation_reasons(f: Filters, quarter: str) -> pl.DataFrame:
    """Separations by reason in the 4 quarters to `quarter`, for the state and every region."""
    return query("select level, entity_id, separation_reason as reason, separations_count as separations, "
                 "round(share_pct, 1) as share_pct, round(cumulative_share_pct, 1) as cumulative_share_pct"
                 f"{_hidden('r', renamed={'separations_count': 'separations'})} from {view('kpi_separation_reasons')} r where level in ('state', 'region') "
                 "and quarter = ? order by level desc, entity_id, reason_rank, separation_reason", [quarter])


def reason_share_trend(f: Filters, reason: str) -> pl.DataFrame:
    """One reason's share per quarter (0 where no one left for it; null where that share is suppressed)."""
    where, params = _and(f.entity(), f.quarters())
    return query("select quarter, round(case when count(*) filter (where separation_reason = ?) = 0 then 0 else "
                 "max(share_pct) filter (where separation_reason = ?) end, 1) as share_pct "
                 f"from {view('kpi_separation_reasons')} where {where} group by quarter order by quarter",
                 [reason, reason, *params])


def wage_bands(f: Filters, quarter: str) -> pl.DataFrame:
    """Share of peers hired and of peers who left by wage band (long: one row per band and group)."""
    places = "level in ('state', 'region')"
    return query("select level, entity_id, hourly_wage_band as wage_band, band_order, 'Hired' as peers_who, "
                 "hires_count as people, round(share_of_hires_pct, 1) as share_pct from kpi_wage_bands where "
                 f"{places} and quarter = ? union all select level, entity_id, hourly_wage_band, band_order, 'Left', "
                 f"separations_count, round(share_of_separations_pct, 1) from kpi_wage_bands where {places} "
                 "and quarter = ? order by level desc, entity_id, band_order, peers_who", [quarter, quarter])


# --- billing ----------------------------------------------------------------------------------------

def denial_grid(f: Filters, top: int | None = None) -> pl.DataFrame:
    """Denial rate per agency and quarter in range; `top` keeps the agencies with the highest peak rate."""
    where, params = _and(_agency_rows(f), f.quarters("k.quarter"))
    return query("with cells as (select k.agency_id, k.agency_id || ' ' || k.agency_name as agency, k.quarter, "
                 "round(k.denial_rate_pct, 1) as denial_rate_pct, k.units_denied_count as units_denied, "
                 "max(k.denial_rate_pct) over (partition by k.agency_id) as peak from kpi_agency_quarter k "
                 f"where k.denial_rate_pct is not null and {where}) select agency, quarter, denial_rate_pct, "
                 "units_denied from cells qualify dense_rank() over (order by peak desc, agency_id) <= ? "
                 "order by peak desc, agency_id, quarter", [*params, top or 1_000_000])


def billing_vs_certification(f: Filters, quarter: str) -> pl.DataFrame:
    where, params = _agency_rows(f)
    return query("select agency_id || ' ' || agency_name as agency, agency_type, round(certified_pct, 1) as "
                 "certified_pct, round(units_billed_per_peer_fte, 0) as units_per_peer_fte, round(peer_fte, 1) "
                 "as peer_fte from kpi_agency_quarter k where has_peers and certified_pct is not null and "
                 f"units_billed_per_peer_fte is not null and quarter = ? and {where} order by agency_id",
                 [quarter, *params])


def funding_mix(f: Filters) -> pl.DataFrame:
    """Peer FTE by funding source per quarter, for the state and every region."""
    where, params = _and(("level in ('state', 'region')", []), f.quarters())
    return query("select level, entity_id, quarter, primary_funding as funding, round(peer_fte, 1) as peer_fte, "
                 "peer_headcount_count, round(share_of_peer_fte_pct, 1) as share_pct from kpi_funding_mix "
                 f"where {where} order by quarter, level desc, entity_id, primary_funding", params)


def billing_codes(f: Filters, quarter: str) -> pl.DataFrame:
    where, params = f.entity()
    return query("select hcpcs, modifier, code_description, units_billed_count as units_billed, "
                 "units_paid_count as units_paid, round(amount_paid_usd, 2) as amount_paid_usd, "
                 "round(denial_rate_pct, 1) as denial_rate_pct from kpi_billing_codes "
                 f"where {where} and quarter = ? order by units_billed_count desc", [*params, quarter])


def late_or_missing(f: Filters, quarter: str) -> pl.DataFrame:
    """Agencies whose reports for `quarter` came in late or are missing (per the submission compliance rules)."""
    condition, params = f.agencies("a.")
    return query("select agency_id, agency_name, region_id, state, string_agg(report, ', ' order by report) as "
                 f"reports, any_value(due_date) as due_date from ({compliance.grid_sql(condition)}) "
                 "where state in ('late', 'missing', 'rejected') group by all order by state, agency_id",
                 [quarter, quarter, *params])
