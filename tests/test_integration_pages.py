"""The Integration page, the overview's headline and the agency profile's practices, on the demo state, checked
against SQL written here over the facts (or, for stages, over the index's agency rows), not against the views
the pages read."""

from __future__ import annotations

import polars as pl
import pytest

from tests.test_app import chart_data, facts, run_app, snapshot
from tests.test_disclosure import AGENCY_USER, demo_as

ASSESSED = "2026-Q2"  # the demo's latest self-assessment
LATEST = "2026-Q3"
STAGE_ORDER = "case stage when 'No peer workforce' then 0 when 'Emerging' then 1 when 'Developing' then 2 else 3 end"


def _moves(db, region: str | None = None) -> tuple[int, int]:
    """Agencies up and down a stage between LATEST and the quarter a year before, from the index's agency rows."""
    place = f"and region_id = '{region}'" if region else ""
    [(up, down)] = facts(db, f"""
        with s as (select entity_id, quarter, {STAGE_ORDER} as o from kpi_integration_index
                   where level = 'agency' and stage is not null {place})
        select count(*) filter (where now.o > before.o), count(*) filter (where now.o < before.o)
        from s now join s before on before.entity_id = now.entity_id and before.quarter = '2025-Q3'
        where now.quarter = '{LATEST}'""")
    return up, down


def _charts(at) -> dict[str, pl.DataFrame]:
    import json

    return {json.loads(c.proto.spec)["title"]["text"]: chart_data(c) for c in at.get("vega_lite_chart")
            if "title" in json.loads(c.proto.spec)}


def test_stage_progression_on_the_page_and_in_the_overview_headline(demo_env):
    db = snapshot(demo_env)
    up, down = _moves(db)
    assert up > down > 0  # the demo's story: many move up, a few (funding loss) move down
    at = run_app("pages/integration.py")
    cards = {m.label: m.value for m in at.metric}
    assert cards["Moved up a stage"] == str(up) and cards["Moved down a stage"] == str(down)
    matrix = _charts(at)[f"Agencies by stage a year before and in {LATEST}"]
    assert matrix.filter(pl.col("direction") == "up")["agencies_count"].sum() == up
    overview = run_app()
    assert f"{up} agencies moved up a stage in the year to {LATEST}; {down} moved down." in [
        h.value for h in overview.subheader]


def test_region_focus_counts_that_regions_moves(demo_env):
    up, down = _moves(snapshot(demo_env), "R3")
    at = demo_as("admin@state.example", "integration", region="R3")
    cards = {m.label: m.value for m in at.metric}
    assert (cards["Moved up a stage"], cards["Moved down a stage"]) == (str(up), str(down))


def test_leadership_and_peer_ratings_by_region_equal_the_facts(demo_env):
    db = snapshot(demo_env)
    labels = dict(facts(db, "select distinct domain, domain_label from kpi_practice_domains"))
    expected = {}
    for region, domain, leaders, peers in facts(db, f"""
            select r.name, i.domain, avg(p.rating_leadership), avg(p.rating_peers)
            from practices p join agencies a using (agency_id) join regions r using (region_id)
            join integration_practices i using (practice_code)
            where p.quarter = '{ASSESSED}' and (i.applies_to = 'ALL' or a.serves_children) group by all"""):
        expected[(region, labels[domain], "Leadership")] = leaders
        expected[(region, labels[domain], "Peer staff")] = peers
    charts = _charts(run_app("pages/integration.py"))
    for rater in ("Leadership", "Peer staff"):
        grid = charts[f"{rater} ratings (0-4) by domain and region, {ASSESSED}"]
        assert grid.height == 6 * 10  # the state and 5 regions x 10 domains
        shown = {(r["place"], r["domain_label"], rater): r["rating"] for r in grid.iter_rows(named=True)
                 if r["place"] != "Statewide"}
        assert shown == pytest.approx({k: v for k, v in expected.items() if k[2] == rater})


