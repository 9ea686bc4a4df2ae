"""The protected publication layer under attack: the LP audit on the demo state and on a warehouse rich in
small cells, a deliberately broken layer that the audit must catch, and hand-computed suppression rules."""

from __future__ import annotations

import random

import duckdb
import pytest

from pipelines import privacy_audit, publication
from pipelines.publication import PROTECTION, primary, relations, suppress
from tests.test_app import snapshot


@pytest.fixture(scope="module")
def demo_layer(demo_warehouse):
    """The demo state's published snapshot, as analysts and the dashboard read it."""
    con = duckdb.connect(str(snapshot(demo_warehouse)), read_only=True)
    yield con
    con.close()


def test_demo_layer_withstands_the_lp_audit_for_the_public_and_agency_users(demo_layer):
    agencies = privacy_audit.largest_agencies(demo_layer, 3)
    smallest_region_agencies = [r[0] for r in demo_layer.execute(
        "select agency_id from agencies where region_id = (select region_id from agencies group by 1 "
        "order by count(*) limit 1) order by agency_id limit 2").fetchall()]
    result = privacy_audit.audit(demo_layer, (None, *agencies, *smallest_region_agencies))
    print(f"demo: {result.audited} hidden cells audited, narrowest interval {result.narrowest}")
    assert result.audited > 1000  # the demo state has real small cells, and they are all audited
    assert result.inconsistent == []
    assert result.exposures == []
    assert result.narrowest >= privacy_audit.WIDEST_PINNED


def test_every_1_to_10_count_is_hidden_and_everything_shown_is_the_true_value(demo_layer):
    harvest = privacy_audit.harvest(demo_layer)
    truth = {(q, f, k[0], k[1], k[2], k[3]): (v, h) for q, f, *k, v, h in demo_layer.execute(
        "select quarter, family, entity_id, agency_type, categorization, category, value, hidden "
        "from pub_cells").fetchall()}
    people = {f.name for f in publication.FAMILIES if f.people}
    shown = 0
    for (q, fam), cells in harvest.values.items():
        for key, value in cells.items():
            true, hidden = truth[(q, fam, *key)]
            assert value == pytest.approx(true) and not hidden
            assert fam not in people or not 1 <= value <= 10
            shown += 1
    small = [k for k, (v, h) in truth.items() if k[1] in people and 1 <= v <= 10]
    assert small and all(truth[k][1] for k in small)
    assert shown > 1000


def test_agency_level_facts_never_reach_restricted_readers(demo_layer):
    # every shown cell rests on at least 3 agencies; agency counts below 3 are null
    assert demo_layer.execute("select count(*) from pub_cells where not hidden and agencies between 1 and 2"
                              ).fetchall() == [(0,)]
    assert demo_layer.execute("select count(*) from pub_scorecard where agencies_reporting_count < 3"
                              ).fetchall() == [(0,)]
    # no split by agency type reaches them: the type dimension exists only for state roles
    assert demo_layer.execute("select count(*) from pub_workforce_by_role where agency_type <> 'ALL'"
                              ).fetchall() == [(0,)]


def test_an_agency_user_cannot_subtract_itself_from_any_shown_place_figure(demo_layer):
    left = demo_layer.execute(
        "select count(*) from pub_cells p join pub_agency_cells a on a.quarter = p.quarter and a.family = p.family "
        "and a.categorization = p.categorization and a.category = p.category "
        "and (p.level = 'state' or a.region_id = p.entity_id) "
        "where not p.hidden and p.family in ('peers', 'clinicians', 'supervisors', 'cert', 'leavers_4q', 'cohort', "
        "'beneficiaries') and p.value - a.value between 1 and 10").fetchall()
    assert left == [(0,)]


# --- a warehouse rich in small cells --------------------------------------------------------------------

ROLES = ("MH", "SUD", "FAMILY", "YOUTH", "FORENSIC")
STATUSES = ("ACTIVE", "PROVISIONAL", "LAPSED", "REVOKED")


