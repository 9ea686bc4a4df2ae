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

Integration practices and stage progression. The self-assessment's figures are organizational ratings (0-4
means over practices) and counts of actions, not counts of people; what protects them is the number of
agencies behind them:
- ``practice`` cells hold each agency's in-scope items per domain (the total: every item), from its latest
  assessment in the practice pillar's window (the quarter or the one before). A place's ratings, scores and
  action counts for a domain are shown only where at least FEWEST_AGENCIES agencies were assessed in it.
  Ratings pool agencies' items (ratio of sums), so both numerator and denominator add up from regions to the
  state and from domains to 'ALL': a hidden place or domain is never alone in either relation, and the hidden
  cells of a relation rest on at least FEWEST_AGENCIES agencies together (an agency taking itself away keeps
  a combined figure of at least two others). The item counts are the cells' values (never shown).
- ``practice_peers`` cells hold each agency's peer respondents (the most on any of its items): peer ratings
  and the peer-voice gap are shown only where at least FEWEST_AGENCIES agencies have a peer rating and the
  respondents are not 1-10, nor 1-10 once one agency's are taken away; hidden ones are protected like counts
  of people. Respondent counts themselves are never shown.
- Practice figures are published only for practice rounds (``pub_practice_rounds``): quarters of the year the
  policy names for the self-assessment whose quarter before is not one, so that the windows of two published
  rounds never share an assessment and one round cannot be subtracted from the next. Action counts (each
  agency's latest plan as of the quarter) follow the same rounds and cells.
- ``transitions`` cells hold each agency's move between its stage a year before and now (1 in one from x to
  category of 16, 0 in the others). Those cells add up from regions to the state and from categories to the
  agencies compared, so a count of 1 or 2 in a region could be worked out from the state and the other regions,
  and then an agency user who knows its own move would know the other's. So a cell is hidden where it rests on
  1 or 2 agencies, where the place compared fewer than FEWEST_AGENCIES agencies, where it holds all of the
  place's agencies or all but one (every agency's move, or every other agency's to the one outside it), and
  every category of a place whose agencies all made the same move (its zeros would tell); complementary
  suppression then hides, in every relation with a hidden cell, enough cells that together they rest on at
  least FEWEST_AGENCIES agencies. The agencies compared are treated as known to readers.
"""

from __future__ import annotations

import re
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
    by_agency: bool = False
    """Its hidden cells are protected by the agencies behind them (at least FEWEST_AGENCIES in every relation),
    not by their mass: ratings' item counts, counts of agencies."""
    partition: bool = False
    """Each agency falls in exactly one category of it: a category holding (nearly) all of a place's agencies
    tells each one's."""
    rated: bool = False
    """Its values are never shown (the figures resting on it are ratings): the LP audit has nothing to solve."""


FAMILIES = (
    Family("peers", True), Family("clinicians", True), Family("supervisors", True),
    Family("cert", True), Family("leavers_4q", True), Family("cohort", True), Family("beneficiaries", True),
    Family("units_billed", False), Family("units_adjudicated", False), Family("amount_paid", False),
    Family("peer_fte_billing", False),
    Family("practice", False, by_agency=True, rated=True), Family("practice_peers", True, rated=True),
    Family("transitions", False, by_agency=True, partition=True),
)
STAGES = ((0, "No peer workforce"), (1, "Emerging"), (2, "Developing"), (3, "Integrated"))
"""The integration stages by stage_order, as kpi_integration_index names them."""
YEAR_END = "year-end"
"""A pseudo-cell shown only in Q4. Every figure over a rolling 4-quarter window rests on it: counts
(separations, the retention cohort), rates (turnover, 12-month retention, shares of reasons) and what is
computed from them (the retention component, and so the integration index while retention is scored).
A window in every quarter would let a reader subtract one window from the next, or chain exact rates of
overlapping windows, and recover single quarters."""


PRACTICE_ROUND = "practice-round"
"""A pseudo-cell shown only in practice rounds (pub_practice_rounds): every practice figure rests on it."""


