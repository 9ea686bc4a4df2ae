"""The protected publication layer: every figure readers outside the state office may see, already suppressed.

The writer rebuilds it with every load (``refresh``), inside the load's transaction, so it is always in step
with the KPI views and travels in the snapshot. Restricted readers (the public, agency users) read only the
``pub_*`` views; no page decides suppression itself.

How it is built:
1. ``pub_agency_cells``: each agency's contribution to every published count, one row per quarter, family,
   categorization and category (a family is one population: peers, clinicians, certification reports...;
   its total has categorization '' and each categorization splits the total into categories).
2. ``pub_cells``: the sums over agencies for every place (the state, each region) and agency type ('ALL',
   and each type for the families published by type): the additive table readers can combine.
3. Suppression, one problem per quarter and family over that whole table (``suppress``):
   - primary: a cell resting on 1 or 2 agencies (an agency-level fact); a count of 1-10 people; a count of
     people where taking away any one agency's own part leaves 1-10 (what an agency user could subtract);
   - complementary: in every additive relation (categories -> total, regions -> state, types -> all types)
     a hidden cell never stands alone, and the hidden cells of a relation whose total is shown add up to
     at least ``PROTECTION`` people, so no combination of shown figures pins a hidden one down.
4. ``pub_*`` views: the KPI views' state and region rows with every measure that rests on a hidden cell
   replaced by null, and a ``suppressed`` column naming those measures. A measure is published only when it
   is declared here (``COLUMNS``) or in the metric registry (``Metric.rests_on``): anything else is null.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb
import polars as pl

SMALLEST_SHOWN = 11
"""Counts of people from 1 to SMALLEST_SHOWN - 1 are never shown (CMS cell-size policy)."""
FEWEST_AGENCIES = 3
"""A place figure rests on at least this many agencies: with fewer, it is one agency's figure (or, for one
of the two, the other's)."""
PROTECTION = 20
"""The hidden cells of a relation whose total is shown add up to at least this many (people or units)."""


@dataclass(frozen=True)
class Family:
    """One additive population. `people`: it counts people (the 1-10 rule applies). Its cells are places for
    every agency type together (agency_type 'ALL'): with eleven types most region x type cells rest on one
    or two agencies, so restricted readers get no split by type."""

    name: str
    people: bool


FAMILIES = (
    Family("peers", True), Family("clinicians", True), Family("supervisors", True),
    Family("cert", True), Family("leavers_4q", True), Family("cohort", True), Family("beneficiaries", True),
    Family("units_billed", False), Family("units_adjudicated", False), Family("amount_paid", False),
    Family("peer_fte_billing", False),
)
YEAR_END = "year-end"
"""A pseudo-cell shown only in Q4. Every figure over a rolling 4-quarter window rests on it: counts
(separations, the retention cohort), rates (turnover, 12-month retention, shares of reasons) and what is
computed from them (the retention component, and so the integration index while retention is scored).
A window in every quarter would let a reader subtract one window from the next, or chain exact rates of
overlapping windows, and recover single quarters."""


def yearly(refs: tuple[str, ...]) -> bool:
    """Published only for quarters ending a calendar year."""
    return YEAR_END in refs or INDEX in refs
