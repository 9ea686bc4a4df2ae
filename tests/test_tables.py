"""Tables as people read them (dashboard.widgets.presented): words for codes, headers in words, agencies and regions
as links to their profile and focus, numbers and dates by unit, plurals; and the pages' frame around them."""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest

from dashboard import widgets
from pipelines.contracts import VALUE_LABELS
from tests.test_app import facts, run_app, snapshot
from tests.test_disclosure import AGENCY_USER, demo_as

CODE = re.compile(r"^[A-Z][A-Z_]{3,}$")  # CERTIFIED_ACTIVE, SUD_TREATMENT, STATE_GF, NO_ADVANCEMENT ...


def visible(table) -> dict[str, list[str]]:
    """A table as the grid shows it: header -> the cells' text, for the columns it shows (a link column shows what
    its display pattern takes from the link)."""
    config = json.loads(table.proto.columns or "{}")
    frame = table.value
    shown = {}
    for name in list(table.proto.column_order) or list(frame.columns):
        cfg = config.get(name, {})
        if cfg.get("hidden"):
            continue
        kind = cfg.get("type_config", {})
        if kind.get("type", "").endswith("_chart"):  # a sparkline of numbers
            continue
        values = ["" if v is None or v != v else str(v) for v in frame[name].tolist()]
        if kind.get("type") == "link" and kind.get("display_text"):
            values = [(m.group(1) if (m := re.search(kind["display_text"], v)) else v) for v in values]
        shown[cfg.get("label") or name] = values
    return shown


def links(table, column: str) -> list[str]:
    config = json.loads(table.proto.columns or "{}")
    assert config[column]["type_config"]["type"] == "link", config.get(column)
    return table.value[column].tolist()


@pytest.mark.parametrize("page", ["certification", "overview", "organizations", "billing", "integration", "agency",
                                  "regions", "definitions"])
def test_tables_show_words_not_codes(demo_env, page):
    at = demo_as("admin@state.example", page, **({"agency": "AG0067"} if page == "agency" else {}))
    assert at.dataframe, f"{page} shows no table"
    for table in at.dataframe:
        for header, cells in visible(table).items():
            assert "_" not in header, (page, header)
            codes = sorted({c for c in cells if CODE.fullmatch(c)})
            assert not codes, (page, header, codes)
            assert "None" not in cells and "nan" not in cells, (page, header)


def test_the_certification_action_list_reads_days_left_soonest_first(demo_env):
    at = run_app("pages/certification.py")
    action = at.dataframe[-1]
    shown = visible(action)
    assert list(shown)[:3] == ["Agency", "Days left", "Expires"]
    days = [int(d) for d in shown["Days left"]]
    assert days == sorted(days) and 0 <= days[0] <= days[-1] <= 90
    config = json.loads(action.proto.columns)
    assert config["days_to_expiry"]["type_config"]["type"] == "number"  # the number, not a bar
    assert config["expiration_date"]["type_config"] == {"type": "date", "format": widgets.DATE_GRID}
    assert set(shown["Role"]) <= set(VALUE_LABELS.values())
    titles = dict(facts(snapshot(demo_env), "select credential_code, title from credentials"))
    assert set(shown["Credential"]) <= set(titles.values())


def test_agency_and_region_cells_link_to_the_profile_and_the_focus(demo_env):
    at = run_app("pages/overview.py")
    tables = [t for t in at.dataframe if "agency_id" in t.value.columns]
    assert len(tables) == 4  # the four "Needs attention" lists
    for table in tables:
        ids, names = table.value["agency_id"].tolist(), visible(table)["Agency"]
        for link, agency, name in zip(links(table, widgets.AGENCY_LINK), ids, names):
            assert link.startswith(f"agency?agency={agency}") and link.endswith(f"#{name}")
        regions = dict(facts(snapshot(demo_env), "select region_id, name from regions"))
        for link, region in zip(links(table, widgets.REGION_LINK), table.value["region_id"].tolist()):
            assert link.startswith(f"./?region={region}") and link.endswith(f"#{regions[region]}")
    organizations = run_app("pages/organizations.py").dataframe[0]
    assert all(link.startswith(f"agency?agency={a}") for link, a in
               zip(links(organizations, widgets.AGENCY_LINK), organizations.value["agency_id"]))
    scorecard = run_app("pages/regions.py").dataframe[0]
    assert visible(scorecard)["Region"] == scorecard.value["region"].tolist()
    assert all(link.startswith("./?region=R") for link in links(scorecard, widgets.REGION_LINK))


