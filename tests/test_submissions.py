"""Compliance states (on time, late, rejected, missing, not due) and the submissions page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from pipelines import compliance, warehouse
from pipelines.ingest import ingest
from tests.conftest import clean_rows, csv_bytes

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _load(con, kind, rows, when, agency="AG0001", quarter="2026-Q1"):
    return ingest(con, f"{kind}.csv", csv_bytes(rows), agency=agency, quarter=quarter,
                  submitted_at=dt.datetime.fromisoformat(when), publish=False)


def _grid(con, condition="true", params=()):
    return {(a, q, r): (s, sid) for a, q, r, s, sid in con.execute(
        f"select agency_id, quarter, report, state, submission_id from ({compliance.grid_sql(condition)})",
        ["2026-Q1", "2026-Q3", *params]).fetchall()}


def test_states_follow_the_due_date_and_the_uploads(con):
    # 2026-Q1 ends 2026-03-31: due 2026-04-30 (fixture policy 30 days); as of 2026-11-01
    on_time = _load(con, "headcount", clean_rows("headcount"), "2026-04-30T23:59:00")
    late = _load(con, "billing", clean_rows("billing"), "2026-05-01T08:00:00")
    bad = clean_rows("retention")
    bad[1][3] = "PROMOTED"
    rejected = _load(con, "retention", bad, "2026-04-02T10:00:00")
    assert (on_time.status, late.status, rejected.status) == ("loaded", "loaded", "rejected")
    # a later correction of an on-time report keeps it on time
    fixed = clean_rows("headcount")
    fixed[1][3] = "6"
    replaced = _load(con, "headcount", fixed, "2026-06-15T09:00:00")
    # 2026-Q3 ends 2026-09-30: due 2026-10-30, before the as-of date; nothing filed for it
    con.execute("insert into submissions (agency_id, quarter, report, sha256, rows, status, submitted_at) "
                "values ('AG0002', '2026-Q3', 'headcount', 'x', 0, 'accepted', '2026-10-01')")
    grid = _grid(con)
    assert grid[("AG0001", "2026-Q1", "headcount")] == ("on time", replaced.load.submission_ids[0])
    assert grid[("AG0001", "2026-Q1", "billing")] == ("late", late.load.submission_ids[0])
    assert grid[("AG0001", "2026-Q1", "retention")] == ("rejected", rejected.load.submission_ids[0])
    assert grid[("AG0001", "2026-Q1", "certification")] == ("missing", None)
    assert grid[("AG0001", "2026-Q3", "billing")] == ("missing", None)
    assert grid[("AG0002", "2026-Q3", "headcount")][0] == "on time"
    # AG0003 closed on 2025-06-30: not expected to report in 2026
    assert not [k for k in grid if k[0] == "AG0003"]
    assert len(grid) == 2 * 2 * 4  # 2 active agencies x 2 quarters with data x 4 reports


def test_not_due_until_the_due_date_passes(con, monkeypatch):
    _load(con, "headcount", clean_rows("headcount"), "2026-04-10T09:00:00")
    warehouse.set_setting(con, "as_of", "2026-04-20")
    grid = _grid(con)
    assert grid[("AG0001", "2026-Q1", "billing")] == ("not due", None)
    con.execute("update policy set value = '10' where setting = 'submission_due_days'")  # due 2026-04-10
    assert _grid(con)[("AG0001", "2026-Q1", "billing")] == ("missing", None)


def test_filters_and_the_not_yet_submitted_list(con):
    _load(con, "headcount", clean_rows("headcount"), "2026-04-10T09:00:00")
    only_family = _grid(con, "a.agency_type = ?", ["FAMILY_RUN"])
    assert {k[0] for k in only_family} == {"AG0002"}
    rows = con.execute(compliance.outstanding_sql(), ["2026-Q1", "2026-Q1"]).fetchall()
    by_agency = {r[0]: r for r in rows}
    assert by_agency["AG0001"][4] == "alpha@example.org"
    assert by_agency["AG0001"][5] == "2026-Q1 billing; 2026-Q1 certification; 2026-Q1 retention"
    assert by_agency["AG0002"][6] == 4


# --- the page -------------------------------------------------------------------------------------------------------

def _page(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/submissions.py").run()
    assert not at.exception, at.exception
    return at


def _live(db, sql):
    con = warehouse.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_page_counts_match_the_grid_sql_and_honour_the_region_filter(demo_env):
    at = _page({"region": "R2"})
    shown = {m.label.lower(): int(m.value.replace(",", "")) for m in at.metric}
    con_sql = compliance.grid_sql("a.region_id = 'R2'").replace("between ? and ?", "between '2023-Q4' and '2026-Q3'")
    expected = dict(_live(demo_env, f"select state, count(*) from ({con_sql}) group by state"))
    assert shown == {s: expected.get(s, 0) for s in compliance.STATES}
    regions = _live(demo_env, "select count(*) from agencies where region_id = 'R2'")[0][0]
    problems = next(d.value for d in at.dataframe if "state" in d.value.columns)
    assert set(problems["state"]) <= {"late", "rejected", "missing"}
    assert len(problems) == sum(expected.get(s, 0) for s in ("late", "rejected", "missing"))
    at.toggle(key="cells-all").set_value(True).run()
    cells = next(d.value for d in at.dataframe if "state" in d.value.columns)
    assert len(cells) == sum(expected.values())
    assert set(cells["region_id"]) == {"R2"} and cells["agency_id"].nunique() <= regions
    grid_html = at.get("html")[0].proto.body
    assert grid_html.count('data-state="') == sum(
        1 for q in cells["quarter"] if q in sorted(set(cells["quarter"]))[-4:])
    missing = next(d.value for d in at.dataframe if "reports_missing" in d.value.columns)
    assert set(missing["region_id"]) <= {"R2"} and missing["contact_email"].notna().all()


def test_page_history_of_a_submission_is_linkable(demo_env):
    old, new, agency, quarter, report = _live(
        demo_env, "select submission_id, superseded_by, agency_id, quarter, report from submissions "
                  "where superseded_by is not null order by 1 limit 1")[0]
    at = _page({"submission": str(old)})
    assert at.subheader[0].value == f"Submission #{old}: {agency} {quarter} {report}"
    assert [m for m in at.markdown if f"replaced by #{new}" in m.value]
    history = next(d.value for d in at.dataframe if "superseded_by" in d.value.columns)
    assert list(history["submission_id"]) == [new, old]
    assert any("not kept here" in c.value for c in at.caption)  # demo files were loaded without the portal


def test_page_unknown_submission_says_so(demo_env):
    at = _page({"submission": "999999"})
    assert "no submission #999999" in at.info[0].value


def test_grid_draws_the_agencies_with_late_or_missing_reports_first(demo_env):
    at = _page()
    rows = re.findall(r"<tr><th title=\"[^\"]*\"><a href=\"[^\"]*\">(AG\d+)</a></th>", at.get("html")[0].proto.body)
    recent = "('2025-Q4', '2026-Q1', '2026-Q2', '2026-Q3')"
    sql = compliance.grid_sql().replace("between ? and ?", f"in {recent}")
    problems = dict(_live(demo_env, f"select agency_id, count(*) filter (where state in ('late', 'rejected', "
                                    f"'missing')) from ({sql}) group by all"))
    troubled = {a for a, n in problems.items() if n}
    assert {"AG0067", "AG0082"} <= troubled  # the demo's late and missing submitters
    assert set(rows[:len(troubled)]) == troubled
    assert [problems[a] for a in rows] == sorted((problems[a] for a in rows), reverse=True)  # most problems first