AGENCY_CELLS = """
create or replace table pub_agency_cells as
with a as (
    select s.*, g.agency_type from kpi_scorecard s join agencies g on g.agency_id = s.entity_id
    where s.level = 'agency'
),
leavers as (  -- each agency's part of every place's rolling window, whether or not it reported this quarter
    select q.quarter, i.agency_id,
        cast(sum(case when i.headcount_reported then i.separations_count end) as bigint) as separations
    from dim_quarter q join int_agency_quarter i
        on i.quarter_ordinal between q.quarter_ordinal - 3 and q.quarter_ordinal
    group by all
),
cohort as (
    select r.*, g.agency_type from kpi_retention_12m r join agencies g on g.agency_id = r.entity_id
    where r.level = 'agency'
),
cells (quarter, agency_id, region_id, agency_type, family, categorization, category, value) as (
    select quarter, entity_id, region_id, agency_type, 'peers', '', '', peer_headcount_count from a
    union all select quarter, entity_id, region_id, agency_type, 'peers', 'schedule', 'FULLTIME',
        peer_fulltime_count from a
    union all select quarter, entity_id, region_id, agency_type, 'peers', 'schedule', 'PARTTIME',
        peer_headcount_count - peer_fulltime_count from a
    union all select w.quarter, w.entity_id, w.region_id, w.agency_type, 'peers', 'role', w.role, w.headcount_count
        from kpi_workforce_by_role w where w.level = 'agency' and w.is_peer and w.agency_type <> 'ALL'
    union all select quarter, entity_id, region_id, agency_type, 'clinicians', '', '', clinician_headcount_count
        from a
    union all select quarter, entity_id, region_id, agency_type, 'supervisors', '', '',
        supervisor_headcount_count from a
    union all select quarter, entity_id, region_id, agency_type, 'supervisors', 'training', 'TRAINED',
        trained_supervisor_count from a
    union all select quarter, entity_id, region_id, agency_type, 'supervisors', 'training', 'NOT_TRAINED',
        supervisor_headcount_count - trained_supervisor_count from a
    union all select quarter, entity_id, region_id, agency_type, 'cert', '', '', cert_peer_count from a
    union all select c.quarter, c.entity_id, c.region_id, g.agency_type, 'cert', 'status', c.status, c.peer_count
        from kpi_certification_status c join agencies g on g.agency_id = c.entity_id
        where c.level = 'agency' and c.role = 'ALL'
    union all select w.quarter, w.agency_id, g.region_id, g.agency_type, 'leavers_4q', '', '', w.separations
        from leavers w join agencies g using (agency_id)
    union all select r.quarter, r.entity_id, r.region_id, g.agency_type, 'leavers_4q', 'reason',
        r.separation_reason, r.separations_count
        from kpi_separation_reasons r join agencies g on g.agency_id = r.entity_id where r.level = 'agency'
    union all select quarter, entity_id, region_id, agency_type, 'cohort', '', '', cohort_hires_count from cohort
    union all select quarter, entity_id, region_id, agency_type, 'cohort', 'outcome', 'RETAINED',
        retained_12m_count from cohort
    union all select quarter, entity_id, region_id, agency_type, 'cohort', 'outcome', 'LEFT',
        cohort_hires_count - retained_12m_count from cohort
    union all select quarter, entity_id, region_id, agency_type, 'beneficiaries', '', '', beneficiaries_count
        from a
    union all select quarter, entity_id, region_id, agency_type, 'units_billed', '', '', units_billed_count from a
    union all select quarter, entity_id, region_id, agency_type, 'units_billed', 'mode', 'GROUP',
        group_units_billed_count from a
    union all select quarter, entity_id, region_id, agency_type, 'units_billed', 'mode', 'INDIVIDUAL',
        units_billed_count - group_units_billed_count from a
    union all select quarter, entity_id, region_id, agency_type, 'units_adjudicated', '', '',
        units_paid_count + units_denied_count from a
    union all select quarter, entity_id, region_id, agency_type, 'units_adjudicated', 'outcome', 'PAID',
        units_paid_count from a
    union all select quarter, entity_id, region_id, agency_type, 'units_adjudicated', 'outcome', 'DENIED',
        units_denied_count from a
    union all select quarter, entity_id, region_id, agency_type, 'amount_paid', '', '', round(amount_paid_usd, 2)
        from a
    union all select quarter, entity_id, region_id, agency_type, 'peer_fte_billing', '', '', peer_fte from a
    union all select quarter, entity_id, region_id, agency_type, 'peer_fte_billing', 'paid_units', 'PAID',
        case when units_paid_count > 0 then peer_fte else 0 end from a
    union all select quarter, entity_id, region_id, agency_type, 'peer_fte_billing', 'paid_units', 'UNPAID',
        case when units_paid_count > 0 then 0 else peer_fte end from a
)
select * from cells where value is not null
"""