def yearly(refs: tuple[str, ...]) -> bool:
    """Published only for quarters ending a calendar year."""
    return YEAR_END in refs or INDEX in refs or WORKFORCE in refs

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
practice_window as (  -- each agency's latest assessment in the quarter or the one before (the pillar's window)
    select q.quarter, a.agency_id, max(a.quarter_ordinal) as practice_ordinal
    from dim_quarter q join (select distinct agency_id, quarter_ordinal from stg_practices) a
        on a.quarter_ordinal between q.quarter_ordinal - 1 and q.quarter_ordinal
    group by all
),
practice_items as (
    select w.quarter, w.agency_id, p.domain, p.in_scope, p.rating_peers, p.peer_respondents_count
    from practice_window w join stg_practices p on p.agency_id = w.agency_id and p.quarter_ordinal = w.practice_ordinal
    where p.domain is not null
),
practice_sums as (  -- per agency and domain ('' = every item): in-scope items, most peer respondents on any of them
    select quarter, agency_id, coalesce(domain, '') as domain, count(*) filter (where in_scope) as items,
        coalesce(max(peer_respondents_count) filter (where in_scope and rating_peers is not null), 0) as respondents
    from practice_items group by grouping sets ((quarter, agency_id, domain), (quarter, agency_id))
),
practice as (  -- every domain of the reference for every agency assessed, 0 where it has none in scope
    select w.quarter, w.agency_id, g.region_id, g.agency_type, d.domain,
        coalesce(s.items, 0) as items, coalesce(s.respondents, 0) as respondents
    from (select distinct quarter, agency_id from practice_sums) w
    join agencies g using (agency_id)
    cross join (select distinct domain from integration_practices union all select '') d
    left join practice_sums s on s.quarter = w.quarter and s.agency_id = w.agency_id and s.domain = d.domain
),
moves as (
    select t.quarter, t.entity_id as agency_id, t.region_id, g.agency_type,
        cast(t.from_stage_order as varchar) || '>' || cast(t.to_stage_order as varchar) as move
    from kpi_stage_transitions t join agencies g on g.agency_id = t.entity_id where t.level = 'agency'
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
    union all select quarter, agency_id, region_id, agency_type, 'practice', case when domain = '' then '' else
        'domain' end, domain, items from practice
    union all select quarter, agency_id, region_id, agency_type, 'practice_peers', case when domain = '' then ''
        else 'domain' end, domain, respondents from practice
    union all select quarter, agency_id, region_id, agency_type, 'transitions', '', '', 1 from moves
    union all select m.quarter, m.agency_id, m.region_id, m.agency_type, 'transitions', 'stage',
        cast(f.o as varchar) || '>' || cast(t.o as varchar),
        case when m.move = cast(f.o as varchar) || '>' || cast(t.o as varchar) then 1 else 0 end
        from moves m cross join range(0, {stages}) f(o) cross join range(0, {stages}) t(o)
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


def telling(values: dict[Key, float], agencies: dict[str, int]) -> set[Key]:
    """Cells of a family whose agencies each fall in one category (Family.partition) that tell agencies'
    categories: a category holding all of a place's agencies or all but one, and every category of a place
    whose agencies all fall in one (with the others shown as 0, hiding that one would not help)."""
    found: set[Key] = set()
    spread: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    for key, value in values.items():
        entity, kind, cz, _ = key
        if not cz:
            continue
        spread[(entity, kind, cz)].append(key)
        if value > 0 and value >= agencies.get(entity, 0) - 1:
            found.add(key)
    for cells in spread.values():
        if sum(values[k] > 0 for k in cells) == 1:
            found.update(cells)
    return found


def suppress(values: dict[Key, float], hidden: set[Key], own: dict[Key, dict[str, float]] | None = None,
             keep: frozenset[str] = frozenset(), by_agency: bool = False) -> set[Key]:
    """Complementary suppression over one problem: add hidden cells until every relation protects its own.

    A relation with exactly one hidden member would give it away; one whose total is shown and whose hidden
    parts add up to less than PROTECTION would pin them to a narrow range, and so would one where they do
    only until some agency takes its own parts away (`own`: each cell's part per agency). `by_agency`: the
    hidden parts must instead rest on at least FEWEST_AGENCIES agencies together. Either way one more
    non-zero member is hidden: the smallest, preferring cells whose category is not in `keep` (the categories,
    '' for the total, that the integration index rests on)."""
    hidden, own = set(hidden), own or {}
    enough = _agencies if by_agency else _mass
    floor = FEWEST_AGENCIES if by_agency else PROTECTION
    rels = relations(set(values))
    changed = True
    while changed:
        changed = False
        for total, parts in rels:
            secret = [m for m in (total, *parts) if m in hidden]
            if not secret:
                continue
            if len(secret) > 1 and (total in hidden or enough(parts, hidden, values, own) >= floor):
                continue
            members = [m for m in (*parts, total) if m not in hidden and values[m] > 0]
            pick = min(members, key=lambda m: (m[3] in keep, m == total, values[m], m), default=None)
            if pick is not None:
                hidden.add(pick)
                changed = True
        if by_agency and not changed:
            bridge = _bridge(values, hidden)
            if bridge is not None:
                hidden.add(bridge)
                changed = True
    return hidden


def _bridge(values: dict[Key, float], hidden: set[Key]) -> Key | None:
    """A cell that puts a pinned hidden cell on a cycle, or None when every hidden cell is on one.

    One quarter of a family with one categorization is a table of places x categories whose margins are the
    state row and the total column: a hidden cell can be moved, keeping every sum, only along a cycle of
    hidden cells alternating between its row and column; one on no cycle (a bridge of that graph) is pinned
    however many hidden cells its relations hold. The cell returned is the smallest shown one that joins the
    two sides of the first bridge (in key order) that any shown cell can join (a non-zero one if there is
    one)."""
    edges = sorted(hidden & set(values))
    links = _links(edges)
    for i in sorted(_bridges(links)):
        side = _reach(("row", edges[i][0]), links, i)
        other = _reach(("col", edges[i][2:]), links, i)
        joins = [k for k in values if k not in hidden
                 and {("row", k[0]), ("col", k[2:])} & side and {("row", k[0]), ("col", k[2:])} & other]
        if joins:
            return min(joins, key=lambda k: (values[k] == 0, values[k], k))
    return None


Node = tuple[str, object]  # ("row", place) or ("col", (categorization, category))


def _links(edges: list[Key]) -> dict[Node, list[tuple[Node, int]]]:
    """The row-column graph of the hidden cells: each node's neighbours, with the index of the cell between."""
    links: dict[Node, list[tuple[Node, int]]] = defaultdict(list)
    for i, e in enumerate(edges):
        links[("row", e[0])].append((("col", e[2:]), i))
        links[("col", e[2:])].append((("row", e[0]), i))
    return links


def _bridges(links: dict[Node, list[tuple[Node, int]]]) -> set[int]:
    """The cells on no cycle (Tarjan's bridges, iterative; two cells between the same row and column make a
    cycle): one depth-first pass instead of a search per cell."""
    order: dict[Node, int] = {}
    low: dict[Node, int] = {}
    found: set[int] = set()
    for root in list(links):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, -1, iter(links[root]))]
        while stack:
            node, via, todo = stack[-1]
            for nxt, i in todo:
                if i == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, i, iter(links[nxt])))
                    break
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.add(via)
    return found


