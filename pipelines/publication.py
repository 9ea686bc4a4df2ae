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
    """One additive population. `people`: it counts people (the 1-10 rule applies). `by_type`: readers
    see it split by agency type as well as by place."""

    name: str
    people: bool
    by_type: bool = False


FAMILIES = (
    Family("peers", True, by_type=True), Family("clinicians", True), Family("supervisors", True),
    Family("cert", True), Family("leavers_4q", True), Family("cohort", True), Family("beneficiaries", True),
    Family("units_billed", False), Family("units_adjudicated", False), Family("amount_paid", False),
)
BY_TYPE = tuple(f.name for f in FAMILIES if f.by_type)

AGENCY_CELLS = """
create or replace table pub_agency_cells as
with a as (
    select s.*, g.agency_type from kpi_scorecard s join agencies g on g.agency_id = s.entity_id
    where s.level = 'agency'
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
    union all select quarter, entity_id, region_id, agency_type, 'leavers_4q', '', '',
        turnover_window_separations_count from a
    union all select r.quarter, r.entity_id, r.region_id, g.agency_type, 'leavers_4q', 'reason',
        r.separation_reason, r.separations_count
        from kpi_separation_reasons r join agencies g on g.agency_id = r.entity_id where r.level = 'agency'
    union all select quarter, entity_id, region_id, agency_type, 'cohort', '', '', retention_cohort_hires_count
        from a
    union all select quarter, entity_id, region_id, agency_type, 'cohort', 'outcome', 'RETAINED',
        retained_12m_count from a
    union all select quarter, entity_id, region_id, agency_type, 'cohort', 'outcome', 'LEFT',
        retention_cohort_hires_count - retained_12m_count from a
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
)
select * from cells where value is not null
"""

PLACE_CELLS = """
create or replace table pub_cells as
with sums as (
    select quarter, family, categorization, category,
        case when grouping(region_id) = 1 then 'state' else 'region' end as level,
        coalesce(region_id, 'STATE') as entity_id,
        coalesce(agency_type, 'ALL') as agency_type,
        sum(value) as value,
        count(*) as contributions
    from pub_agency_cells
    group by grouping sets ((quarter, family, categorization, category, region_id, agency_type),
        (quarter, family, categorization, category, region_id),
        (quarter, family, categorization, category, agency_type),
        (quarter, family, categorization, category))
),
agencies_in as (  -- agencies behind each place's family total: an agency that reported counts, even with 0
    select s.quarter, s.family, s.level, s.entity_id, s.agency_type, count(c.agency_id) as agencies
    from sums s join pub_agency_cells c on c.quarter = s.quarter and c.family = s.family
        and c.categorization = '' and (s.level = 'state' or c.region_id = s.entity_id)
        and (s.agency_type = 'ALL' or c.agency_type = s.agency_type)
    where s.categorization = ''
    group by all
),
dominated as (  -- a cell some agency could subtract its own part from and be left with 1-10
    select s.quarter, s.family, s.categorization, s.category, s.level, s.entity_id, s.agency_type,
        bool_or(s.value - c.value between 1 and {small}) as dominated
    from sums s join pub_agency_cells c on c.quarter = s.quarter and c.family = s.family
        and c.categorization = s.categorization and c.category = s.category
        and (s.level = 'state' or c.region_id = s.entity_id)
        and (s.agency_type = 'ALL' or c.agency_type = s.agency_type)
    group by all
)
select s.quarter, s.family, s.categorization, s.category, s.level, s.entity_id, s.agency_type, s.value,
    coalesce(n.agencies, 0) as agencies, coalesce(d.dominated, false) as dominated, false as hidden
from sums s
left join agencies_in n using (quarter, family, level, entity_id, agency_type)
left join dominated d using (quarter, family, categorization, category, level, entity_id, agency_type)
where s.agency_type = 'ALL' or s.family in ({by_type})
"""

Key = tuple[str, str, str, str]  # (entity_id, agency_type, categorization, category)


def relations(keys: set[Key]) -> list[tuple[Key, list[Key]]]:
    """Every additive relation among one quarter's cells of one family: (total, parts)."""
    found: dict[Key, list[Key]] = defaultdict(list)
    for key in keys:
        entity, kind, cz, cat = key
        if entity != "STATE":
            found[("STATE", kind, cz, cat)].append(key)
        if kind != "ALL":
            found[(entity, "ALL", cz, cat)].append(key)
        if cz:
            found[(entity, kind, "", "")].append(key)
    return [(total, sorted(parts)) for total, parts in found.items() if total in keys]


def primary(value: float, agencies: int, dominated: bool, people: bool) -> bool:
    """Hidden on its own: resting on one or two agencies, or (people) 1-10, or 1-10 once one agency is removed."""
    if 0 < agencies < FEWEST_AGENCIES:
        return True
    return people and (1 <= value < SMALLEST_SHOWN or dominated)


def suppress(values: dict[Key, float], hidden: set[Key]) -> set[Key]:
    """Complementary suppression over one problem: add hidden cells until every relation protects its own.

    A relation with exactly one hidden member would give it away; one whose total is shown and whose hidden
    parts add up to less than PROTECTION would pin them to a narrow range. Either way the smallest non-zero
    shown part is hidden too (the total when no part is left)."""
    hidden = set(hidden)
    rels = relations(set(values))
    changed = True
    while changed:
        changed = False
        for total, parts in rels:
            members = [total, *parts]
            secret = [m for m in members if m in hidden]
            if not secret:
                continue
            mass = sum(values[p] for p in parts if p in hidden)
            if len(secret) > 1 and (total in hidden or mass >= PROTECTION):
                continue
            open_parts = sorted((p for p in parts if p not in hidden and values[p] > 0), key=lambda p: values[p])
            pick = open_parts[0] if open_parts else (total if total not in hidden and values[total] else None)
            if pick is not None:
                hidden.add(pick)
                changed = True
    return hidden


