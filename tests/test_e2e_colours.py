"""Real browser: a place keeps its colour on every page and for every reader, chart text is not cut at 1280 px,
and a click on an agency or a region in a chart opens its profile or focuses the dashboard on it."""

from __future__ import annotations

import urllib.parse

import pytest

from dashboard import palette
from tests.browser import MARKS, served, settled

pytestmark = MARKS

ADMIN, PUBLIC = "admin@state.example", ""
RIVER_VALLEY = palette.REGION_COLOURS[2]  # R3 in the reference table of regions
AGENCY_IN_RIVER_VALLEY = "AG0008"


@pytest.fixture(scope="module")
def app_url(demo_warehouse, tmp_path_factory):
    with served(demo_warehouse, tmp_path_factory.mktemp("e2e-colours")) as url:
        yield url


def _open(page, url: str, path: str, principal: str, **params: str) -> None:
    """Open a page viewed as `principal` in demo mode ('' = the public), with filters in the address."""
    query = urllib.parse.urlencode({**params, **({} if principal == ADMIN else {"demo_as": principal})})
    page.goto(f"{url}/{path}" + (f"?{query}" if query else ""))
    page.wait_for_selector('[data-testid="stApp"]')
    page.locator('[data-testid="stVegaLiteChart"] svg').first.wait_for(timeout=60_000)
    settled(page)


def _chart(page, words: str):
    chart = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text=words).first
    chart.scroll_into_view_if_needed()
    chart.locator("svg .role-title-text").first.wait_for(timeout=30_000)  # drawn, legend included
    return chart


LEGEND = """chart => Object.fromEntries([...chart.querySelectorAll('.role-legend-label text')].map(text => {
    const entry = text.closest('.role-legend-label').parentNode;
    const symbol = entry.querySelector('.role-legend-symbol path');
    return [text.textContent, symbol ? (symbol.getAttribute('fill') || '').toUpperCase() : null];
}))"""


def _legend(chart) -> dict[str, str]:
    """Legend label -> its swatch's fill, as drawn."""
    return chart.locator("svg").first.evaluate(LEGEND)


def _fill_of_mark(chart, words: str) -> str:
    """The fill of the first mark whose accessible label names `words` (a bar, a cell)."""
    return (chart.locator(f'svg path[aria-label*="{words}"]').first.get_attribute("fill") or "").upper()


def test_a_place_keeps_its_colour_across_pages_and_roles(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 1000})
    statewide, river_valley = [], []
    for principal in (ADMIN, PUBLIC):
        for params in ({}, {"region": "R3"}):  # the whole state, and River Valley in focus
            _open(page, app_url, "", principal, **params)
            drawn = _legend(_chart(page, "Integration index (0-100)"))
            statewide.append(("overview", principal, params, drawn["Statewide"]))
            river_valley.append(("overview", principal, params, drawn["River Valley"]))
            _open(page, app_url, "retention", principal, **params)
            drawn = _legend(_chart(page, "Annualized peer turnover"))
            statewide.append(("retention", principal, params, drawn["Statewide"]))
            river_valley.append(("retention", principal, params, drawn["River Valley"]))
        _open(page, app_url, "regions", principal)
        river_valley.append(("regions", principal, {}, _fill_of_mark(_chart(page, "Peer FTE per 100,000"),
                                                                     "River Valley")))
    _open(page, app_url, "agency", ADMIN, agency=AGENCY_IN_RIVER_VALLEY)  # the profile: state staff and the agency
    drawn = _legend(_chart(page, "Integration index (0-100) by quarter"))
    statewide.append(("agency", ADMIN, {}, drawn["Statewide"]))
    river_valley.append(("agency", ADMIN, {}, drawn["River Valley"]))
    assert {fill for *_, fill in statewide} == {palette.STATE_COLOUR.upper()}, statewide
    assert {fill for *_, fill in river_valley} == {RIVER_VALLEY.upper()}, river_valley
    assert palette.AGENCY_COLOUR.upper() in drawn.values()  # the agency itself: a colour no place has


TEXT = """chart => [...chart.querySelectorAll(
    '.role-title text, .role-axis-label text, .role-axis-title text, .role-legend-label text')].map(t => {
    const box = t.getBoundingClientRect();
    return {text: t.textContent, right: box.right, left: box.left};
})"""


@pytest.mark.parametrize("path", ["", "certification", "retention", "billing", "integration", "regions"])
def test_chart_titles_and_labels_are_not_cut_at_1280(page, app_url, path):
    page.set_viewport_size({"width": 1280, "height": 1000})
    _open(page, app_url, path, ADMIN)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    checked = 0
    for i in range(charts.count()):
        chart = charts.nth(i)
        if not chart.is_visible():
            continue
        chart.scroll_into_view_if_needed()
        chart.locator("svg .role-title-text").first.wait_for(timeout=30_000)
        box = chart.bounding_box()
        for item in chart.locator("svg").first.evaluate(TEXT):
            assert not item["text"].endswith("…"), (path, i, item["text"])
            assert box["x"] - 4 <= item["left"] and item["right"] <= box["x"] + box["width"] + 4, (path, i, item)
            checked += 1
    assert checked > 20
    if path == "certification":  # the longest credential title, whole (its words on two lines)
        labels = _chart(page, "Peer workers by credential").locator("svg").first.text_content()
        assert "NAADAC National Certified Peer" in labels and "Recovery Support Specialist" in labels


def test_clicking_an_agency_in_the_denial_heatmap_opens_its_profile(page, app_url):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1280, "height": 1000})
    _open(page, app_url, "billing", ADMIN)
    grid = _chart(page, "Denial rate (% of adjudicated units)")
    grid.locator('svg path[aria-label*="AG0101"]').first.click(force=True)
    expect(page.get_by_role("heading", name="Fairstead Behavioral Health", exact=True)).to_be_visible(timeout=30_000)
    assert "agency=AG0101" in page.url


def test_clicking_a_region_in_a_heatmap_focuses_the_dashboard_on_it(page, app_url):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1280, "height": 1000})
    _open(page, app_url, "integration", PUBLIC)  # regions are public: the public can focus too
    grid = _chart(page, "Leadership ratings (0-4)")
    grid.locator('svg path[aria-label*="River Valley"]').first.click(force=True)
    region = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Region")
    expect(region).to_have_value("River Valley (R3)", timeout=30_000)
    settled(page)
    assert "region=R3" in page.url