def _reach(start: Node, links: dict[Node, list[tuple[Node, int]]], without: int) -> set[Node]:
    """The rows and columns connected to `start` through the hidden cells but the one at index `without`."""
    seen, todo = {start}, [start]
    while todo:
        for nxt, i in links.get(todo.pop(), ()):
            if i != without and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _mass(parts: list[Key], hidden: set[Key], values: dict[Key, float], own: dict[Key, dict[str, float]]) -> float:
    """What the hidden parts add up to, less the most that any one agency knows of them."""
    secret = [p for p in parts if p in hidden]
    known: dict[str, float] = defaultdict(float)
    for p in secret:
        for agency, part in own.get(p, {}).items():
            known[agency] += part
    return sum(values[p] for p in secret) - max(known.values(), default=0.0)


def _agencies(parts: list[Key], hidden: set[Key], values: dict[Key, float],
              own: dict[Key, dict[str, float]]) -> float:
    """How many agencies the hidden parts rest on together."""
    return len({agency for p in parts if p in hidden for agency, part in own.get(p, {}).items() if part})


def solve(con: duckdb.DuckDBPyConnection, since: str | None = None) -> int:
    """Decide every cell of pub_cells (its `hidden` column), or those of quarter `since` and later; returns how
    many of them are hidden."""
    since = since or ""
    cells_found = con.execute("select quarter, family, entity_id, agency_type, categorization, category, value, "
                              "agencies, contributors, dominated from pub_cells where quarter >= ?", [since]
                              ).fetchall()
    families = {f.name: f for f in FAMILIES}
    people = {f.name: f.people for f in FAMILIES}
    problems: dict[tuple[str, str], dict[Key, tuple[float, bool]]] = defaultdict(dict)
    behind: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)  # agencies behind each place's total
    for q, fam, ent, kind, cz, cat, value, agencies, contributors, dominated in cells_found:
        problems[(q, fam)][(ent, kind, cz, cat)] = (
            float(value), primary(value, agencies, contributors, dominated, people[fam]))
        behind[(q, fam)][ent] = agencies
    # each agency's non-zero parts, for the problems that weigh them (a zero part tells no agency anything)
    weighed = [f.name for f in FAMILIES if f.people or f.by_agency]
    parts: dict[tuple[str, str], dict[Key, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for q, fam, agency, region, cz, cat, value in con.execute(
            "select quarter, family, agency_id, region_id, categorization, category, value "
            "from pub_agency_cells where quarter >= ? and value <> 0 and list_contains(?, family) "
            "and (not list_contains(?, family) or quarter like '%Q4')",
            [since, weighed, list(WINDOWED)]).fetchall():
        for key in ((region, "ALL", cz, cat), ("STATE", "ALL", cz, cat)):
            parts[(q, fam)][key][agency] = float(value)
    rows = []
    for (q, fam), cells in problems.items():
        family = families[fam]
        values, alone = {k: v for k, (v, _) in cells.items()}, {k for k, (_, h) in cells.items() if h}
        if family.partition:
            alone |= telling(values, behind[(q, fam)])
        if fam in WINDOWED and not q.endswith("Q4"):  # no count of theirs is published: rates need only primary
            chosen = alone
        else:
            chosen = suppress(values, alone, parts[(q, fam)] if fam in weighed else None,
                              KEEP.get(fam, frozenset()), family.by_agency)
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

WORKFORCE_COMPONENTS = {
    "peer_to_clinician_ratio": ("peers", "clinicians"),
    "pct_certified": ("cert", "cert:CERTIFIED_ACTIVE"),
    "supervision_coverage": ("peers", "supervisors:TRAINED"),
    "retention_12m": ("cohort", "cohort:RETAINED", "cohort:LEFT", YEAR_END),
    "billing_sustainability": ("peer_fte_billing", "peer_fte_billing:PAID", "peer_fte_billing:UNPAID"),
}
PRACTICE = ("practice", "practice_peers", PRACTICE_ROUND)
"""The practice pillar of a place: at least FEWEST_AGENCIES agencies assessed and its peer respondents shown (the
pillar averages peer ratings in: beside the leadership rating it would give them away), in a practice round."""
COMPONENTS = {**WORKFORCE_COMPONENTS, "practice": PRACTICE}
"""What each integration index component rests on (targets and weights are state policy, always shown)."""

COMPONENT = "=component"
"""Rests on the cells of the row's own component (COMPONENTS)."""
WORKFORCE = "=workforce"
"""The workforce pillar: every scored workforce component's cells. A sub-score of 100 or 0 needs them too: on
the floor -> target -> stretch scale 100 says the billing share is at or beyond the stretch, which bounds the
peer FTE of agencies that bill nothing to a few FTE (narrower than PROTECTION for a region under 400 peer FTE),
and 0 says it is at or below the floor, which proves such FTE there (a hidden cell away from 0)."""
INDEX = "=index"
"""The integration index, its stage and basis: the workforce pillar's cells, the peer headcount (a stage 'No peer
workforce' says it is 0) and, where the index scores practice, the practice pillar's."""
INDEX_CELLS = tuple(dict.fromkeys(r for refs in WORKFORCE_COMPONENTS.values() for r in refs if r != YEAR_END))
KEEP = {family: frozenset(r.partition(":")[2] for r in INDEX_CELLS if r.partition(":")[0] == family)
        for family in {r.partition(":")[0] for r in INDEX_CELLS}}
"""Per family, the categories ('' = the total) complementary suppression hides last: the index rests on them."""
WINDOWED = ("leavers_4q", "cohort")
"""Families counted over a rolling window: their counts are published only at YEAR_END."""
TOTAL = "ALL"
"""A row whose category column reads this (domain 'ALL') shows its family's total: 'practice:{domain}' is
'practice' there."""
RATINGS = ("practice:{domain}", PRACTICE_ROUND)
PEER_RATINGS = ("practice:{domain}", "practice_peers:{domain}", PRACTICE_ROUND)
"""Peer ratings, the peer-voice gap and the combined score (which mixes peer ratings in: with the leadership rating
and the public item weights, it gives the gap exactly)."""
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
    "kpi_integration_index": {f"{c}_{part}": refs for c, refs in WORKFORCE_COMPONENTS.items()
                              for part in ("value", "score")}
    | {"workforce_score": (WORKFORCE,), "components_scored_count": (WORKFORCE,), "practice_score": PRACTICE,
       "practice_quarter": PRACTICE, "index_score": (INDEX,), "stage": (INDEX,), "stage_order": (INDEX,),
       "index_basis": (INDEX,)},
    "kpi_integration_components": {"component_value": (COMPONENT,), "sub_score": (COMPONENT,), "band": (COMPONENT,),
                                   "practice_quarter": (COMPONENT,)},
    "kpi_workforce_by_role": {"headcount_count": ("peers:{role}",), "fte": ("peers:{role}",),
                              },
    "kpi_certification_status": {"peer_count": ("cert:{status}",)},
    "kpi_separation_reasons": {"separations_count": ("leavers_4q:{separation_reason}", YEAR_END)},
    "kpi_practice_domains": {"leadership_rating": RATINGS, "combined_score": PEER_RATINGS,
                             "peers_rating": PEER_RATINGS, "peer_voice_gap": PEER_RATINGS},
    "kpi_action_plan_status": {"actions_open_count": RATINGS, "actions_overdue_count": RATINGS,
                               "actions_done_count": RATINGS},
    "kpi_stage_transitions": {"agencies_count": ("transitions:{from_stage_order}>{to_stage_order}",)},
}
"""Columns published beside the registry's metrics, and the cells each rests on ('family' is its total,
'family:category' one category, 'family@k' the total k quarters earlier, '{column}' the row's value). The
registry's rests_on are overridden here for the index's columns. Never shown: respondent and item counts,
counts of agencies with open or overdue actions (counts of agencies with a property, 1 or 2 of which name
them)."""

KEYS = {  # the columns that identify a row and carry no figure: shown as they are
    "kpi_scorecard": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal", "quarter_start",
                      "quarter_end", "population_count"),
    "kpi_integration_index": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                              *(f"{c}_target" for c in WORKFORCE_COMPONENTS)),
    "kpi_integration_components": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                                   "component", "component_order", "component_label", "pillar", "direction",
                                   "higher_is_better", "floor_value", "target_value", "stretch_value", "weight",
                                   "contractual"),
    "kpi_workforce_by_role": ("level", "entity_id", "region_id", "agency_type", "quarter", "role", "role_label",
                              "is_peer", "role_order"),
    "kpi_certification_status": ("level", "entity_id", "region_id", "quarter", "role", "status"),
    "kpi_separation_reasons": ("level", "entity_id", "region_id", "quarter", "separation_reason"),
    "kpi_practice_domains": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal", "domain",
                             "domain_label", "domain_order"),
    "kpi_action_plan_status": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                               "domain"),
    "kpi_stage_transitions": ("level", "entity_id", "entity_name", "region_id", "quarter", "quarter_ordinal",
                              "from_quarter", "from_stage", "from_stage_order", "to_stage", "to_stage_order",
                              "direction"),
}
ROUNDS = "v.quarter in (select quarter from pub_practice_rounds)"
ROWS = {"kpi_certification_status": "v.role = 'ALL'", "kpi_workforce_by_role": "v.agency_type = 'ALL'",
        "kpi_practice_domains": ROUNDS, "kpi_action_plan_status": ROUNDS}