def test_peer_voice_gap_lists_the_agencies_whose_leaders_rate_higher(demo_env):
    db = snapshot(demo_env)
    expected = {(a, d) for a, d in facts(db, f"""
        select p.agency_id, i.domain from practices p join integration_practices i using (practice_code)
        join agencies a using (agency_id)
        where p.quarter = '{ASSESSED}' and p.rating_peers is not null and (i.applies_to = 'ALL' or a.serves_children)
        group by all having avg(p.rating_leadership - p.rating_peers) >= 1.5""")}
    at = run_app("pages/integration.py")
    table = next(t.value for t in at.dataframe if "gap" in t.value.columns)
    labels = dict(facts(db, "select distinct domain, domain_label from kpi_practice_domains"))
    shown = {(a, d) for a, d in zip(table["agency_id"], table["domain"])}
    assert shown == {(a, labels[d]) for a, d in expected}
    assert expected, "the demo has agencies with a peer-voice gap of 1.5+"


def test_overdue_actions_and_owners_equal_the_facts(demo_env):
    db = snapshot(demo_env)
    expected = facts(db, """
        with latest as (select agency_id, max(quarter) as quarter from practices group by 1)
        select p.agency_id, p.practice_code, p.action_owner from practices p join latest using (agency_id, quarter)
        join agencies a using (agency_id)
        where p.action_status in ('PLANNED', 'IN_PROGRESS')
          and (a.active_to is null or a.active_to >= date '2026-11-15')  -- a closed agency's plans are moot
          and p.action_due_quarter < '2026-Q4'  -- due quarters that ended before the as-of date 2026-11-15
        order by 1, 2""")
    at = run_app("pages/integration.py")
    table = next(t.value for t in at.dataframe if "quarters_overdue" in t.value.columns)
    assert sorted(zip(table["agency_id"], table["practice"])) == [(a, p) for a, p, _ in expected]
    assert "Peer supervisor" in set(table["owner"]) or "Human resources" in set(table["owner"])
    assert int(next(m.value for m in at.metric if m.label == "Overdue actions").replace(",", "")) == len(expected)


def test_agency_profile_practices_actions_and_stage_history(demo_env):
    db = snapshot(demo_env)
    agency = "AG0067"  # the late submitter: overdue actions
    [(latest,)] = facts(db, f"select max(quarter) from practices where agency_id = '{agency}'")
    actions = facts(db, f"select practice_code from practices where agency_id = '{agency}' and quarter = '{latest}' "
                        "and action_status <> 'NONE' order by 1")
    at = demo_as("admin@state.example", "agency", agency=agency)
    tables = [t.value for t in at.dataframe]
    plans = next(t for t in tables if "practice" in t.columns and "owner" in t.columns)
    assert sorted(plans["practice"]) == [p for (p,) in actions]
    assert plans["overdue"].any()
    history = next(t for t in tables if "stage" in t.columns and "practice" in t.columns)
    stages = dict(facts(db, f"select quarter, stage from kpi_integration_index where level = 'agency' "
                            f"and entity_id = '{agency}'"))
    assert dict(zip(history["quarter"], history["stage"])) == stages
    assert any(t.startswith("Practice ratings (0-4) against") for t in _charts(at))


@pytest.mark.parametrize("principal", ["", AGENCY_USER])
def test_restricted_readers_see_places_not_agencies(demo_env, principal):
    at = demo_as(principal, "integration")
    shown = " ".join(t.value.to_string() for t in at.dataframe)
    names = [n for (n,) in facts(snapshot(demo_env), "select name from agencies")]
    own = {"AG0042", "AG0101"} if principal else set()
    own_names = {n for (a, n) in facts(snapshot(demo_env), "select agency_id, name from agencies")
                 if a in own}
    assert not [n for n in names if n in shown and n not in own_names]
    if not principal:  # the public: the lists are for state staff (and agency users, for their own agencies)
        assert any("state staff" in i.value for i in at.info)
