"""Suppression as readers meet it: the pages of the demo state (which has real 1-10 cells) as the public, an
agency user and state staff, checked against independent SQL on the protected layer and on the KPI views,
and the attacks that once recovered hidden counts from what the pages showed."""

from __future__ import annotations

import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, integration, queries
from pipelines import publication
from pipelines.contracts import label
from pipelines.metrics import metric
from tests.test_app import APP, chart_data, facts, snapshot

PLACES = ["R1", "R2", "R3", "R4", "R5", None]  # None: statewide
LATEST = "2026-Q3"
PUBLIC_PAGES = ("overview", "integration", "regions", "certification", "retention", "billing")
AGENCY_USER = "submitter@fairstead.example"  # reports for AG0042 and AG0101


def demo_as(principal: str, page: str, **params: str) -> AppTest:
    """The app in demo mode, viewed as `principal` ('' = a signed-out member of the public)."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["demo_principal"] = principal
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def chart_titled(at: AppTest, words: str) -> pl.DataFrame:
    for element in at.get("vega_lite_chart"):
        if words in element.proto.spec:
            return chart_data(element)
    raise AssertionError(f"no chart titled {words!r}")


@pytest.mark.parametrize("principal", ["", AGENCY_USER])
def test_status_mix_shows_exactly_the_protected_layer(demo_env, principal):
    db = snapshot(demo_env)
    truth = {(e, s): n for e, s, n in facts(db, "select entity_id, status, peer_count from kpi_certification_status "
                                                f"where role = 'ALL' and quarter = '{LATEST}' and level <> 'agency'")}
    hidden = {(e, c) for e, c in facts(db, "select entity_id, category from pub_cells where family = 'cert' and "
                                           f"categorization = 'status' and quarter = '{LATEST}' and hidden")}
    assert {k for k, n in truth.items() if 1 <= n <= 10} <= hidden  # every 1-10 count is hidden...
    words = {label(s): s for s in {s for _, s in truth}}  # the chart draws statuses in words
    for region in PLACES:
        mix = chart_titled(demo_as(principal, "certification", **({"region": region} if region else {})),
                           "Share of peer workers by certification")
        for row in mix.filter(pl.col("quarter") == LATEST).iter_rows(named=True):
            key = (region or "STATE", words[row["status"]])
            if key in hidden:  # ...on the page too, with its share, and the CSV says which
                assert row["peers"] is None and row["share_pct"] is None and "peers" in row["suppressed"]
            else:
                assert row["peers"] == truth[key]


def test_state_staff_see_every_count(demo_env):
    truth = {label(s): n for s, n in facts(snapshot(demo_env), "select status, peer_count from "
                                           "kpi_certification_status where role = 'ALL' and quarter = "
                                           f"'{LATEST}' and level = 'state'")}
    mix = chart_titled(demo_as("viewer@state.example", "certification"), "Share of peer workers by certification")
    assert dict(mix.filter(pl.col("quarter") == LATEST).select("status", "peers").iter_rows()) == truth
    assert "suppressed" not in mix.columns


def test_fte_by_role_hides_a_small_role_for_the_public_but_not_for_state_staff(demo_env):
    (headcount, fte), = facts(snapshot(demo_env), "select headcount_count, round(fte, 1) from kpi_workforce_by_role "
                              f"where level = 'region' and entity_id = 'R4' and role = 'YOUTH_PEER' and quarter = "
                              f"'{LATEST}' and agency_type = 'ALL'")
    assert 1 <= headcount <= 10
    public = chart_titled(demo_as("", "overview", region="R4"), "Peer FTE by role")
    youth = public.filter(pl.col("role") == "Youth peer specialist")
    assert youth["fte"][0] is None and youth["headcount"][0] is None and "fte" in youth["suppressed"][0]
    staff = chart_titled(demo_as("viewer@state.example", "overview", region="R4"), "Peer FTE by role")
    assert staff.filter(pl.col("role") == "Youth peer specialist")["fte"][0] == fte


def test_the_type_filter_gives_restricted_readers_every_type_together(demo_env):
    """Attack (a): one type against all types. Restricted readers get no split by type to subtract."""
    every = chart_titled(demo_as("", "overview"), "Peer FTE by role")
    rco = demo_as("", "overview", type="RCO")
    assert chart_titled(rco, "Peer FTE by role").equals(every)
    assert any("cover every agency type" in c.value for c in rco.caption)
    staff = chart_titled(demo_as("viewer@state.example", "overview", type="RCO"), "Peer FTE by role")
    assert not staff.equals(chart_titled(demo_as("viewer@state.example", "overview"), "Peer FTE by role"))


def test_agency_level_facts_stay_with_state_staff(demo_env):
    """Attack (e): a count of agencies by stage names one agency's stage when a region has one of a type."""
    public = demo_as("", "overview", region="R1", type="FAMILY_RUN")
    assert not [c for c in public.get("vega_lite_chart") if "Agencies by integration stage" in c.proto.spec]
    assert any("number of agencies in each stage" in i.value for i in public.info)
    staff = demo_as("viewer@state.example", "overview", region="R1", type="FAMILY_RUN")
    assert chart_titled(staff, "Agencies by integration stage").height >= 1


def test_restricted_readers_get_one_note_per_page_and_state_staff_none(demo_env):
    note = "Small counts are suppressed for readers outside the state office"
    for page in PUBLIC_PAGES:
        public = demo_as("", page)
        assert sum(note in c.value for c in public.caption) == 1, page
        staff = demo_as("analyst@state.example", page)
        assert not any(note in c.value for c in staff.caption), page


