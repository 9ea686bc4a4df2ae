"""The questions the Integration page, the overview's headline and the agency profile ask about practices,
action plans and stage progression (kpi_practice_domains, kpi_action_plans, kpi_action_plan_status,
kpi_stage_transitions; their pub_* twins for readers outside the state office)."""

from __future__ import annotations

import polars as pl

from dashboard import palette
from dashboard.data import query
from dashboard.disclosure import restricted, view
from dashboard.filters import Filters
from pipelines.contracts import ACTION_OWNERS, ACTION_STATUSES, PRACTICE_DOMAINS, VALUE_LABELS

STAGE_ORDER = ("No peer workforce", "Emerging", "Developing", "Integrated")
OWNER_LABELS = {owner: VALUE_LABELS[owner] for owner in ACTION_OWNERS}
STATUS_LABELS = {status: VALUE_LABELS[status] for status in ACTION_STATUSES}
RATERS = {"leadership": "Agency leaders", "peers": "Agency peers", "region_leadership": "Region leaders",
          "region_peers": "Region peers"}
ACTION_COLOURS = palette.ACTIONS  # one palette for every chart (dashboard.palette)
GAP_WORTH_A_LOOK = 1.5
"""A domain where leaders rate 1.5 points or more above peers: leaders see what peers do not."""


def _marks() -> str:
    return ", v.suppressed" if restricted() else ""


def _labels() -> str:
    """A CTE `labels` (domain, domain_label, domain_order), from the one place the domains are named."""
    return f"labels as (select distinct domain, domain_label, domain_order from {view('kpi_practice_domains')})"


def latest_assessment(f: Filters) -> str | None:
    """The latest assessment quarter with practice ratings, up to the end of the chosen range."""
    frame = query(f"select max(quarter) as q from {view('kpi_practice_domains')} where quarter <= ?",
                  [f.quarter_to])
    return frame["q"][0] if frame.height else None


def domains_by_region(quarter: str) -> pl.DataFrame:
    """Domain x place (every region and the state): leadership and peers' mean ratings (0-4), side by side
    in long form (rater, rating) for the heatmap."""
    return query(
        "select v.entity_name as place, v.level, v.domain, v.domain_label, v.leadership_rating, v.peers_rating, "
        f"v.peer_voice_gap, v.agencies_assessed_count{_marks()} from {view('kpi_practice_domains')} v "
        "where v.level in ('state', 'region') and v.quarter = ? and v.domain <> 'ALL' "
        "order by v.domain_order, v.level desc, v.entity_id", [quarter])


def ratings_long(domains: pl.DataFrame) -> pl.DataFrame:
    """The heatmap's shape: place x domain x rater with the mean rating."""
    keep = ["place", "domain_label", "leadership_rating", "peers_rating"]
    return (domains.select(keep)
            .unpivot(index=["place", "domain_label"], variable_name="rater", value_name="rating")
            .with_columns(pl.col("rater").replace_strict({"leadership_rating": "Leadership",
                                                          "peers_rating": "Peer staff"})))


def place_domains(f: Filters, quarter: str) -> pl.DataFrame:
    """The chosen place's domains in one assessment quarter, in the domains' order."""
    where, params = f.entity("v.")
    frame = query(
        "select v.domain, v.domain_label, round(v.leadership_rating, 2) as leadership_rating, "
        "round(v.peers_rating, 2) as peers_rating, round(v.peer_voice_gap, 2) as peer_voice_gap, "
        f"v.agencies_assessed_count{_marks()} from {view('kpi_practice_domains')} v "
        f"where {where} and v.quarter = ? and v.domain <> 'ALL'", [*params, quarter])
    order = {d: i for i, d in enumerate(PRACTICE_DOMAINS)}
    return frame.sort(pl.col("domain").replace_strict(order, default=99))


def gap_agencies(f: Filters, quarter: str) -> pl.DataFrame:
    """Agencies (state staff, or an agency user's own) whose leaders rate a domain 1.5+ above their peers."""
    where, params = f.agencies("a.")
    return query(
        "select v.entity_id as agency_id, v.entity_name as agency, a.region_id, v.domain_label as domain, "
        "round(v.leadership_rating, 1) as leadership, round(v.peers_rating, 1) as peers, "
        "round(v.peer_voice_gap, 1) as gap from kpi_practice_domains v join agencies a on a.agency_id = v.entity_id "
        f"where v.level = 'agency' and v.quarter = ? and v.domain <> 'ALL' and v.peer_voice_gap >= ? and "
        f"{where} order by v.peer_voice_gap desc, v.entity_id",
        [quarter, GAP_WORTH_A_LOOK, *params])


def action_status(f: Filters, quarter: str) -> pl.DataFrame:
    """Open, overdue and done actions per domain for the chosen place (latest assessments as of the quarter)."""
    where, params = f.entity("v.")
    return query(
        f"with {_labels()} select v.domain, coalesce(l.domain_label, v.domain) as domain_label, v.actions_open_count, "
        "v.actions_overdue_count, v.actions_done_count, "
        f"v.agencies_with_open_actions_count{_marks()} from {view('kpi_action_plan_status')} v "
        f"left join labels l using (domain) where {where} and v.quarter = ? "
        "order by v.domain = 'ALL' desc, l.domain_order", [*params, quarter])


