"""Real browser at 1280 px: no KPI title, chart title or table header is cut, on every page, for the state
administrator and for the public (demo mode's role switcher: `demo_as` in the address).

How "cut" is found, per kind of text:
- KPI cards (st.metric): the title, the value and the change under it sit in elements that end in an ellipsis when
  the text does not fit (`text-overflow: ellipsis`): an element whose scrollWidth exceeds its clientWidth is cut.
- Chart titles (Vega-Lite, SVG): Vega shortens a title longer than its `limit` with a trailing "…"; a title is cut
  when its drawn text ends in "…" or its box runs past the right edge of the SVG.
- Table headers (st.dataframe, a glide data grid drawn on a canvas): the headers are pixels, and the grid's hidden
  accessibility table names them but carries no widths. The widths are read from the grid itself: the React
  component that draws the canvas (found by walking up the React fiber from the canvas element) holds the laid-out
  columns (`columns[i].width`, after Streamlit's and the grid's sizing), the number of pinned columns
  (`freezeColumns`), the grid's width and its theme (header font, cell padding). Each header's text is measured with
  the same font on a canvas (`measureText`); a header is cut when text + padding on both sides exceeds its column.
  A grid wider than its box must pin its first column (it scrolls sideways with the row's name in view).
  Grids in tabs are checked after opening each tab.
"""

from __future__ import annotations

import urllib.parse

import pytest

from dashboard.pages_table import PAGES, opens
from tests.browser import MARKS, served

pytestmark = MARKS

WIDTH = 1280
ROLES = {"state_admin": "admin@state.example", "public": "public@example.org"}
ADDRESS = {"overview": "", "agency": "agency?agency=AG0101"}
SKIPPED = {"upload", "sql", "audit"}  # forms and the SQL console: no KPI cards, chart or report table of their own


@pytest.fixture(scope="module")
def app_url(demo_warehouse, tmp_path_factory):
    with served(demo_warehouse, tmp_path_factory.mktemp("cut-text")) as url:
        yield url


CUT_METRICS = """() => [...document.querySelectorAll(
    '[data-testid=stMetricLabel] [data-testid=stMarkdownContainer], [data-testid=stMetricValue] '
    + '[data-testid=stMarkdownContainer], [data-testid=stMetricDelta] '
    + '[data-testid=stMarkdownContainer], [data-testid=stMetricDeltaDescription] [data-testid=stCaptionContainer]')]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => `${e.textContent} (${e.scrollWidth} px in ${e.clientWidth})`)"""

CUT_CHART_TITLES = """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart] svg')]
  .filter(svg => svg.getBoundingClientRect().width > 0)
  .flatMap(svg => {
    const right = svg.getBoundingClientRect().right;
    return [...svg.querySelectorAll('.role-title-text text, .role-title-subtitle text')]
      .filter(t => t.textContent.endsWith('…') || t.getBoundingClientRect().right > right + 1)
      .map(t => t.textContent);
  })"""

CUT_HEADERS = """() => {
  const measure = document.createElement('canvas').getContext('2d');
  const problems = [];
  for (const canvas of document.querySelectorAll('[data-testid=stDataFrame] canvas[data-testid=data-grid-canvas]')) {
    if (canvas.offsetParent === null) continue;
    const key = Object.keys(canvas).find(k => k.startsWith('__reactFiber'));
    let fiber = key && canvas[key], grid = null;
    for (let i = 0; fiber && i < 60 && !grid; i++, fiber = fiber.return) {
      const p = fiber.memoizedProps;
      if (p && Array.isArray(p.columns) && p.theme && 'freezeColumns' in p && 'width' in p) grid = p;
    }
    if (!grid) { problems.push('a data grid whose columns could not be read'); continue; }
    const theme = grid.theme;
    measure.font = `${theme.headerFontStyle} ${theme.fontFamily}`;
    let total = 0;
    for (const column of grid.columns) {
      total += column.width;
      const needed = measure.measureText(column.title).width + 2 * theme.cellHorizontalPadding;
      if (needed > column.width + 1) problems.push(`"${column.title}" (${Math.ceil(needed)} px in ${column.width})`);
    }
    if (total > grid.width + 1 && grid.freezeColumns < 1)
      problems.push(`a grid ${total} px wide in ${grid.width} px without a pinned first column: `
                    + grid.columns.map(c => c.title).join(', '));
  }
  return problems;
}"""


def _settled(page) -> None:
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_timeout(1500)
    for _ in range(180):
        if not page.locator('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]').count():
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(1000)


def _cut_text(page) -> list[str]:
    page.evaluate("document.fonts.ready")
    return ([f"KPI: {t}" for t in page.evaluate(CUT_METRICS)]
            + [f"chart title: {t}" for t in page.evaluate(CUT_CHART_TITLES)]
            + [f"table header: {t}" for t in page.evaluate(CUT_HEADERS)])


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("key", [p.key for p in PAGES if p.key not in SKIPPED])
def test_nothing_is_cut_at_1280_px(page, app_url, tmp_path, role, key):
    if not opens(key, role):
        pytest.skip(f"{key} does not open to {role}")
    page.set_viewport_size({"width": WIDTH, "height": 1000})
    path, _, query = ADDRESS.get(key, key).partition("?")
    params = dict(urllib.parse.parse_qsl(query)) | {"demo_as": ROLES[role]}
    page.goto(f"{app_url}/{path}?{urllib.parse.urlencode(params)}")
    _settled(page)
    main = page.locator('[data-testid="stMain"]')
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()
    found = _cut_text(page)
    for tab in main.get_by_role("tab").all():  # what a tab holds is laid out once it is open
        tab.click()
        page.wait_for_timeout(800)
        found += [f"{tab.inner_text()} tab, {what}" for what in _cut_text(page)]
    page.screenshot(path=str(tmp_path / f"{key}-{role}.png"), full_page=True)
    assert not found, sorted(set(found))