PLACE_CELLS = """
create or replace table pub_cells as
with sums as (
    select quarter, family, categorization, category,
        case when grouping(region_id) = 1 then 'state' else 'region' end as level,
        coalesce(region_id, 'STATE') as entity_id,
        'ALL' as agency_type,
        sum(value) as value,
        count(*) filter (where value <> 0) as contributors
    from pub_agency_cells
    group by grouping sets ((quarter, family, categorization, category, region_id),
        (quarter, family, categorization, category))
),
parts as (  -- each agency's part of each place it is in: its region, and the state
    select quarter, family, categorization, category, agency_id, value, region_id as entity_id
    from pub_agency_cells
    union all select quarter, family, categorization, category, agency_id, value, 'STATE' from pub_agency_cells
),
agencies_in as (  -- agencies behind each place's family total: an agency that reported counts, even with 0
    select quarter, family, entity_id, count(*) as agencies
    from parts where categorization = '' group by all
),
dominated as (  -- a cell some agency could subtract its own part from and be left with 1-10
    select s.quarter, s.family, s.categorization, s.category, s.entity_id,
        bool_or(s.value - c.value between 1 and {small}) as dominated
    from sums s join parts c on c.quarter = s.quarter and c.family = s.family
        and c.categorization = s.categorization and c.category = s.category and c.entity_id = s.entity_id
    group by all
)
select s.quarter, s.family, s.categorization, s.category, s.level, s.entity_id, s.agency_type, s.value,
    coalesce(n.agencies, 0) as agencies, s.contributors, coalesce(d.dominated, false) as dominated,
    false as hidden
from sums s
left join agencies_in n using (quarter, family, entity_id)
left join dominated d using (quarter, family, categorization, category, entity_id)
"""

Key = tuple[str, str, str, str]  # (entity_id, agency_type, categorization, category)


def relations(keys: set[Key]) -> list[tuple[Key, list[Key]]]:
    """Every additive relation among one quarter's cells of one family: (total, parts)."""
    found: dict[tuple[Key, str], list[Key]] = defaultdict(list)  # (total, direction) -> parts
    for key in keys:
        entity, kind, cz, cat = key
        if entity != "STATE":
            found[(("STATE", kind, cz, cat), "place")].append(key)
        if kind != "ALL":
            found[((entity, "ALL", cz, cat), "type")].append(key)
        if cz:
            found[((entity, kind, "", ""), cz)].append(key)  # each categorization adds up on its own
    return sorted((total, sorted(parts)) for (total, _), parts in found.items() if total in keys)


def primary(value: float, agencies: int, contributors: int, dominated: bool, people: bool) -> bool:
    """Hidden on its own: from a place where only one or two agencies report, or resting on one or two
    agencies' non-zero parts, or (people) 1-10, or 1-10 once one agency's own part is taken away."""
    if 0 < agencies < FEWEST_AGENCIES or 0 < contributors < FEWEST_AGENCIES:
        return True
    return people and (1 <= value < SMALLEST_SHOWN or dominated)


def suppress(values: dict[Key, float], hidden: set[Key], own: dict[Key, dict[str, float]] | None = None,
             keep: frozenset[str] = frozenset()) -> set[Key]:
    """Complementary suppression over one problem: add hidden cells until every relation protects its own.

    A relation with exactly one hidden member would give it away; one whose total is shown and whose hidden
    parts add up to less than PROTECTION would pin them to a narrow range, and so would one where they do
    only until some agency takes its own parts away (`own`: each cell's part per agency). Either way one more
    non-zero member is hidden: the smallest, preferring cells whose category is not in `keep` (the categories,
    '' for the total, that the integration index rests on)."""
    hidden, own = set(hidden), own or {}
    rels = relations(set(values))
    changed = True
    while changed:
        changed = False
        for total, parts in rels:
            secret = [m for m in (total, *parts) if m in hidden]
            if not secret:
                continue
            if len(secret) > 1 and (total in hidden or _mass(parts, hidden, values, own) >= PROTECTION):
                continue
            members = [m for m in (*parts, total) if m not in hidden and values[m] > 0]
            pick = min(members, key=lambda m: (m[3] in keep, m == total, values[m], m), default=None)
            if pick is not None:
                hidden.add(pick)
                changed = True
    return hidden


def _mass(parts: list[Key], hidden: set[Key], values: dict[Key, float], own: dict[Key, dict[str, float]]) -> float:
    """What the hidden parts add up to, less the most that any one agency knows of them."""
    secret = [p for p in parts if p in hidden]
    known: dict[str, float] = defaultdict(float)
    for p in secret:
        for agency, part in own.get(p, {}).items():
            known[agency] += part
    return sum(values[p] for p in secret) - max(known.values(), default=0.0)


