"""Real browser: the dashboard served on a loopback port, Debian's chromium driven by Playwright."""

from __future__ import annotations

import re

import polars as pl
import pytest

from tests.browser import APP_DIR, MARKS, choose, served, settled, until

pytestmark = MARKS


@pytest.fixture(scope="session")
def app_url(demo_warehouse, tmp_path_factory):
    with served(demo_warehouse, tmp_path_factory.mktemp("e2e")) as url:
        yield url


def _wait_rendered(page, heading: str) -> None:
    from playwright.sync_api import expect

    page.wait_for_selector('[data-testid="stApp"]')
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


CHART_PAGES = {  # navigation label -> heading on the page
    "State overview": "Peer workforce integration: state overview",
    "Integration practices": "Integration practices",
    "Regions": "Regions",
    "Organizations": None,
    "Agency profile": None,
    "Certification": "Certification",
    "Retention": "Retention",
    "Medicaid billing": "Medicaid billing",
}
OTHER_PAGES = {"Upload a report", "Submissions", "SQL workbench", "Metric definitions", "Audit trail"}


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def test_every_page_renders_through_the_navigation(page, app_url, tmp_path):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app_url)
    _wait_rendered(page, "Peer workforce integration: state overview")
    nav = page.locator('[data-testid="stSidebarNav"]')
    labels = {link.inner_text().strip().split("\n")[-1] for link in nav.get_by_role("link").all()}
    assert labels == set(CHART_PAGES) | OTHER_PAGES
    for label, heading in CHART_PAGES.items():
        nav.get_by_role("link", name=label, exact=True).click()
        if heading:
            _wait_rendered(page, heading)
        else:
            settled(page)
        if label == "Agency profile":  # a profile needs an agency: choose one, as a user would
            choose(page, "Agency", within=page.locator("[data-testid=stMain]"))
        if label == "Organizations":
            expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=30_000)
        else:
            expect(page.locator('[data-testid="stVegaLiteChart"] svg').first).to_be_visible(timeout=30_000)
        _no_exception(page)
        page.screenshot(path=str(tmp_path / f"{label.lower().replace(' ', '-')}.png"), full_page=True)
    for label in OTHER_PAGES:
        nav.get_by_role("link", name=label, exact=True).click()
        page.wait_for_timeout(1200)
        settled(page)
        _no_exception(page)
        page.screenshot(path=str(tmp_path / f"{label.lower().replace(' ', '-')}.png"), full_page=True)
    assert len(list(tmp_path.glob("*.png"))) == len(CHART_PAGES) + len(OTHER_PAGES)


def test_a_shared_filtered_link_reproduces_the_view(page, app_url, tmp_path):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/organizations?region=R3&type=RCO&from=2025-Q1&to=2025-Q4")
    _wait_rendered(page, "Organizations")
    expect(page.get_by_text("River Valley · Recovery community organization · 2025-Q1 to 2025-Q4",
                            exact=False)).to_be_visible()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("combobox", name="Region")).to_have_value("River Valley (R3)")
    expect(page.get_by_text("2 agencies", exact=True)).to_be_visible()  # River Valley's RCOs: one has no staff
    _no_exception(page)
    page.screenshot(path=str(tmp_path / "shared-link.png"), full_page=True)
    # switching pages keeps the filters in the address
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="State overview").click()
    _wait_rendered(page, "Peer workforce integration: River Valley")
    page.wait_for_function("() => window.location.search.includes('region=R3')", timeout=15_000)
    assert "type=RCO" in page.url and "from=2025-Q1" in page.url