AGENCY_COUNTS = {"kpi_scorecard": ("agencies_reporting_count",), "kpi_workforce_by_role": ("agencies_count",),
                 "kpi_practice_domains": ("agencies_assessed_count", "agencies_with_peer_rating_count"),
                 "kpi_action_plan_status": ("agencies_assessed_count",),
                 "kpi_integration_index": ("practice_agencies_count",),
                 "kpi_integration_components": ("practice_agencies_count",)}
"""Counts of agencies, shown where at least FEWEST_AGENCIES."""
SOURCES = {"kpi_stage_transitions": "pub_stage_grid"}
"""Views whose pub_* twin is read from a grid with every row (the KPI view has only the non-zero ones, and a
missing row would tell a hidden count is 0)."""

PRACTICE_ROUNDS = """
create or replace view pub_practice_rounds as
with due as (
    select unnest(regexp_split_to_array(upper(trim(coalesce((select max(value) from policy
        where setting = '{setting}' and trim(value) <> ''), '{default}'))), '[\\s,;]+')) as due
)
select quarter from dim_quarter
where right(quarter, 2) in (select due from due)
    and 'Q' || cast((cast(right(quarter, 1) as integer) + 2) % 4 + 1 as varchar) not in (select due from due)
"""

STAGE_GRID = """
create or replace view pub_stage_grid as
with stages (stage_order, stage) as (values {stages}),
places as (select distinct quarter, level, entity_id from pub_cells where family = 'transitions')
select p.level, p.entity_id, e.entity_name, e.region_id, cast(null as varchar) as agency_id, q.quarter,
    q.quarter_ordinal, b.quarter as from_quarter, f.stage as from_stage, f.stage_order as from_stage_order,
    t.stage as to_stage, t.stage_order as to_stage_order,
    case when t.stage_order > f.stage_order then 'up' when t.stage_order < f.stage_order then 'down' else 'same' end
        as direction,
    cast(c.value as bigint) as agencies_count
from places p
join dim_quarter q on q.quarter = p.quarter
join dim_quarter b on b.quarter_ordinal = q.quarter_ordinal - 4
cross join stages f cross join stages t
left join pub_cells c on c.quarter = p.quarter and c.family = 'transitions' and c.entity_id = p.entity_id
    and c.categorization = 'stage'
    and c.category = cast(f.stage_order as varchar) || '>' || cast(t.stage_order as varchar)
left join dim_entity e on e.level = p.level and e.entity_id = p.entity_id
"""

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
    union all
    select distinct quarter, level, entity_id, agency_type, '{round}' from shown
    where quarter in (select quarter from pub_practice_rounds)
) group by all
"""


def _ref_sql(ref: str) -> str:
    """A cell reference as SQL: fixed text, or text built from the row's columns named in braces ('family:{c}'
    is the family's total where the row's c reads TOTAL)."""
    pieces = re.split(r"\{(\w+)\}", ref)
    if len(pieces) == 3 and pieces[0].endswith(":") and not pieces[2]:
        family, column = pieces[0][:-1], pieces[1]
        return f"case when v.{column} = '{TOTAL}' then '{family}' else '{pieces[0]}' || v.{column} end"
    sql = [f"cast(v.{p} as varchar)" if i % 2 else "'" + p.replace("'", "''") + "'"
           for i, p in enumerate(pieces) if i % 2 or p]
    return " || ".join(sql)


def _ok(refs: tuple[str, ...]) -> str:
    """SQL that is true where every cell in `refs` is shown for the row `v` (its shown cells: `s.refs`)."""
    def has(cells: tuple[str, ...]) -> str:
        return "list_has_all(coalesce(s.refs, []), [{}])".format(", ".join(map(_ref_sql, cells)))

    plain = tuple(r for r in refs if not r.startswith("="))
    parts = [has(plain)] if plain else []
    if COMPONENT in refs:
        cases = " ".join(f"when '{c}' then {has(r)}" for c, r in COMPONENTS.items())
        parts.append(f"case v.component {cases} else false end")
    if WORKFORCE in refs or INDEX in refs:
        for component, cells in WORKFORCE_COMPONENTS.items():
            parts.append(f"(v.{component}_value is null or {has(cells)})")
    if INDEX in refs:
        parts.append(has(("peers",)))
        parts.append(f"(v.practice_score is null or {has(PRACTICE)})")
    return "(" + " and ".join(parts) + ")"


def published(view: str) -> dict[str, tuple[str, ...]]:
    """Every measure column of `view` restricted readers may see, with the cells it rests on."""
    from pipelines.metrics import METRICS

    found = {m.column: m.rests_on for m in METRICS if m.rests_on and view in m.views}
    return {**found, **COLUMNS.get(view, {})}


def view_sql(con: duckdb.DuckDBPyConnection, view: str) -> str:
    """pub_<name> for kpi_<name>: its state and region rows, each measure null where a cell it rests on is
    hidden (or unknown), and `suppressed` naming those measures. Columns declared nowhere are always null."""
    source = SOURCES.get(view, view)
    columns = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
        [view]).fetchall()]
    keys, rules, agency_counts = KEYS[view], published(view), AGENCY_COUNTS.get(view, ())
    typed = "v.agency_type" if "agency_type" in columns else "'ALL'"
    select, hidden = [], []
    for column in columns:
        if column in keys:
            select.append(f"v.{column}")
        elif column in agency_counts:
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
            f"from {source} v left join pub_shown_refs s on s.quarter = v.quarter and s.level = v.level "
            f"and s.entity_id = v.entity_id and s.agency_type = {typed} where {rows}")


def _type(con: duckdb.DuckDBPyConnection, view: str, column: str) -> str:
    return con.execute("select data_type from information_schema.columns where table_name = ? and column_name = ?",
                       [view, column]).fetchall()[0][0]


def protect(con: duckdb.DuckDBPyConnection, since: str | None = None) -> int:
    """pub_cells from pub_agency_cells, every cell decided (or only those of quarter `since` and later: each
    quarter is its own set of problems); returns the number of hidden cells decided."""
    _build(con, PLACE_CELLS.format(small=SMALLEST_SHOWN - 1), "pub_cells", since)
    return solve(con, since)


def _build(con: duckdb.DuckDBPyConnection, create_sql: str, table: str, since: str | None) -> None:
    from pipelines import metrics

    exists = con.execute("select count(*) from duckdb_tables() where table_name = ? and database_name = "
                         "current_database()", [table]).fetchall()[0][0]
    if since is None or not exists:
        con.execute(create_sql)
    else:
        metrics.refresh_rows(con, table, create_sql, since)


def refresh(con: duckdb.DuckDBPyConnection, since: str | None = None) -> int:
    """Rebuild the layer from the current KPI views (inside the caller's transaction), all of it or only the
    quarters from `since` on (see metrics.refresh); returns the number of hidden cells decided."""
    from pipelines.compliance import DUE_QUARTERS

    views_exist = con.execute("select count(*) from duckdb_views() where view_name = 'pub_shown_refs' and "
                              "database_name = current_database()").fetchall()[0][0]
    setting, default = DUE_QUARTERS["practices"]
    if since is None or not views_exist:
        con.execute(PRACTICE_ROUNDS.format(setting=setting, default=default))
    _build(con, AGENCY_CELLS.format(stages=len(STAGES)), "pub_agency_cells", since)
    hidden = protect(con, since)
    if since is not None and views_exist:
        return hidden  # the views read the tables just refreshed; they depend only on the schema
    con.execute(SHOWN_REFS.format(year_end=YEAR_END, round=PRACTICE_ROUND))
    con.execute(STAGE_GRID.format(stages=", ".join(f"({order}, '{name}')" for order, name in STAGES)))
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
        "pub_practice_rounds": "Protected layer: the quarters for which practice figures are published (due "
                               "quarters of the self-assessment whose quarter before is not one).",
        "pub_stage_grid": "Protected layer: every place x quarter x stage a year before x stage now with its count "
                          "of agencies (0 included), before suppression; state staff only.",
    }
    for view in KEYS:
        found["pub_" + view.removeprefix("kpi_")] = (
            f"{view}'s state and region rows as readers outside the state office see them: measures resting on a "
            "hidden cell are null and named in `suppressed`.")
    return found