def test_agency_profile_compares_with_the_layer_and_hides_what_subtraction_would_reveal(demo_env):
    """Attack (f): the region minus the user's own agency. The region column comes from the layer, which hides
    any cell where taking one agency away leaves 1-10."""
    db = snapshot(demo_env)
    at = demo_as(AGENCY_USER, "agency", agency="AG0101")
    table = next(d.value for d in at.dataframe if "measure" in d.value.columns)
    region, = facts(db, "select region_id from agencies where agency_id = 'AG0101'")[0]
    latest = facts(db, "select max(quarter) from kpi_scorecard where level = 'agency' and entity_id = 'AG0101' "
                       "and agencies_reporting_count > 0")[0][0]
    certified, hidden = facts(db, f"select round(certified_pct, 1), suppressed from pub_scorecard where "
                                  f"level = 'region' and entity_id = '{region}' and quarter = '{latest}'")[0]
    cell = table.filter(pl.col("measure") == "% certified") if isinstance(table, pl.DataFrame) else \
        table[table["measure"] == "% certified"]
    shown = list(cell.iloc[0])[2] if not isinstance(cell, pl.DataFrame) else cell.row(0)[2]
    if certified is None:
        assert shown == "suppressed" and "certified_pct" in hidden
    else:
        assert shown.rstrip("%") == f"{certified:.1f}"


def test_restricted_readers_are_told_what_the_layer_does_not_carry_and_get_yearly_figures_with_their_quarter(demo_env):
    """A measure the protected layer leaves out for places (the vacancy rate) reads 'state staff only', not a dash
    that looks like missing data; a yearly figure outside Q4 shows the last Q4 value the layer publishes, with it."""
    db = snapshot(demo_env)
    at = demo_as(AGENCY_USER, "agency", agency="AG0101")
    table = next(d.value for d in at.dataframe if "measure" in d.value.columns)
    vacancy = list(table[table["measure"] == "Peer vacancy rate"].iloc[0])
    assert vacancy[2:4] == ["state staff only", "state staff only"] and vacancy[1].endswith("%"), vacancy
    assert "peer_vacancy_rate_pct" not in publication.published("kpi_scorecard")

    public = demo_as("", "overview")
    card = next(m for m in public.metric if m.label == "Integration index")
    quarter, score = facts(db, "select quarter, index_score from pub_integration_index where level = 'state' and "
                               "index_score is not null and quarter like '%Q4' order by quarter desc limit 1")[0]
    assert card.value == metric("integration_index").format_value(score)
    assert any(c.value.startswith(f"{quarter}, published yearly") for c in public.caption), quarter


SOURCES = re.compile(r"\b(?:from|join)\s+(\w+)", re.IGNORECASE)
CTES = re.compile(r"(?:\bwith|,)\s+(\w+)\s+as\s*\(", re.IGNORECASE)
REFERENCE = {"dim_quarter", "dim_entity", "dim_as_of", "dim_role", "regions", "agencies", "user_roles", "targets",
             "integration_practices"}
LAYER = {"pub_scorecard", "pub_integration_index", "pub_integration_components", "pub_workforce_by_role",
         "pub_certification_status", "pub_separation_reasons", "pub_practice_domains", "pub_action_plan_status",
         "pub_stage_transitions"}


def test_public_pages_read_only_the_protected_layer(demo_env, monkeypatch):
    """Every query the public's pages run, over regions, types and quarter ranges, names only pub_* views and
    reference tables: no page can show a figure the layer did not decide."""
    seen: list[str] = []

    def recording(original):
        def run(sql, params=None):
            seen.append(sql)
            return original(sql, params)
        return run

    for module in (queries, data, integration):  # every module that runs page queries
        monkeypatch.setattr(module, "query", recording(module.query))
    for page in PUBLIC_PAGES:
        for params in ({}, {"region": "R3", "type": "RCO"}, {"from": "2024-Q1", "to": "2025-Q2", "region": "R5"}):
            demo_as("", page, **params)
    assert len(seen) > 30
    read = set()
    for sql in seen:
        sql = re.sub(r"'[^']*'", "''", sql)
        read |= {m.group(1).lower() for m in SOURCES.finditer(sql)} - {m.group(1).lower() for m in CTES.finditer(sql)}
    assert read - REFERENCE - LAYER == set()
    assert LAYER <= read


@pytest.mark.parametrize("principal", ["", AGENCY_USER])
def test_stage_matrix_shows_exactly_the_protected_layer(demo_env, principal):
    """The integration page's from x to matrix: every count the layer hides (1 or 2 agencies, a place's all but
    one, and their complements) is missing from the chart and its CSV, and every count shown is the true one."""
    db = snapshot(demo_env)
    stages = {"No peer workforce": 0, "Emerging": 1, "Developing": 2, "Integrated": 3}
    cells = {(q, e, c): (v, h) for q, e, c, v, h in facts(db, "select quarter, entity_id, category, value, hidden "
                                                            "from pub_cells where family = 'transitions' and "
                                                            "categorization = 'stage'")}
    assert any(h for v, h in cells.values()) and any(1 <= v <= 2 for v, h in cells.values())
    checked = 0
    for region in PLACES:
        at = demo_as(principal, "integration", **({"region": region} if region else {}))
        quarter = facts(db, "select max(quarter) from pub_stage_transitions")[0][0]
        matrix = chart_titled(at, f"Agencies by stage a year before and in {quarter}")
        for row in matrix.iter_rows(named=True):
            value, hidden = cells[(quarter, region or "STATE",
                                   f"{stages[row['from_stage']]}>{stages[row['to_stage']]}")]
            if hidden:
                assert row["agencies_count"] is None and "agencies_count" in row["suppressed"]
            else:
                assert row["agencies_count"] == value
            checked += 1
    assert checked >= 6 * 16