def test_an_agency_profile_link_opens_that_agency(page, app_url, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{app_url}/agency?agency=AG0076")
    page.wait_for_selector('[data-testid="stApp"]')
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Agency profile", timeout=60_000)
    expect(page.get_by_text("AG0076 ·").first).to_be_visible()
    _no_exception(page)
    page.screenshot(path=str(tmp_path / "agency-profile.png"), full_page=True)


def test_clicking_a_region_focuses_the_dashboard_on_it(page, app_url, tmp_path):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/regions")
    _wait_rendered(page, "Regions")
    top_bar = page.locator('[data-testid="stVegaLiteChart"]').first.locator("svg .mark-rect path").first
    until(page, top_bar.click,  # the top bar: the region with most peer FTE per 100k
          lambda: page.wait_for_function("() => window.location.search.includes('region=')", timeout=10_000))
    region = page.url.split("region=")[1].split("&")[0]
    expect(page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Region")).to_have_value(
        re.compile(rf"\({region}\)$"))
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="State overview").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Peer workforce integration: state overview")
    _no_exception(page)
    page.screenshot(path=str(tmp_path / "focused-region.png"), full_page=True)


def _visible_labels(chart) -> list[str]:
    """Axis labels Vega drew (it hides, with opacity 0, labels that would overlap)."""
    chart.locator("svg .role-axis-label text").first.wait_for(timeout=30_000)
    return chart.locator("svg .role-axis-label text").evaluate_all(
        "nodes => nodes.filter(n => getComputedStyle(n).opacity !== '0' && n.getAttribute('opacity') !== '0')"
        ".map(n => n.textContent)")


def test_every_row_of_a_heatmap_is_labelled(page, app_url, tmp_path):
    """A squeezed heatmap lost the names of some regions."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/regions")
    _wait_rendered(page, "Regions")
    heatmap = page.locator('[data-testid="stVegaLiteChart"]').nth(1)
    heatmap.locator("svg .mark-rect path").first.wait_for(timeout=30_000)
    regions = pl.read_csv(APP_DIR / "data" / "reference" / "regions.csv")["name"].to_list()
    assert len(regions) == 5 and set(regions) <= set(_visible_labels(heatmap))
    heatmap.screenshot(path=str(tmp_path / "components-heatmap.png"))


def test_every_separation_reason_is_labelled(page, app_url):
    """The Pareto of separation reasons showed every other reason's name."""
    from pipelines.contracts import SEPARATION_REASONS, label

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/retention")
    _wait_rendered(page, "Retention")
    pareto = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Separations by reason")
    pareto.scroll_into_view_if_needed()
    assert {label(r) for r in SEPARATION_REASONS} <= set(_visible_labels(pareto))  # in words, none cut


def test_every_legend_entry_lies_inside_its_chart(page, app_url):
    """A legend in one long row ran past the edge of half-width charts, hiding the last entries."""
    from playwright.sync_api import expect

    from pipelines.contracts import FUNDING, label

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/billing")
    _wait_rendered(page, "Medicaid billing")
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    funding = charts.filter(has_text="by primary funding source")
    funding.scroll_into_view_if_needed()
    expect(funding.locator("svg .role-legend-label text")).to_have_count(len(FUNDING), timeout=30_000)
    checked = set()
    for i in range(charts.count()):
        chart = charts.nth(i)
        if not chart.is_visible():
            continue
        chart.scroll_into_view_if_needed()
        chart.locator("svg .role-title-text").first.wait_for(timeout=30_000)  # drawn, legend included
        box = chart.bounding_box()
        for entry in chart.locator("svg .role-legend-label text").all():
            edge = entry.bounding_box()
            assert edge["x"] + edge["width"] <= box["x"] + box["width"] + 1, (i, entry.text_content())
            checked.add(entry.text_content())
    assert {label(f) for f in FUNDING} <= checked


def _grid_text(page, has_column: str) -> list[str]:
    """The cells a data grid shows (its accessible cells), for the grid whose header names `has_column`."""
    grid = page.locator('[data-testid="stDataFrame"]:visible').filter(
        has=page.locator('[role="columnheader"]', has_text=has_column))
    grid.first.locator('[role="gridcell"]').first.wait_for(state="attached", timeout=30_000)  # drawn off-screen
    cells = grid.first.locator('[role="gridcell"]').all_text_contents()
    return [c.split("#", 1)[1] if "?" in c and "#" in c else c for c in cells]  # a link cell: the words it shows