def overdue_actions(f: Filters) -> pl.DataFrame:
    """Every overdue action of the agencies the viewer may see, most overdue first, with its owner."""
    where, params = f.agencies("a.")
    return query(
        f"with {_labels()} select p.agency_id, p.agency_name as agency, p.region_id, p.practice_code as practice, "
        "l.domain_label as domain, p.action_status as status, p.action_owner as owner, p.action_due_quarter as due, "
        "p.quarters_overdue, p.quarter as assessed_in from kpi_action_plans p join agencies a using (agency_id) "
        "left join labels l using (domain) "
        f"where p.is_latest and p.is_overdue and {where} order by p.quarters_overdue desc, p.agency_id, "
        "p.practice_code", params).with_columns(
        pl.col("status").replace(STATUS_LABELS), pl.col("owner").replace(OWNER_LABELS))


def transitions(f: Filters, quarter: str) -> pl.DataFrame:
    """From x to stage counts for the chosen place between `quarter` and the quarter a year before."""
    where, params = f.entity("v.")
    frame = query(
        f"select v.from_stage, v.to_stage, v.direction, v.agencies_count{_marks()} "
        f"from {view('kpi_stage_transitions')} v where {where} and v.quarter = ?", [*params, quarter])
    return frame.sort(pl.col("from_stage").replace_strict({s: i for i, s in enumerate(STAGE_ORDER)}, default=9),
                      pl.col("to_stage").replace_strict({s: i for i, s in enumerate(STAGE_ORDER)}, default=9))


def moved(frame: pl.DataFrame) -> tuple[int | None, int | None]:
    """Agencies that moved up and down a stage (None where a count is hidden)."""
    def total(direction: str) -> int | None:
        rows = frame.filter(pl.col("direction") == direction)["agencies_count"]
        return None if rows.null_count() else int(rows.sum())
    return total("up"), total("down")


def latest_transition_quarter(f: Filters) -> str | None:
    frame = query(f"select max(quarter) as q from {view('kpi_stage_transitions')} where quarter <= ?",
                  [f.quarter_to])
    return frame["q"][0] if frame.height else None


def movers(f: Filters, quarter: str) -> pl.DataFrame:
    """The agencies (the viewer may see) that changed stage between the quarter and a year before."""
    where, params = f.agencies("a.")
    return query(
        "select v.entity_id as agency_id, v.entity_name as agency, a.region_id, v.from_stage, v.to_stage, "
        "v.direction from kpi_stage_transitions v join agencies a on a.agency_id = v.entity_id "
        f"where v.level = 'agency' and v.quarter = ? and v.direction <> 'same' and {where} "
        "order by v.direction = 'down' desc, v.entity_id", [quarter, *params])


# --- one agency -------------------------------------------------------------------------------------

def agency_practices(agency_id: str, region_id: str) -> pl.DataFrame:
    """The agency's latest domain ratings beside its region's (from the layer the viewer reads)."""
    return query(
        "with own as (select * from kpi_practice_domains where level = 'agency' and entity_id = ? and "
        "domain <> 'ALL' and quarter = (select max(quarter) from kpi_practice_domains where level = 'agency' "
        "and entity_id = ?)) "
        "select o.quarter, o.domain_label as domain, round(o.leadership_rating, 1) as leadership, "
        "round(o.peers_rating, 1) as peers, round(r.leadership_rating, 1) as region_leadership, "
        f"round(r.peers_rating, 1) as region_peers from own o left join {view('kpi_practice_domains')} r "
        "on r.level = 'region' and r.entity_id = ? and r.quarter = o.quarter and r.domain = o.domain "
        "order by o.domain_order", [agency_id, agency_id, region_id])


def agency_actions(agency_id: str) -> pl.DataFrame:
    """The agency's actions from its latest assessment, overdue first."""
    return query(
        f"with {_labels()} select p.practice_code as practice, l.domain_label as domain, p.action_status as status, "
        "p.action_owner as owner, p.action_due_quarter as due, p.is_overdue as overdue, p.quarter as assessed_in "
        "from kpi_action_plans p left join labels l using (domain) where p.agency_id = ? and p.is_latest "
        "order by p.is_overdue desc, p.is_open desc, p.action_due_quarter, p.practice_code", [agency_id]).with_columns(
        pl.col("status").replace(STATUS_LABELS), pl.col("owner").replace(OWNER_LABELS))


def agency_stages(agency_id: str) -> pl.DataFrame:
    """The agency's stage and index per quarter."""
    return query("select quarter, stage, round(index_score, 1) as index_score, round(workforce_score, 1) as "
                 "workforce, round(practice_score, 1) as practice from kpi_integration_index "
                 "where level = 'agency' and entity_id = ? order by quarter_ordinal", [agency_id])


def progress_sentence(up: int | None, down: int | None, quarter: str) -> str:
    """'12 agencies moved up a stage in the past year, 2 moved down' (hidden counts said as such)."""
    def agencies(n: int | None) -> str:
        return "A suppressed number of agencies" if n is None else f"{n:,} agenc{'y' if n == 1 else 'ies'}"
    tail = "a suppressed number moved down" if down is None else f"{down:,} moved down"
    return f"{agencies(up)} moved up a stage in the year to {quarter}; {tail}."