def solve(con: duckdb.DuckDBPyConnection) -> int:
    """Decide every cell of pub_cells (its `hidden` column); returns how many are hidden."""
    cells_found = con.execute("select quarter, family, entity_id, agency_type, categorization, category, value, "
                              "agencies, contributors, dominated from pub_cells").fetchall()
    people = {f.name: f.people for f in FAMILIES}
    problems: dict[tuple[str, str], dict[Key, tuple[float, bool]]] = defaultdict(dict)
    for q, fam, ent, kind, cz, cat, value, agencies, contributors, dominated in cells_found:
        problems[(q, fam)][(ent, kind, cz, cat)] = (
            float(value), primary(value, agencies, contributors, dominated, people[fam]))
    parts: dict[tuple[str, str], dict[Key, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for q, fam, agency, region, cz, cat, value in con.execute(
            "select quarter, family, agency_id, region_id, categorization, category, value "
            "from pub_agency_cells").fetchall():
        for key in ((region, "ALL", cz, cat), ("STATE", "ALL", cz, cat)):
            parts[(q, fam)][key][agency] = float(value)
    rows = []
    for (q, fam), cells in problems.items():
        values, alone = {k: v for k, (v, _) in cells.items()}, {k for k, (_, h) in cells.items() if h}
        if fam in WINDOWED and not q.endswith("Q4"):  # no count of theirs is published: rates need only primary
            chosen = alone
        else:
            chosen = suppress(values, alone, parts[(q, fam)] if people[fam] else None, KEEP.get(fam, frozenset()))
        for key in chosen:
            rows.append((q, fam, *key))
    hidden = pl.DataFrame(rows, schema=["quarter", "family", "entity_id", "agency_type", "categorization",
                                        "category"], orient="row")
    con.register("pub_hidden", hidden)
    try:
        con.execute("update pub_cells c set hidden = true from pub_hidden h where c.quarter = h.quarter and "
                    "c.family = h.family and c.entity_id = h.entity_id and c.agency_type = h.agency_type and "
                    "c.categorization = h.categorization and c.category = h.category")
    finally:
        con.unregister("pub_hidden")
    return len(rows)


# --- the pub_* views -------------------------------------------------------------------------------------

COMPONENTS = {
    "peer_to_clinician_ratio": ("peers", "clinicians"),
    "pct_certified": ("cert", "cert:CERTIFIED_ACTIVE"),
    "supervision_coverage": ("peers", "supervisors:TRAINED"),
    "retention_12m": ("cohort", "cohort:RETAINED", "cohort:LEFT", YEAR_END),
    "billing_sustainability": ("peer_fte_billing", "peer_fte_billing:PAID", "peer_fte_billing:UNPAID"),
}
"""What each integration index component rests on (targets and weights are state policy, always shown)."""

COMPONENT = "=component"
"""Rests on the cells of the row's own component (COMPONENTS)."""
INDEX = "=index"
"""The integration index, its stage and the workforce pillar: every scored workforce component's cells, except that
a full billing sub-score (100: the share is at or beyond the stretch) says only that, never the share itself, so it
needs none; and a practice pillar in the index only where at least FEWEST_AGENCIES agencies were assessed."""
INDEX_CELLS = tuple(dict.fromkeys(r for refs in COMPONENTS.values() for r in refs if r != YEAR_END))
KEEP = {family: frozenset(r.partition(":")[2] for r in INDEX_CELLS if r.partition(":")[0] == family)
        for family in {r.partition(":")[0] for r in INDEX_CELLS}}
"""Per family, the categories ('' = the total) complementary suppression hides last: the index rests on them."""
WINDOWED = ("leavers_4q", "cohort")
"""Families counted over a rolling window: their counts are published only at YEAR_END."""
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "kpi_scorecard": {
        "peer_fulltime_count": ("peers:FULLTIME",), "clinician_headcount_count": ("clinicians",),
        "clinician_fte": ("clinicians",), "supervisor_headcount_count": ("supervisors",),
        "trained_supervisor_count": ("supervisors:TRAINED",), "cert_peer_count": ("cert",),
        "certified_active_count": ("cert:CERTIFIED_ACTIVE",), "turnover_window_separations_count": ("leavers_4q", YEAR_END),
        "retention_cohort_hires_count": ("cohort", YEAR_END), "retained_12m_count": ("cohort:RETAINED", YEAR_END),
        "units_billed_count": ("units_billed",), "group_units_billed_count": ("units_billed:GROUP",),
        "units_denied_count": ("units_adjudicated:DENIED",), "beneficiaries_count": ("beneficiaries",),
        "paid_per_unit_usd": ("amount_paid", "units_adjudicated:PAID"),
        "units_paid_per_peer_fte": ("units_adjudicated:PAID", "peers", "peer_fte_billing"),
    },
    "kpi_integration_index": {f"{c}_{part}": refs for c, refs in COMPONENTS.items() for part in ("value", "score")}
    | {"components_scored_count": (INDEX,), "stage_order": (INDEX,), "index_basis": (INDEX,)},
    "kpi_integration_components": {"component_value": (COMPONENT,), "sub_score": (COMPONENT,), "band": (COMPONENT,)},
    "kpi_workforce_by_role": {"headcount_count": ("peers:{role}",), "fte": ("peers:{role}",),
                              },
    "kpi_certification_status": {"peer_count": ("cert:{status}",)},
    "kpi_separation_reasons": {"separations_count": ("leavers_4q:{separation_reason}", YEAR_END)},
}
"""Columns published beside the registry's metrics, and the cells each rests on ('family' is its total,
'family:category' one category, 'family@k' the total k quarters earlier, '{column}' the row's value)."""

KEYS = {  # the columns that identify a row and carry no figure: shown as they are
    "kpi_scorecard": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal", "quarter_start",
                      "quarter_end", "population_count"),
    "kpi_integration_index": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                              *(f"{c}_target" for c in COMPONENTS)),
    "kpi_integration_components": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                                   "component", "component_order", "component_label", "pillar", "direction",
                                   "higher_is_better", "floor_value", "target_value", "stretch_value", "weight",
                                   "contractual"),
    "kpi_workforce_by_role": ("level", "entity_id", "region_id", "agency_type", "quarter", "role", "role_label",
                              "is_peer", "role_order"),
    "kpi_certification_status": ("level", "entity_id", "region_id", "quarter", "role", "status"),
    "kpi_separation_reasons": ("level", "entity_id", "region_id", "quarter", "separation_reason"),
}
ROWS = {"kpi_certification_status": "v.role = 'ALL'", "kpi_workforce_by_role": "v.agency_type = 'ALL'"}
AGENCY_COUNTS = {"kpi_scorecard": "agencies_reporting_count", "kpi_workforce_by_role": "agencies_count"}