def small_cell_state(seed: int) -> duckdb.DuckDBPyConnection:
    """Four regions of 3 to 7 agencies, two quarters, peers by role and by schedule and certification by status,
    agency counts of 0-6 so that many place cells are 1-10."""
    rng = random.Random(seed)
    rows = []
    agency = 0
    for region in ("R1", "R2", "R3", "R4"):
        for _ in range(rng.randint(3, 7)):
            agency += 1
            for quarter in ("2026-Q1", "2026-Q2"):
                roles = [rng.choice((0, 0, rng.randint(1, 6))) for _ in ROLES]
                full = rng.randint(0, sum(roles))
                rows += [(quarter, f"A{agency}", region, "CMHC", "peers", "", "", sum(roles)),
                         (quarter, f"A{agency}", region, "CMHC", "peers", "schedule", "FULLTIME", full),
                         (quarter, f"A{agency}", region, "CMHC", "peers", "schedule", "PARTTIME", sum(roles) - full)]
                rows += [(quarter, f"A{agency}", region, "CMHC", "peers", "role", r, n) for r, n in zip(ROLES, roles)]
                status = [rng.choice((0, rng.randint(1, 4))) for _ in STATUSES]
                rows += [(quarter, f"A{agency}", region, "CMHC", "cert", "", "", sum(status))]
                rows += [(quarter, f"A{agency}", region, "CMHC", "cert", "status", s, n)
                         for s, n in zip(STATUSES, status)]
    con = duckdb.connect()
    con.execute("create table pub_agency_cells (quarter varchar, agency_id varchar, region_id varchar, "
                "agency_type varchar, family varchar, categorization varchar, category varchar, value bigint)")
    con.executemany("insert into pub_agency_cells values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    publication.protect(con)
    return con


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_small_cell_state_withstands_the_lp_audit(seed):
    con = small_cell_state(seed)
    agencies = tuple(r[0] for r in con.execute("select distinct agency_id from pub_agency_cells order by 1"
                                                ).fetchall())  # every agency user
    result = privacy_audit.audit(con, (None, *agencies))
    small = con.execute("select count(*) from pub_cells where value between 1 and 10").fetchall()[0][0]
    print(f"seed {seed}: {small} cells of 1-10, {result.audited} hidden cells audited, narrowest {result.narrowest}")
    assert small > 20
    assert result.exposures == []


def test_a_layer_missing_one_complementary_cell_fails_the_audit():
    """Shows the audit has teeth: reveal one cell hidden only to protect another, and it must say so."""
    con = small_cell_state(1)
    people = {f.name: f.people for f in publication.FAMILIES}
    caught = 0
    for q, fam, ent, kind, cz, cat, value, agencies, contributors, dominated in con.execute(
            "select quarter, family, entity_id, agency_type, categorization, category, value, agencies, contributors, "
            "dominated from pub_cells where hidden order by quarter, family, entity_id, categorization, category"
            ).fetchall():
        if primary(value, agencies, contributors, dominated, people[fam]):
            continue  # a complementary cell: hidden only for another's sake
        con.execute("update pub_cells set hidden = false where quarter = ? and family = ? and entity_id = ? and "
                    "agency_type = ? and categorization = ? and category = ?", [q, fam, ent, kind, cz, cat])
        caught += bool(privacy_audit.audit(con).exposures)
        con.execute("update pub_cells set hidden = true where quarter = ? and family = ? and entity_id = ? and "
                    "agency_type = ? and categorization = ? and category = ?", [q, fam, ent, kind, cz, cat])
        if caught >= 3:
            break
    assert caught >= 3


# --- the rules, by hand ----------------------------------------------------------------------------------

def test_primary_rule_boundaries():
    assert [primary(v, 5, 5, False, True) for v in (0, 1, 10, 11)] == [False, True, True, False]
    assert primary(500, 2, 2, False, True) and primary(500, 1, 1, False, False)  # one or two agencies: theirs
    assert primary(500, 9, 2, False, False)  # nine report, two have any: it is those two's figure
    assert primary(500, 2, 0, False, False)  # a place where two agencies report: even a 0 is theirs
    assert not primary(500, 3, 3, False, True) and not primary(0, 9, 0, False, True)
    assert primary(500, 9, 9, True, True) and not primary(500, 9, 9, True, False)  # dominance counts people only


def test_relations_keep_each_categorization_apart():
    keys = {("STATE", "ALL", "", ""), ("R1", "ALL", "", ""), ("R2", "ALL", "", ""),
            ("R1", "ALL", "role", "A"), ("R1", "ALL", "role", "B"), ("R1", "ALL", "schedule", "FT")}
    found = {(t, tuple(p)) for t, p in relations(keys)}
    assert (("R1", "ALL", "", ""), (("R1", "ALL", "role", "A"), ("R1", "ALL", "role", "B"))) in found
    assert (("R1", "ALL", "", ""), (("R1", "ALL", "schedule", "FT"),)) in found
    assert (("STATE", "ALL", "", ""), (("R1", "ALL", "", ""), ("R2", "ALL", "", ""))) in found


def test_a_lone_hidden_cell_takes_the_smallest_partner_and_enough_of_them():
    total, cells = ("R1", "ALL", "", ""), {("R1", "ALL", "s", c): v for c, v in
                                           zip("ABCDE", (4, 12, 15, 40, 0))}
    values = {total: 71, **cells}
    hidden = suppress(values, {("R1", "ALL", "s", "A")})
    # 4 alone would be total minus the rest; 4 + 12 = 16 < PROTECTION, so 15 goes too; 0 never helps
    assert {k[3] for k in hidden} == {"A", "B", "C"}
    assert sum(values[k] for k in hidden) >= PROTECTION


def test_the_same_data_always_hides_the_same_cells():
    """Two publications of the same data must not hide different cells, or a reader holding both could
    combine them: the choice may not depend on Python's per-process string hashing."""
    import os
    import subprocess
    import sys

    script = ("from tests.test_publication import small_cell_state; con = small_cell_state(2); print(con.execute("
              "'select quarter, family, entity_id, categorization, category from pub_cells where hidden "
              "order by all').fetchall())")
    runs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           cwd=os.path.dirname(os.path.dirname(__file__)),
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(runs) == 1 and "peers" in runs.pop()


# --- integration practices and stage progression -------------------------------------------------------

ROUNDS = ("2024-Q2", "2024-Q4", "2025-Q2", "2025-Q4", "2026-Q2")
CRAFTED = "2025-Q4"
FEW = "R4"  # in CRAFTED only two of its agencies assess
QUIET = "R1"  # in CRAFTED five of its agencies have a peer rating, from one respondent each


def add_practices(con: duckdb.DuckDBPyConnection, seed: int = 7) -> None:
    """Self-assessments of every agency in each round (a tenth of them a quarter late), random ratings and
    plans, with FEW and QUIET crafted as above."""
    rng = random.Random(seed)
    items = [r[0] for r in con.execute("select practice_code from integration_practices order by 1").fetchall()]
    agencies = con.execute("select agency_id, region_id from agencies order by 1").fetchall()
    few = [a for a, r in agencies if r == FEW][:2]
    quiet = [a for a, r in agencies if r == QUIET][:5]
    rows, submission = [], 900000
    for quarter in ROUNDS:
        year, q = quarter.split("-Q")
        for agency, region in agencies:
            if region == FEW and quarter == CRAFTED and agency not in few:
                continue
            late = region not in (FEW, QUIET) and rng.random() < 0.1
            submission += 1
            base = rng.randint(0, 4)
            if region == QUIET and quarter == CRAFTED:
                respondents = 1 if agency in quiet else 0
            else:
                respondents = rng.choice((0, rng.randint(2, 12)))
            for code in items:
                lead = max(0, min(4, base + rng.randint(-1, 1)))
                peers = max(0, lead - rng.randint(0, 2)) if respondents else None
                status = rng.choice(("NONE", "NONE", "PLANNED", "IN_PROGRESS", "DONE"))
                rows.append((submission, 1, agency, f"{year}-Q{int(q) + 1}" if late else quarter, code, lead, peers,
                             respondents, status, None if status == "NONE" else "HR",
                             f"{year}-Q4" if status in ("PLANNED", "IN_PROGRESS") else None))
    con.execute("delete from practices")
    con.executemany("insert into practices values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


@pytest.fixture(scope="module")
def practice_state(demo_warehouse, tmp_path_factory):
    """The demo state with generated self-assessments, every view and the layer recomputed."""
    import shutil

    from pipelines import metrics

    path = tmp_path_factory.mktemp("practices") / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, path)
    con = duckdb.connect(str(path))
    con.execute("begin")
    add_practices(con)
    metrics.refresh(con)
    con.execute("commit")
    yield con
    con.close()


def rows(con, sql: str, *params) -> list[dict]:
    return con.execute(sql, list(params)).fetch_df().to_dict("records")


def test_a_place_with_two_assessed_agencies_shows_no_practice_figure(practice_state):
    con = practice_state
    truth = {r["domain"]: r for r in rows(con, "select * from kpi_practice_domains where level = 'region' and "
                                               "entity_id = ? and quarter = ?", FEW, CRAFTED)}
    assert truth["ALL"]["agencies_assessed_count"] == 2 and truth["ALL"]["leadership_rating"] is not None
    shown = rows(con, "select * from pub_practice_domains where entity_id = ? and quarter = ?", FEW, CRAFTED)
    assert len(shown) == len(truth)
    for row in shown:
        assert all(pd_null(row[c]) for c in ("leadership_rating", "combined_score", "peers_rating", "peer_voice_gap",
                                              "agencies_assessed_count", "peer_respondents_count", "items_count"))
        assert "leadership_rating" in row["suppressed"]
    for row in rows(con, "select * from pub_action_plan_status where entity_id = ? and quarter = ?", FEW, CRAFTED):
        assert all(pd_null(row[c]) for c in ("actions_open_count", "actions_overdue_count", "actions_done_count"))
        assert "actions_open_count" in row["suppressed"]
    index, = rows(con, "select * from pub_integration_index where entity_id = ? and quarter = ?", FEW, CRAFTED)
    assert pd_null(index["practice_score"]) and pd_null(index["index_score"]) and pd_null(index["stage"])
    assert "practice_score" in index["suppressed"] and "index_score" in index["suppressed"]


def test_a_region_where_five_peers_responded_shows_no_peer_rating(practice_state):
    con = practice_state
    truth, = rows(con, "select * from kpi_practice_domains where level = 'region' and entity_id = ? and quarter = ? "
                       "and domain = 'ALL'", QUIET, CRAFTED)
    assert truth["peer_respondents_count"] == 5 and truth["agencies_with_peer_rating_count"] == 5
    assert truth["peers_rating"] is not None
    shown, = rows(con, "select * from pub_practice_domains where entity_id = ? and quarter = ? and domain = 'ALL'",
                  QUIET, CRAFTED)
    assert pd_null(shown["peers_rating"]) and pd_null(shown["peer_voice_gap"])
    assert shown["leadership_rating"] == pytest.approx(truth["leadership_rating"])  # the organization's own view
    assert shown["agencies_with_peer_rating_count"] == 5
    # respondent counts never reach restricted readers; no practice figure outside the practice rounds
    assert con.execute("select count(*) from pub_practice_domains where peer_respondents_count is not null"
                       ).fetchall() == [(0,)]
    assert {r[0] for r in con.execute("select distinct quarter from pub_practice_domains").fetchall()} <= set(ROUNDS)


def pd_null(value) -> bool:
    return value is None or value != value


def test_hidden_practice_ratings_cannot_be_worked_out_from_the_state_or_the_other_domains(practice_state):
    """The attack: a rating is a ratio of sums, and both sums add up from regions to the state and from domains to
    'ALL' (the item weights are public). Whatever a reader sees, the hidden places of a domain, or the hidden
    domains of a place, are never one alone: what differencing yields rests on at least 3 agencies, and for peer
    ratings on at least 11 respondents besides any one agency's."""
    con = practice_state
    pub = {(r["quarter"], r["entity_id"], r["domain"]): r for r in rows(con, "select * from pub_practice_domains")}
    truth = {(r["quarter"], r["entity_id"], r["domain"]): r for r in rows(
        con, "select * from kpi_practice_domains where level <> 'agency'")}
    agency = rows(con, "select quarter, region_id, domain, agency_id, peer_respondents_count, "
                       "agencies_with_peer_rating_count from kpi_practice_domains where level = 'agency'")
    attacked = 0
    for (quarter, entity, domain), row in pub.items():
        if entity != "STATE":
            continue
        for column, counted in (("leadership_rating", "agencies_assessed_count"),
                                ("peers_rating", "agencies_with_peer_rating_count")):
            if pd_null(row[column]):
                continue
            hidden = [e for (q, e, d), r in pub.items() if q == quarter and d == domain and e != "STATE"
                      and pd_null(r[column]) and truth[(q, e, d)][counted]]
            if not hidden:
                continue
            attacked += 1
            assert len(hidden) >= 2, (quarter, domain, column, hidden)
            behind = [a for a in agency if a["quarter"] == quarter and a["domain"] == domain
                      and a["region_id"] in hidden and (column == "leadership_rating" or a[counted])]
            assert len(behind) >= 3
            if column == "peers_rating":
                people = [a["peer_respondents_count"] for a in behind]
                assert sum(people) - max(people) >= 11, (quarter, domain, hidden, people)
    for (quarter, entity, domain), row in pub.items():
        if domain != "ALL":
            continue
        for column, counted in (("leadership_rating", "agencies_assessed_count"),
                                ("peers_rating", "agencies_with_peer_rating_count")):
            if pd_null(row[column]):
                continue
            hidden = [d for (q, e, d), r in pub.items() if q == quarter and e == entity and d != "ALL"
                      and pd_null(r[column]) and truth[(q, e, d)][counted]]
            attacked += bool(hidden)
            assert len(hidden) != 1, (quarter, entity, column, hidden)
    assert attacked >= 3


def test_the_index_rests_on_both_pillars_and_a_full_score_needs_its_cells(practice_state):
    con = practice_state
    index = rows(con, "select p.*, k.practice_score as true_practice, k.billing_sustainability_score as true_billing, "
                      "k.index_score as true_index from pub_integration_index p join kpi_integration_index k "
                      "using (level, entity_id, quarter)")
    for row in index:
        if pd_null(row["practice_score"]) and not pd_null(row["true_practice"]):
            assert pd_null(row["index_score"]) and pd_null(row["stage"])
        if pd_null(row["billing_sustainability_score"]) and not pd_null(row["true_billing"]):
            assert pd_null(row["index_score"]) and pd_null(row["workforce_score"])  # 100 and 0 included
        if not pd_null(row["index_score"]):
            assert row["index_score"] == pytest.approx(row["true_index"])
    assert any(not pd_null(r["index_score"]) and not pd_null(r["practice_score"]) for r in index)
    components = rows(con, "select * from pub_integration_components where component = 'practice' and "
                           "quarter = ? and entity_id = ?", CRAFTED, FEW)
    assert components and all(pd_null(r["sub_score"]) and pd_null(r["band"]) for r in components)


def transitions_only(con):
    """The LP audit restricted to the stage transitions."""
    cells = privacy_audit._cells(con)
    return {k: v for k, v in cells.items() if k[1] == "transitions"}


def test_stage_transitions_withstand_the_lp_audit_for_the_public_and_agency_users(practice_state, monkeypatch):
    con = practice_state
    cells = transitions_only(con)
    monkeypatch.setattr(privacy_audit, "_cells", lambda _: cells)
    small = [v for problem in cells.values() for k, (v, h) in problem.items() if k[2] and 1 <= v <= 2]
    assert small and all(h for problem in cells.values() for k, (v, h) in problem.items() if k[2] and 1 <= v <= 2)
    region = [r[0] for r in con.execute("select agency_id from agencies where region_id = ? order by 1 limit 3",
                                        [FEW]).fetchall()]
    result = privacy_audit.audit(con, (None, *privacy_audit.largest_agencies(con), *region))
    print(f"transitions: {result.audited} hidden cells audited, narrowest {result.narrowest_agencies}")
    assert result.audited > 50 and result.inconsistent == [] and result.exposures == []
    # every shown non-zero cell rests on 3 or more agencies and leaves 2 or more outside it
    grid = rows(con, "select p.agencies_count, c.agencies from pub_stage_transitions p join pub_cells c on "
                     "c.family = 'transitions' and c.categorization = '' and c.quarter = p.quarter and "
                     "c.entity_id = p.entity_id where p.agencies_count > 0")
    assert grid and all(3 <= r["agencies_count"] <= r["agencies"] - 2 for r in grid)


def test_a_transitions_table_missing_one_complementary_cell_fails_the_audit(practice_state, monkeypatch):
    """Teeth: reveal a transition cell hidden only for another's sake, and the audit must find something."""
    con = practice_state
    con.execute("begin")
    try:
        candidates = con.execute(
            "select quarter, entity_id, category from pub_cells where family = 'transitions' and hidden and "
            "categorization = 'stage' and value >= 3 and value < agencies - 1 and agencies >= 3 "
            "order by quarter, entity_id, category").fetchall()
        caught = 0
        for quarter, entity, category in candidates[:12]:
            con.execute("update pub_cells set hidden = false where family = 'transitions' and quarter = ? and "
                        "entity_id = ? and category = ?", [quarter, entity, category])
            cells = {k: v for k, v in transitions_only(con).items() if k[0] == quarter}
            monkeypatch.setattr(privacy_audit, "_cells", lambda _: cells)
            caught += bool(privacy_audit.audit(con).exposures)
            con.execute("update pub_cells set hidden = true where family = 'transitions' and quarter = ? and "
                        "entity_id = ? and category = ?", [quarter, entity, category])
    finally:
        con.execute("rollback")
    assert caught >= 3


def test_telling_transition_cells_and_cycles_by_hand():
    from pipelines.publication import telling

    place = {("R1", "ALL", "stage", c): v for c, v in (("1>1", 4), ("1>2", 0), ("2>2", 0))}
    assert telling(place, {"R1": 4}) == set(place)  # all four stayed Emerging: every cell tells, zeros too
    split = {("R1", "ALL", "stage", c): v for c, v in (("1>1", 5), ("1>2", 1), ("2>2", 0))}
    assert telling(split, {"R1": 6}) == {("R1", "ALL", "stage", "1>1")}  # all but one: the one outside knows
    # a region's hidden cell whose only partner in its column is the (hidden) state cell, and whose state
    # cell's only partner in its row is another region's: pinned by the chain, so one more cell is hidden
    values = {("STATE", "ALL", "", ""): 12, ("R1", "ALL", "", ""): 6, ("R2", "ALL", "", ""): 6}
    for region, cells in (("R1", {"a": 1, "b": 5, "c": 0}), ("R2", {"a": 0, "b": 3, "c": 3})):
        values |= {(region, "ALL", "s", c): v for c, v in cells.items()}
    values |= {("STATE", "ALL", "s", c): values[("R1", "ALL", "s", c)] + values[("R2", "ALL", "s", c)] for c in "abc"}
    own = {k: {"x": 1.0, "y": 1.0, "z": 1.0} for k in values if values[k]}
    hidden = suppress(values, {("R1", "ALL", "s", "a")}, own, by_agency=True)
    assert ("R1", "ALL", "s", "a") in hidden and len(hidden) >= 4
    assert publication._bridge(values, hidden) is None


def _first_bridge_by_search(values, hidden):
    """The definition, one search per hidden cell: the first (in key order) whose row and column fall apart
    without it and that a shown cell can join again; the smallest such shown cell, non-zero first."""
    def reach(start, cells):
        seen, todo = {start}, [start]
        while todo:
            node = todo.pop()
            for e in cells:
                for a, b in ((("row", e[0]), ("col", e[2:])), (("col", e[2:]), ("row", e[0]))):
                    if a == node and b not in seen:
                        seen.add(b)
                        todo.append(b)
        return seen
    edges = sorted(hidden & set(values))
    for edge in edges:
        rest = [e for e in edges if e != edge]
        side = reach(("row", edge[0]), rest)
        if ("col", edge[2:]) in side:
            continue
        other = reach(("col", edge[2:]), rest)
        joins = [k for k in values if k not in hidden
                 and {("row", k[0]), ("col", k[2:])} & side and {("row", k[0]), ("col", k[2:])} & other]
        if joins:
            return min(joins, key=lambda k: (values[k] == 0, values[k], k))
    return None


def test_the_pinned_cell_found_in_one_pass_is_the_one_a_search_per_cell_finds():
    rng = random.Random(20261203)
    for _ in range(400):
        places = ["STATE", *(f"R{i}" for i in range(rng.randint(1, 6)))]
        kinds = ["ALL", *(["RCO"] if rng.random() < 0.3 else [])]  # two cells between one row and column
        cats = [("", "")] + [("s", c) for c in "abcde"[:rng.randint(1, 5)]]
        values = {(p, k, cz, c): float(rng.choice([0, 0, 1, 2, 5, 9])) for p in places for k in kinds
                  for cz, c in cats}
        hidden = set(rng.sample(sorted(values), rng.randint(0, len(values) // 2)))
        assert publication._bridge(values, hidden) == _first_bridge_by_search(values, hidden), (values, hidden)
