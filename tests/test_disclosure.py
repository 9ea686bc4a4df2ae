"""Small-cell suppression as readers meet it: pages of the demo state (which has real 1-10 cells) checked
against independent SQL, and crafted frames through the page helpers for the complementary case."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import APP, chart_data, facts, snapshot

PLACES = ["R1", "R2", "R3", "R4", "R5", None]  # None: statewide
LATEST = "2026-Q3"


def demo_as(principal: str, page: str, region: str | None = None) -> AppTest:
    """The app in demo mode, viewed as `principal` ('' = a signed-out member of the public)."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["demo_principal"] = principal
    if region:
        at.query_params["region"] = region
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def chart_titled(at: AppTest, words: str) -> pl.DataFrame:
    for element in at.get("vega_lite_chart"):
        if words in element.proto.spec:
            return chart_data(element)
    raise AssertionError(f"no chart titled {words!r}")


def status_cells(principal: str) -> dict[tuple[str, str], int | None]:
    """(place, status) -> peers as the certification page shows it in the latest quarter (None = hidden)."""
    cells = {}
    for region in PLACES:
        mix = chart_titled(demo_as(principal, "certification", region), "Share of peer workers by certification")
        for row in mix.filter(pl.col("quarter") == LATEST).iter_rows(named=True):
            cells[(region or "STATE", row["status"])] = row["peers"]
            if row["peers"] is None:
                assert row["share_pct"] is None and "peers" in row["suppressed"]  # the share would give it away
    return cells


def test_status_mix_hides_small_cells_and_their_complements_for_the_public(demo_env):
    truth = {(e, s): n for e, s, n in facts(snapshot(demo_env),
             "select entity_id, status, peer_count from kpi_certification_status where role = 'ALL' and "
             f"quarter = '{LATEST}' and level in ('state', 'region')")}
    public = status_cells("")
    assert set(public) == set(truth)
    hidden = {k for k, v in public.items() if v is None}
    assert {k for k, n in truth.items() if 1 <= n <= 10} <= hidden  # every 1-10 count is hidden
    assert all(public[k] == truth[k] for k in set(truth) - hidden)  # what is shown is right
    assert all(v == 0 or v >= 11 for v in public.values() if v is not None)
    assert ("R1", "NOT_REQUIRED") in hidden and truth[("R1", "NOT_REQUIRED")] == 4
    # complementary: no region's statuses, and no status across regions, has exactly one hidden cell, so
    # neither the region's total nor the state's total can give a hidden cell back
    regions, statuses = {e for e, _ in truth if e != "STATE"}, {s for _, s in truth}
    for region in regions:
        assert sum((region, s) in hidden for s in statuses if (region, s) in truth) != 1, region
    for status in statuses:
        lone = sum((r, status) in hidden for r in regions if (r, status) in truth) == 1
        assert not lone or ("STATE", status) in hidden, status
    # R1 had one small cell: a second one, its smallest other status, went with it
    r1 = {s: n for (e, s), n in truth.items() if e == "R1"}
    assert sum(("R1", s) in hidden for s in r1) >= 2

    staff = status_cells("viewer@state.example")
    assert staff == truth  # state staff see every count


def test_fte_by_role_hides_a_small_role_for_the_public_but_not_for_state_staff(demo_env):
    (headcount, fte), = facts(snapshot(demo_env), "select headcount_count, round(fte, 1) from kpi_workforce_by_role "
                              f"where level = 'region' and entity_id = 'R4' and role = 'YOUTH_PEER' and quarter = "
                              f"'{LATEST}' and agency_type = 'ALL'")
    assert 1 <= headcount <= 10
    public = chart_titled(demo_as("", "overview", "R4"), "Peer FTE by role").filter(pl.col("role") == "Youth peer specialist")
    assert public["fte"][0] is None and public["headcount"][0] is None
    assert "fte" in public["suppressed"][0].split(", ")
    staff = chart_titled(demo_as("viewer@state.example", "overview", "R4"), "Peer FTE by role")
    assert staff.filter(pl.col("role") == "Youth peer specialist")["fte"][0] == fte
    assert "suppressed" not in staff.columns


def test_restricted_views_say_so_and_state_views_do_not(demo_env):
    note = "Counts of 1 to 10 people are shown as suppressed"
    for page in ("overview", "regions", "certification", "retention", "billing"):
        public = demo_as("", page)
        assert any(note in c.value for c in public.caption), page
        staff = demo_as("analyst@state.example", page)
        assert not any(note in c.value for c in staff.caption), page