SHOWN_REFS = """
create or replace view pub_shown_refs as
with shown as (
    select quarter, level, entity_id, agency_type, family, categorization, category from pub_cells where not hidden
)
select quarter, level, entity_id, agency_type, list(ref) as refs from (
    select quarter, level, entity_id, agency_type,
        case when categorization = '' then family else family || ':' || category end as ref
    from shown
    union all
    select later.quarter, s.level, s.entity_id, s.agency_type, s.family || '@' || k.step
    from shown s join dim_quarter q on q.quarter = s.quarter
    cross join range(1, 4) as k(step)
    join dim_quarter later on later.quarter_ordinal = q.quarter_ordinal + k.step
    where s.categorization = ''
    union all
    select distinct quarter, level, entity_id, agency_type, '{year_end}' from shown where quarter like '%-Q4'
) group by all
"""


def _ref_sql(ref: str) -> str:
    """A cell reference as SQL: fixed text, or text built from the row's column named in braces."""
    head, brace, rest = ref.partition("{")
    if not brace:
        return "'" + ref.replace("'", "''") + "'"
    column = rest.split("}", 1)[0]
    return f"'{head}' || v.{column}" if head else f"v.{column}"


def _ok(refs: tuple[str, ...]) -> str:
    """SQL that is true where every cell in `refs` is shown for the row `v` (its shown cells: `s.refs`)."""
    has = "list_has_all(coalesce(s.refs, []), [{}])".format
    plain = [r for r in refs if not r.startswith("=")]
    parts = [has(", ".join(map(_ref_sql, plain)))] if plain else []
    if COMPONENT in refs:
        cases = " ".join(f"when '{c}' then {has(', '.join(map(_ref_sql, r)))}" for c, r in COMPONENTS.items())
        parts.append(f"case v.component {cases} else false end")
    if INDEX in refs:
        for component, cells in COMPONENTS.items():
            full = " or v.billing_sustainability_score >= 100" if component == "billing_sustainability" else ""
            parts.append(f"(v.{component}_value is null{full} or {has(', '.join(map(_ref_sql, cells)))})")
        parts.append(f"(v.practice_score is null or v.practice_agencies_count >= {FEWEST_AGENCIES})")
    return "(" + " and ".join(parts) + ")"


