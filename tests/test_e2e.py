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
    expect(page.get_by_text("River Valley · Recovery community organization (RCO) · 2025-Q1 to 2025-Q4",
                            exact=False)).to_be_visible()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("combobox", name="Region")).to_have_value("River Valley (R3)")
    expect(page.get_by_text("1 agency", exact=True)).to_be_visible()  # River Valley's one RCO reporting in 2025-Q4
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
    from pipelines.contracts import SEPARATION_REASONS

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/retention")
    _wait_rendered(page, "Retention")
    pareto = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Separations by reason")
    pareto.scroll_into_view_if_needed()
    assert set(SEPARATION_REASONS) <= set(_visible_labels(pareto))


def test_every_legend_entry_lies_inside_its_chart(page, app_url):
    """A legend in one long row ran past the edge of half-width charts, hiding the last entries."""
    from playwright.sync_api import expect

    from pipelines.contracts import FUNDING

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
        for label in chart.locator("svg .role-legend-label text").all():
            edge = label.bounding_box()
            assert edge["x"] + edge["width"] <= box["x"] + box["width"] + 1, (i, label.text_content())
            checked.add(label.text_content())
    assert set(FUNDING) <= checked