def test_links_keep_demo_modes_viewer(demo_env):
    at = demo_as(AGENCY_USER, "overview")
    table = next(t for t in at.dataframe if "agency_id" in t.value.columns)
    assert all("demo_as=submitter%40fairstead.example" in link for link in links(table, widgets.AGENCY_LINK))


def test_kpi_cards_lead_to_the_page_that_explains_them(demo_env):
    at = run_app("pages/overview.py")
    pages = {link.label: link.proto.page for link in at.main.get("page_link")}
    for title in ("Integration practices", "Regions", "Certification", "Retention", "Medicaid billing",
                  "Action list", "Submissions"):
        assert title in pages, sorted(pages)
    billing = demo_as("admin@state.example", "billing")
    defined = [link for link in billing.main.get("page_link") if link.label == "Metric definition"]
    assert len(defined) == 8 and all("definitions" in link.proto.page for link in defined)
    definitions = demo_as("admin@state.example", "definitions", metric="denial_rate_pct")
    assert definitions.selectbox(key="definition-denial_rate_pct").value == "denial_rate_pct"
    assert any(s.value == "Denial rate" for s in definitions.subheader)


def test_the_overview_sends_only_state_staff_to_the_organizations_page(demo_env):
    state = demo_as("admin@state.example", "overview")
    assert any(link.label.startswith("Every agency") for link in state.main.get("page_link"))
    agency = demo_as(AGENCY_USER, "overview")
    assert not [link for link in agency.main.get("page_link") if "organizations" in link.proto.page]
    assert not any("Organizations page" in c.value for c in agency.caption)


def test_the_agency_profile_has_its_title_above_the_picker(demo_env):
    at = demo_as("admin@state.example", "agency", agency="AG0101")
    order = [type(node).__name__ for node in at.main if type(node).__name__ in ("Title", "Selectbox")]
    assert order[:2] == ["Title", "Selectbox"], order


def test_figures_say_their_as_of_date_in_one_format(demo_env):
    at = run_app("pages/certification.py")
    captions = " ".join(c.value for c in at.caption)
    assert "Figures as of 15 Nov 2026 (a fixed date" in captions
    assert "2026-11-15" not in captions


def test_one_suppression_note_per_page_for_the_public(demo_env):
    from dashboard.disclosure import NOTE

    for page in ("overview", "certification", "retention", "billing", "regions", "integration"):
        at = demo_as("", page)
        said = [c.value for c in at.caption if NOTE[:40] in c.value] + [
            i.value for i in at.info if "handful of people" in i.value]
        assert len(said) == 1, (page, said)


def test_presented_words_numbers_dates_and_the_csv_keeps_the_codes():
    frame = pl.DataFrame({"status": ["CERTIFIED_ACTIVE", "LAPSED", None], "role": ["FAMILY_PEER"] * 3,
                          "denial_rate_pct": [15.0, 17.84, None], "population": [2450000, 1, None],
                          "due_date": [dt.datetime(2026, 11, 15), None, None], "comment": ["OTHER", "free text", None]})
    shown = widgets.label_codes(frame)
    assert shown["status"].to_list() == ["Certified (active)", "Lapsed", None]
    assert shown["role"].to_list() == ["Family peer specialist"] * 3
    assert shown["comment"].to_list() == ["OTHER", "free text", None]  # not a column of codes: left alone
    assert b"CERTIFIED_ACTIVE" in widgets.csv_bytes(frame)
    assert widgets.column("denial_rate_pct").header == "Denial rate (%)"
    assert widgets.column("separations_in_4_quarters").header == "Separations (4 quarters)"
    assert widgets.column("peers_per_trained_supervisor").header == "Supervision coverage"
    assert widgets.column("some_new_pct").header == "Some new (%)"
    assert [widgets.number_text(v, ".1f") for v in (15, 17.84, None, "suppressed")] == ["15.0", "17.8", "",
                                                                                        "suppressed"]
    assert widgets.date_text(dt.date(2026, 11, 5)) == "5 Nov 2026" == widgets.date_text("2026-11-05")
    assert widgets.datetime_text(dt.datetime(2026, 11, 15, 9, 5)) == "15 Nov 2026, 09:05"
    assert [widgets.plural(n, "warning") for n in (0, 1, 2)] == ["0 warnings", "1 warning", "2 warnings"]
    assert widgets.plural(1234, "agency", "agencies") == "1,234 agencies"