def solve(con: duckdb.DuckDBPyConnection) -> int:
    """Decide every cell of pub_cells (its `hidden` column); returns how many are hidden."""
    cells_found = con.execute("select quarter, family, entity_id, agency_type, categorization, category, value, "
                              "agencies, dominated from pub_cells").fetchall()
    people = {f.name: f.people for f in FAMILIES}
    problems: dict[tuple[str, str], dict[Key, tuple[float, bool]]] = defaultdict(dict)
    for q, fam, ent, kind, cz, cat, value, agencies, dominated in cells_found:
        problems[(q, fam)][(ent, kind, cz, cat)] = (float(value), primary(value, agencies, dominated, people[fam]))
    rows = []
    for (q, fam), cells in problems.items():
        values = {k: v for k, (v, _) in cells.items()}
        for key in suppress(values, {k for k, (_, h) in cells.items() if h}):
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
    "retention_12m": ("cohort", "cohort:RETAINED", "cohort:LEFT"),
    "billing_sustainability": ("peers", "units_adjudicated:PAID"),
}
"""What each integration index component rests on (targets and weights are state policy, always shown)."""

COMPONENT = "=component"
"""Rests on the cells of the row's own component (COMPONENTS)."""
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "kpi_scorecard": {
        "peer_fulltime_count": ("peers:FULLTIME",), "clinician_headcount_count": ("clinicians",),
        "clinician_fte": ("clinicians",), "supervisor_headcount_count": ("supervisors",),
        "trained_supervisor_count": ("supervisors:TRAINED",), "cert_peer_count": ("cert",),
        "certified_active_count": ("cert:CERTIFIED_ACTIVE",), "turnover_window_separations_count": ("leavers_4q",),
        "retention_cohort_hires_count": ("cohort",), "retained_12m_count": ("cohort:RETAINED",),
        "units_billed_count": ("units_billed",), "group_units_billed_count": ("units_billed:GROUP",),
        "units_denied_count": ("units_adjudicated:DENIED",), "beneficiaries_count": ("beneficiaries",),
        "paid_per_unit_usd": ("amount_paid", "units_adjudicated:PAID"),
        "units_paid_per_peer_fte": ("units_adjudicated:PAID", "peers"),
    },
    "kpi_integration_index": {f"{c}_{part}": refs for c, refs in COMPONENTS.items() for part in ("value", "score")},
    "kpi_integration_components": {"component_value": (COMPONENT,), "sub_score": (COMPONENT,)},
    "kpi_workforce_by_role": {"headcount_count": ("peers:{role}",), "fte": ("peers:{role}",),
                              "vacancy_rate_pct": ("peers:{role}",)},
    "kpi_certification_status": {"peer_count": ("cert:{status}",)},
    "kpi_separation_reasons": {"separations_count": ("leavers_4q:{separation_reason}",)},
}
"""Columns published beside the registry's metrics, and the cells each rests on ('family' is its total,
'family:category' one category, 'family@k' the total k quarters earlier, '{column}' the row's value)."""

KEYS = {  # the columns that identify a row and carry no figure: shown as they are
    "kpi_scorecard": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal", "quarter_start",
                      "quarter_end", "population_count"),
    "kpi_integration_index": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                              *(f"{c}_target" for c in COMPONENTS)),
    "kpi_integration_components": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                                   "component", "component_order", "component_label", "higher_is_better",
                                   "target_value", "weight"),
    "kpi_workforce_by_role": ("level", "entity_id", "region_id", "agency_type", "quarter", "role", "role_label",
                              "is_peer", "role_order"),
    "kpi_certification_status": ("level", "entity_id", "region_id", "quarter", "role", "status"),
    "kpi_separation_reasons": ("level", "entity_id", "region_id", "quarter", "separation_reason"),
}
ROWS = {"kpi_certification_status": "role = 'ALL'"}
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
) group by all
"""


def _ref_sql(ref: str) -> str:
    """A cell reference as SQL: fixed text, or text built from the row's column named in braces."""
    head, brace, rest = ref.partition("{")
    if not brace:
        return "'" + ref.replace("'", "''") + "'"
    column = rest.split("}", 1)[0]
    return f"'{head}' || v.{column}" if head else f"v.{column}"


def _refs_sql(refs: tuple[str, ...]) -> str:
    if refs == (COMPONENT,):
        cases = " ".join(f"when '{c}' then [{', '.join(map(_ref_sql, r))}]" for c, r in COMPONENTS.items())
        return f"case v.component {cases} else ['?'] end"
    return "[" + ", ".join(_ref_sql(r) for r in refs) + "]"


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
            refs = _refs_sql(rules[column])
            ok = f"list_has_all(coalesce(s.refs, []), {refs})"
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


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the layer from the current KPI views (inside the caller's transaction); returns the number of
    hidden cells."""
    con.execute(AGENCY_CELLS)
    con.execute(PLACE_CELLS.format(small=SMALLEST_SHOWN - 1, by_type=", ".join(f"'{f}'" for f in BY_TYPE)))
    hidden = solve(con)
    con.execute(SHOWN_REFS)
    for view in KEYS:
        con.execute(view_sql(con, view))
    return hidden