def _crafted():
    """A page that shows a crafted frame of regions and the state (session state "rows") through
    disclosure.place, as the viewer chosen in demo mode."""

    def script():
        import polars as pl
        import streamlit as st

        from dashboard import auth, disclosure, filters, widgets

        auth.identify()
        rows = st.session_state["rows"]
        f = filters.Filters("2026-Q3", "2026-Q3", st.query_params.get("region"), None, None)
        frame = pl.DataFrame(rows, schema=["level", "entity_id", "peers"], orient="row").with_columns(
            peer_fte=pl.col("peers") * 0.75, quarter=pl.lit("2026-Q3"))
        widgets.table(disclosure.place(frame, f, show="regions", chart=False), "crafted", private=True)

    return script


CRAFTED = [("region", "R1", 40), ("region", "R2", 7), ("region", "R3", 25), ("region", "R4", 12),
           ("state", "STATE", 84)]


@pytest.mark.parametrize("principal", ["", "submitter@fairstead.example"])
def test_a_total_minus_the_shown_regions_cannot_reveal_the_hidden_one(demo_env, principal):
    at = AppTest.from_function(_crafted(), default_timeout=60)
    at.session_state["demo_principal"] = principal
    at.session_state["rows"] = CRAFTED
    at.run()
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    peers = shown["peers"].tolist()
    assert peers == ["40", "suppressed", "25", "suppressed", "84"]  # R2 (7) and its partner R4 (12, the smallest)
    assert shown["peer_fte"].tolist() == ["30.0", "suppressed", "18.75", "suppressed", "63.0"]
    # what a reader can work out: 84 - 40 - 25 = 19 = R2 + R4, not R2 alone
    assert 84 - 40 - 25 == 7 + 12
    assert any("shown as suppressed" in c.value for c in at.caption)
    from dashboard import widgets

    assert widgets.csv_bytes(pl.from_pandas(shown)).decode().splitlines()[2].split(",")[0] == "suppressed"


def test_state_staff_see_the_crafted_frame_whole(demo_env):
    at = AppTest.from_function(_crafted(), default_timeout=60)
    at.session_state["demo_principal"] = "viewer@state.example"
    at.session_state["rows"] = CRAFTED
    at.run()
    assert at.dataframe[0].value["peers"].tolist() == [40, 7, 25, 12, 84]
    assert not any("shown as suppressed" in c.value for c in at.caption)


def test_one_region_view_hides_what_every_region_view_together_would_reveal(demo_env):
    """R4 (12) is only hidden because R2 is: its own view must hide it too, or R2 = 84 - 40 - 25 - 12."""
    at = AppTest.from_function(_crafted(), default_timeout=60)
    at.session_state["demo_principal"] = ""
    at.session_state["rows"] = CRAFTED
    at.query_params["region"] = "R4"
    at.run()
    assert at.dataframe[0].value["peers"].tolist() == ["suppressed", "84"]  # R4, then the state


def test_agency_user_beside_region_hides_what_their_own_figure_would_reveal(demo_env):
    """The rest of a region (region minus the user's own agency) may be one other agency: 1-10 left over is hidden."""

    def script():
        import polars as pl

        from dashboard import auth, disclosure, kpis, widgets

        auth.identify()
        frame = pl.DataFrame({"level": ["agency", "region", "state"], "place": ["Own", "Region", "State"],
                              "quarter": ["2026-Q3"] * 3, "peer_headcount_count": [20, 26, 900],
                              "trained_supervisor_count": [2, 40, 120], "clinician_headcount_count": [30, 90, 2000]})
        shown = disclosure.beside_own(frame.with_columns(peer_to_clinician_ratio=pl.col("peer_headcount_count")
                                                         / pl.col("clinician_headcount_count")))
        widgets.table(shown, "beside")

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["demo_principal"] = "submitter@fairstead.example"
    at.run()
    shown = at.dataframe[0].value
    assert shown["place"].tolist() == ["Own", "Region", "State"]
    assert shown["peer_headcount_count"].isna().tolist() == [False, True, False]  # 26 - 20 = 6 other peers
    assert shown["peer_headcount_count"][0] == 20
    assert shown["trained_supervisor_count"].tolist() == [2, 40, 120]  # own 2 is the user's own figure
    assert shown["peer_to_clinician_ratio"].isna().tolist() == [False, True, False]
    assert shown["suppressed"].tolist()[1] == "peer_headcount_count, peer_to_clinician_ratio"