def published(view: str) -> dict[str, tuple[str, ...]]:
    """Every measure column of `view` restricted readers may see, with the cells it rests on."""
    from pipelines.metrics import METRICS

    found = {m.column: m.rests_on for m in METRICS if m.rests_on and view in m.views}
    return {**found, **COLUMNS.get(view, {})}


def view_sql(con: duckdb.DuckDBPyConnection, view: str) -> str:
    """pub_<name> for kpi_<name>: its state and region rows, each measure null where a cell it rests on is
    hidden (or unknown), and `suppressed` naming those measures. Columns declared nowhere are always null."""
    columns = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
        [view]).fetchall()]
    keys, rules, agency_count = KEYS[view], published(view), AGENCY_COUNTS.get(view)
    typed = "v.agency_type" if "agency_type" in columns else "'ALL'"
    select, hidden = [], []
    for column in columns:
        if column in keys:
            select.append(f"v.{column}")
        elif column == agency_count:
            select.append(f"case when v.{column} >= {FEWEST_AGENCIES} then v.{column} end as {column}")
        elif column in rules:
            ok = _ok(rules[column])
            select.append(f"case when {ok} then v.{column} end as {column}")
            hidden.append(f"case when not {ok} and v.{column} is not null then '{column}' end")
        else:
            select.append(f"cast(null as {_type(con, view, column)}) as {column}")
    names = f"nullif(concat_ws(', ', {', '.join(hidden)}), '')" if hidden else "cast(null as varchar)"
    rows = " and ".join(filter(None, ["v.level in ('state', 'region')", ROWS.get(view)]))
    name = "pub_" + view.removeprefix("kpi_")
    return (f"create or replace view {name} as select {', '.join(select)}, {names} as suppressed "
            f"from {view} v left join pub_shown_refs s on s.quarter = v.quarter and s.level = v.level "
            f"and s.entity_id = v.entity_id and s.agency_type = {typed} where {rows}")


def _type(con: duckdb.DuckDBPyConnection, view: str, column: str) -> str:
    return con.execute("select data_type from information_schema.columns where table_name = ? and column_name = ?",
                       [view, column]).fetchall()[0][0]


def protect(con: duckdb.DuckDBPyConnection) -> int:
    """pub_cells from pub_agency_cells, every cell decided; returns the number of hidden cells."""
    con.execute(PLACE_CELLS.format(small=SMALLEST_SHOWN - 1))
    return solve(con)


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the layer from the current KPI views (inside the caller's transaction); returns the number of
    hidden cells."""
    con.execute(AGENCY_CELLS)
    hidden = protect(con)
    con.execute(SHOWN_REFS.format(year_end=YEAR_END))
    for view in KEYS:
        con.execute(view_sql(con, view))
    return hidden


def descriptions() -> dict[str, str]:
    """What each relation of the layer holds, for the schema browser and the export README."""
    found = {
        "pub_agency_cells": "Protected layer: each agency's part of every published count (quarter x family x "
                            "categorization x category); the layer's input, state staff only.",
        "pub_cells": "Protected layer: every place x agency type x category cell readers outside the state office "
                     "could see, with its value, agencies, non-zero contributors and whether it is hidden.",
        "pub_shown_refs": "Protected layer: per quarter and place, the cells shown (as 'family' or "
                          "'family:category'), which the pub_* views test their measures against.",
    }
    for view in KEYS:
        found["pub_" + view.removeprefix("kpi_")] = (
            f"{view}'s state and region rows as readers outside the state office see them: measures resting on a "
            "hidden cell are null and named in `suppressed`.")
    return found