def _story_facts(db) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        one = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        return {
            "spike": {a for (a,) in one("select agency_id from kpi_denial_spikes where is_spike")},
            "silent_rco": {a for (a,) in one("select agency_id from kpi_agency_quarter where quarter = '2026-Q3' "
                                             "and agency_type = 'RCO' and has_peers and bills_nothing")},
            "down": {a for (a,) in one("select entity_id from kpi_stage_transitions where level = 'agency' and "
                                       "quarter = '2026-Q3' and direction = 'down'")},
            "gap": {a for (a,) in one("select entity_id from kpi_practice_domains where level = 'agency' and "
                                      "quarter = '2026-Q2' and domain = 'CULTURE_INCLUSION' and peer_voice_gap >= 1.5")},
            "names": dict(one("select agency_id, name from agencies")),
        }
    finally:
        con.close()


def test_each_demo_story_is_found_from_the_overview(page, app_url, demo_warehouse, tmp_path):
    """Every story of the demo state, reached from the overview in at most three clicks."""
    from playwright.sync_api import expect

    stories = _story_facts(demo_warehouse.parent / "published" / "warehouse.duckdb")
    assert all(stories.values()), stories
    page.set_viewport_size({"width": 1400, "height": 1000})
    main = page.locator("[data-testid=stMain]")

    def overview():
        page.goto(app_url)
        _wait_rendered(page, "Peer workforce integration: state overview")

    # the headline itself: agencies moved up and down a stage
    overview()
    expect(page.get_by_role("heading", name=re.compile(r"agencies moved up a stage"))).to_be_visible()
    # 1 click each: a denial spike after the code change, an RCO with peers billing nothing, the late submitter
    names = stories["names"]  # tables name agencies (each name opens the agency's profile)
    for tab, column, wanted in (("Denial spikes", "Agency", stories["spike"]),
                                ("Peers not billing", "Agency", stories["silent_rco"]),
                                ("Late or missing reports", "Agency", {"AG0067", "AG0082"})):
        main.get_by_role("tab", name=tab).click()
        assert {names[a] for a in wanted} & set(_grid_text(page, column)), (tab, wanted)
    # 1 click: who moved down a stage (funding loss), and the agencies whose leaders see inclusion peers do not
    main.get_by_role("link", name=re.compile("Who moved")).click()
    _wait_rendered(page, "Integration practices")
    expect(main.get_by_text("Moved down a stage")).to_be_visible()
    assert {names[a] for a in stories["down"]} & set(_grid_text(page, "Stage a year before"))
    cells = _grid_text(page, "Peer-voice gap")
    assert {names[a] for a in stories["gap"]} & set(cells) and "Culture and inclusion" in cells
    page.screenshot(path=str(tmp_path / "integration.png"), full_page=True)
    # 3 clicks: the lapsing region's supervision and training plans (Integration page, focus River Valley)
    choose(page, "Region", "River Valley", within=page.locator('[data-testid="stSidebar"]'))
    _wait_rendered(page, "Integration practices")
    plans = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Actions by domain, River Valley")
    plans.scroll_into_view_if_needed()
    expect(plans.locator("svg")).to_contain_text("Supervision", timeout=30_000)
    # 3 clicks: the lapses piling up in River Valley (Regions, the % certified trend)
    overview()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Regions", exact=True).click()
    _wait_rendered(page, "Regions")
    until(page, lambda: main.locator('[data-testid="stButtonGroup"]').get_by_text("% certified", exact=True).click(),
          lambda: main.get_by_text(re.compile("^% certified by region")).first.wait_for(timeout=10_000))
    # one chart per region under that title: River Valley's is there, drawn for the measure chosen
    river_valley = '[data-testid="stVegaLiteChart"] [aria-label*="region: River Valley;"][aria-label*="% certified: "]'
    expect(main.locator(river_valley).first).to_be_attached(timeout=30_000)
    # 2 clicks: the late submitter's overdue actions on its profile
    overview()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Agency profile", exact=True).click()
    settled(page)
    choose(page, "Agency", "AG0067", within=main)
    assert "true" in _grid_text(page, "Overdue") or "✓" in " ".join(_grid_text(page, "overdue")) or \
        any(c.strip() for c in _grid_text(page, "Overdue"))
    _no_exception(page)
