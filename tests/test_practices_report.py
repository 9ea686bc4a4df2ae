"""The integration practices self-assessment: detection, value rules, reference and cross-report checks, loading,
the replacement preview, the command line and the semiannual due quarters of the compliance grid."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys

import pytest

from pipelines import upload
from pipelines import compliance, suites, warehouse
from pipelines.contracts import REFERENCE, REPORTS
from pipelines.ingest import ingest
from pipelines.validation import validate
from tests.conftest import FIXTURES, clean_rows, csv_bytes

HEADER = REPORTS["practices"].names
REFERENCE_TARGETS = REFERENCE["targets"].names
FIRST = 2
"""Row of the first practice in the file (the header is row 1)."""


def practice_codes(con, agency: str = "AG0001") -> list[str]:
    """The practices that apply to the agency, in the order the assessment lists them."""
    return [c for c, in con.execute(
        "select practice_code from integration_practices p, agencies a where a.agency_id = ? "
        "and (p.applies_to = 'ALL' or a.serves_children) order by practice_code", [agency]).fetchall()]


def assessment(con, agency: str = "AG0001", quarter: str = "2026-Q2") -> list[list[str]]:
    """A complete, valid assessment: every applicable practice once, rated by leadership and 3 peers."""
    rows = [list(HEADER)]
    for i, code in enumerate(practice_codes(con, agency)):
        status, owner, due = [("NONE", "", ""), ("PLANNED", "HR", "2026-Q4"), ("IN_PROGRESS", "PEER_SUPERVISOR",
                                                                                 quarter), ("DONE", "EXECUTIVE", "")][i % 4]
        rows.append([agency, quarter, code, str(i % 5), str((i + 1) % 5), "3", status, owner, due])
    return rows


def row_of(rows: list[list[str]], code: str) -> int:
    """The file row (header = 1) holding a practice."""
    return next(i for i, r in enumerate(rows) if r[2] == code) + 1


def findings(con, rows, **kw) -> set[tuple]:
    report = validate("practices.csv", csv_bytes(rows), con=con, **kw).report
    return {(f.code, f.severity, f.row, f.column) for f in report.findings}


def load_headcount(con, peers: int, quarter: str = "2026-Q2") -> None:
    rows = clean_rows("headcount")
    for r in rows[1:]:
        r[1] = quarter
    rows[1][3:6] = [str(peers), str(min(peers, 3)), str(peers)]  # PEER_RECOVERY_SUD headcount, full time, fte
    if peers == 0:
        rows[1][6] = "2"  # vacancies: the agency is hiring
    assert ingest(con, "headcount.csv", csv_bytes(rows), publish=False).status == "loaded"


# --- detection and a clean file ------------------------------------------------------------------------------------

def test_the_header_identifies_the_report_and_a_complete_assessment_loads(con):
    rows = assessment(con)
    result = validate("self-assessment.csv", csv_bytes(rows), con=con)
    assert result.kind == "practices" and result.report.valid, result.report.findings
    assert "Recognised as the practices report from its header." in result.report.notes
    outcome = ingest(con, "self-assessment.csv", csv_bytes(rows), publish=False)
    assert outcome.status == "loaded"
    assert con.execute("select agency_id, quarter, report, rows, status from submissions").fetchall() == [
        ("AG0001", "2026-Q2", "practices", 19, "accepted")]
    assert con.execute("select count(*), count(distinct practice_code), min(source_row), max(source_row) "
                       "from practices").fetchall() == [(19, 19, 2, 20)]


def test_a_report_of_another_kind_is_told_apart(con):
    result = validate("practices.csv", csv_bytes(assessment(con)), kind="headcount", con=con)
    assert [f.code for f in result.report.errors] == ["wrong-report"]


# --- value rules (the GX suite) ------------------------------------------------------------------------------------

def test_ratings_are_0_to_4(con):
    rows = assessment(con)
    rows[1][3], rows[2][4] = "5", "-1"
    assert findings(con, rows) >= {("out-of-range", "error", 2, "rating_leadership"),
                                   ("out-of-range", "error", 3, "rating_peers")}


def test_a_peer_rating_comes_exactly_with_peer_respondents(con):
    rows = assessment(con)
    rows[1][4] = ""  # 3 respondents but no peer rating
    rows[2][5] = "0"  # a peer rating but no respondent
    rows[3][4], rows[3][5] = "", "0"  # neither: fine
    assert {f for f in findings(con, rows) if f[1] == "error"} == {
        ("peer-rating-missing", "error", 2, "rating_peers"),
        ("peer-rating-without-respondents", "error", 3, "rating_peers")}


def test_action_plans_need_an_owner_and_open_ones_a_due_quarter_not_before_the_assessment(con):
    rows = assessment(con)
    rows[1][6:9] = ["PLANNED", "", "2026-Q3"]  # no owner
    rows[2][6:9] = ["IN_PROGRESS", "HR", ""]  # open without a due quarter
    rows[3][6:9] = ["PLANNED", "HR", ""]  # open without a due quarter
    rows[4][6:9] = ["IN_PROGRESS", "HR", "2026-Q1"]  # due before the 2026-Q2 assessment
    rows[5][6:9] = ["DONE", "HR", "2025-Q4"]  # done: an old due quarter is history, not an error
    rows[6][6:9] = ["DONE", "", ""]  # done needs an owner too
    rows[7][6:9] = ["NONE", "", ""]  # no action: nothing else needed
    report = validate("practices.csv", csv_bytes(rows), con=con).report
    assert {(f.code, f.row, f.column) for f in report.errors} == {
        ("action-owner-missing", 2, "action_owner"), ("action-due-missing", 3, "action_due_quarter"),
        ("action-due-missing", 4, "action_due_quarter"), ("action-due-before-assessment", 5, "action_due_quarter"),
        ("action-owner-missing", 7, "action_owner")}
    early = next(f for f in report.errors if f.code == "action-due-before-assessment")
    assert "2026-Q1" in early.message and "2026-Q2" in early.message and "assessment quarter" in early.message


def test_each_practice_once(con):
    rows = assessment(con)
    rows.append(list(rows[1]))
    assert {f[:3] for f in findings(con, rows) if f[0] == "duplicate-row"} == {
        ("duplicate-row", "error", 2), ("duplicate-row", "error", len(rows))}


def test_the_suite_round_trips_and_carries_the_practice_rules():
    committed = json.loads(suites.suite_path("practices").read_text())
    assert committed == json.loads(json.dumps(suites.build_suite("practices"))), "run `make docs`"
    assert suites.load_suite("practices").to_json_dict() == committed
    codes = {e["meta"]["code"] for e in committed["expectations"]}
    assert {"out-of-range", "peer-rating-missing", "peer-rating-without-respondents", "action-owner-missing",
            "action-due-missing", "action-due-before-assessment", "duplicate-row"} <= codes


# --- reference checks ----------------------------------------------------------------------------------------------

def test_an_unknown_practice_is_an_error_and_the_one_it_replaced_is_missing(con):
    rows = assessment(con)
    at = row_of(rows, "SUP_TRAINED")
    rows[at - 1][2] = "SUP_TRAINING"
    report = validate("practices.csv", csv_bytes(rows), con=con).report
    assert {(f.code, f.row, f.column, f.value) for f in report.errors} == {
        ("unknown-practice", at, "practice_code", "SUP_TRAINING"), ("practice-missing", None, "practice_code",
                                                                   "SUP_TRAINED")}


def test_every_missing_practice_is_one_finding_naming_it(con):
    rows = assessment(con)
    dropped = ["CULT_FEEDBACK", "LEAD_FUNDING"]
    rows = [r for r in rows if r[2] not in dropped]
    report = validate("practices.csv", csv_bytes(rows), con=con).report
    missing = [f for f in report.errors if f.code == "practice-missing"]
    assert [(f.row, f.column, f.value) for f in missing] == [(None, "practice_code", c) for c in dropped]
    assert [f.code for f in report.errors] == ["practice-missing"] * 2
    assert all(f.value in f.message and "2026-Q2" in f.message and not f.message.startswith("Row")
               for f in missing)


def test_a_practice_no_longer_asked_is_an_error_and_not_missing(con):
    con.execute("update integration_practices set active_to = date '2025-12-31' where practice_code = 'POL_ADVOCACY'")
    rows = assessment(con)
    at = row_of(rows, "POL_ADVOCACY")
    assert findings(con, rows) == {("practice-not-active", "error", at, "practice_code")}
    without = [r for r in rows if r[2] != "POL_ADVOCACY"]
    assert findings(con, without) == set()
    assert findings(con, [list(HEADER), *[[*r[:1], "2025-Q4", *r[2:]] for r in rows[1:]]]) == set()  # still asked


def test_the_family_and_youth_practice_is_accepted_unscored_from_an_agency_not_serving_children(con):
    rows = assessment(con)  # AG0001 does not serve children: FAM_YOUTH_PEERS is not asked
    assert "FAM_YOUTH_PEERS" not in {r[2] for r in rows}
    rows.append(["AG0001", "2026-Q2", "FAM_YOUTH_PEERS", "1", "1", "3", "NONE", "", ""])
    report = validate("practices.csv", csv_bytes(rows), con=con).report
    assert report.valid
    assert [(f.code, f.row, f.column) for f in report.warnings] == [
        ("practice-not-applicable", len(rows), "practice_code")]
    assert "not scored" in report.warnings[0].message
    assert ingest(con, "practices.csv", csv_bytes(rows), publish=False).status == "loaded"


def test_an_agency_serving_children_must_rate_the_family_and_youth_practice(con):
    rows = assessment(con, "AG0002")
    assert findings(con, rows) == set()
    rows = [r for r in rows if r[2] != "FAM_YOUTH_PEERS"]
    assert findings(con, rows) == {("practice-missing", "error", None, "practice_code")}


def test_unknown_agency_inactive_agency_and_future_quarter(con):
    rows = assessment(con)
    unknown = [list(HEADER), *[["AG0999", *r[1:]] for r in rows[1:]]]
    assert {f[0] for f in findings(con, unknown)} == {"unknown-agency"}
    closed = [list(HEADER), *[["AG0003", *r[1:]] for r in rows[1:]]]  # closed on 2025-06-30
    assert ("agency-inactive", "error", FIRST, "quarter") in findings(con, closed)
    future = [list(HEADER), *[[r[0], "2026-Q4", *r[2:8], "2026-Q4" if r[8] else ""] for r in rows[1:]]]
    assert {f[0] for f in findings(con, future)} == {"future-quarter"}  # as of 2026-11-01


# --- cross-report checks -------------------------------------------------------------------------------------------

def test_more_peer_respondents_than_peers_on_staff_is_a_warning_on_the_first_such_row(con):
    load_headcount(con, peers=4)
    rows = assessment(con)
    rows[3][5] = "6"
    rows[5][5] = "9"
    report = validate("practices.csv", csv_bytes(rows), con=con).report
    assert report.valid
    assert [(f.code, f.row, f.column, f.value) for f in report.warnings] == [
        ("peer-respondents-exceed-headcount", 4, "peer_respondents_count", 9)]
    assert "lists 4 peer workers" in report.warnings[0].message
    load_headcount(con, peers=9)
    assert validate("practices.csv", csv_bytes(rows), con=con).report.warnings == []


def test_a_peer_rating_from_an_agency_reporting_no_peers_is_an_error(con):
    rows = assessment(con)
    assert findings(con, rows) == set()  # no headcount report for the quarter: nothing to compare with
    load_headcount(con, peers=0)
    report = validate("practices.csv", csv_bytes(rows), con=con).report
    assert [(f.code, f.row, f.column) for f in report.errors] == [("peer-rating-without-peers", FIRST, "rating_peers")]
    assert "no peer workers" in report.errors[0].message and "rating_peers" in report.errors[0].message
    no_peer_voice = [list(HEADER), *[[*r[:4], "", "0", *r[6:]] for r in rows[1:]]]
    assert findings(con, no_peer_voice) == set()


# --- loading -------------------------------------------------------------------------------------------------------

def test_a_bad_file_loads_nothing(con):
    from tests.test_loading import content_checksum

    ingest(con, "practices.csv", csv_bytes(assessment(con, quarter="2025-Q4")), publish=False)
    before = content_checksum(con)
    rows = assessment(con)
    rows[1][3] = "7"
    outcome = ingest(con, "practices.csv", csv_bytes(rows), publish=False)
    assert outcome.status == "rejected"
    assert content_checksum(con) == before
    assert con.execute("select report, status, error_count from submissions order by submission_id").fetchall() == [
        ("practices", "accepted", 0), ("practices", "rejected", 1)]


def test_an_xlsx_assessment_points_at_its_cells_and_a_clean_one_loads(con):
    import xlsxwriter

    def workbook(rows: list[list[str]]) -> bytes:
        buf = io.BytesIO()
        book = xlsxwriter.Workbook(buf)
        sheet = book.add_worksheet("Self-assessment")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value.isdigit() and r:
                    sheet.write_number(r, c, int(value))
                elif value:
                    sheet.write_string(r, c, value)
        book.close()
        return buf.getvalue()

    rows = assessment(con)
    rows[4][6:9] = ["PLANNED", "", "2026-Q4"]
    report = validate("assessment.xlsx", workbook(rows), con=con).report
    assert report.report == "practices"
    assert [(f.code, f.row, f.column) for f in report.errors] == [("action-owner-missing", 5, "action_owner")]
    rows[4][7] = "PROGRAM_DIRECTOR"
    outcome = ingest(con, "assessment.xlsx", workbook(rows), publish=False)
    assert outcome.status == "loaded"
    assert con.execute("select action_owner, action_due_quarter from practices where source_row = 5").fetchall() == [
        ("PROGRAM_DIRECTOR", "2026-Q4")]


def test_the_replacement_preview_compares_ratings_and_open_actions(con):
    first = upload.check(con, "practices.csv", csv_bytes(assessment(con)), agency="AG0001", quarter="2026-Q2")
    assert upload.submit(first, submitted_by="tester").status == "loaded"
    rows = assessment(con)
    for r in rows[1:]:
        r[3], r[4], r[5], r[6:9] = "4", "", "0", ["DONE", "HR", ""]
    second = upload.check(con, "practices.csv", csv_bytes(rows), agency="AG0001", quarter="2026-Q2")
    assert second.replaces
    changes = {m: (b, a) for m, b, a, _ in second.changes.iter_rows()}
    open_before = sum(1 for r in assessment(con)[1:] if r[6] in ("PLANNED", "IN_PROGRESS"))
    assert changes["Practices rated"] == (19, 19)
    assert changes["Mean leadership rating (0-4)"][1] == 4
    assert changes["Mean peer rating (0-4)"][1] is None  # no peer rating is not a rating of 0
    assert changes["Open actions"] == (open_before, 0)


# --- command line --------------------------------------------------------------------------------------------------

def test_cli_validates_and_ingests_practices_with_and_without_report(env, write):
    con = warehouse.connect(env / "warehouse.duckdb")
    warehouse.init(con)
    warehouse.load_reference(con, FIXTURES / "reference")
    good = write("assessment.csv", assessment(con))
    con.close()

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "pipelines", *map(str, args), "--format", "json"],
                              capture_output=True, text=True, timeout=300)
        return done.returncode, json.loads(done.stdout)

    code, doc = cli("validate", good)
    assert code == 0 and doc["report"] == "practices" and doc["rows"] == 19
    rows = [r for r in csv_rows(good) if r[2] != "SUP_REGULAR"]
    bad = write("bad.csv", rows)
    code, doc = cli("validate", bad, "--report", "practices")
    assert code == 1 and [(e["code"], e["row"], e["column"], e["value"]) for e in doc["errors"]] == [
        ("practice-missing", None, "practice_code", "SUP_REGULAR")]
    code, doc = cli("ingest", good, "--report", "practices", "--agency", "AG0001", "--quarter", "2026-Q2")
    assert code == 0 and doc["status"] == "loaded"


def csv_rows(path) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(path.read_text())))


# --- the compliance grid: practices only in the quarters the policy names -------------------------------------------

def three_quarters(con) -> None:
    """Headcount reports for 2026-Q1 to 2026-Q3, so the warehouse knows those quarters."""
    for quarter in ("2026-Q1", "2026-Q2", "2026-Q3"):
        load_headcount(con, peers=4, quarter=quarter)


def _grid(con, first="2026-Q1", last="2026-Q4"):
    return {(a, q, r): s for a, q, r, s in con.execute(
        f"select agency_id, quarter, report, state from ({compliance.grid_sql()})", [first, last]).fetchall()}


def test_practices_are_expected_only_in_the_policys_due_quarters(con):
    three_quarters(con)
    ingest(con, "practices.csv", csv_bytes(assessment(con)), submitted_at=dt.datetime(2026, 7, 20), publish=False)
    grid = _grid(con)
    practices = {(a, q): s for (a, q, r), s in grid.items() if r == "practices"}
    assert practices == {("AG0001", "2026-Q2"): "on time", ("AG0002", "2026-Q2"): "missing"}
    quarterly = {(a, q) for (a, q, r) in grid if r == "headcount"}
    assert {q for _, q in quarterly} == {"2026-Q1", "2026-Q2", "2026-Q3"}  # the four reports: every quarter
    assert {r for (_, q, r) in grid if q == "2026-Q2"} == set(REPORTS)
    missing = dict(con.execute(f"select agency_id, reports_missing from ({compliance.outstanding_sql()})",
                               ["2026-Q2", "2026-Q2"]).fetchall())
    assert "2026-Q2 practices" in missing["AG0002"] and "practices" not in missing["AG0001"]

    con.execute("update policy set value = 'Q1, Q3' where setting = 'practices_due_quarters'")
    con.execute("insert into policy select 'practices_due_quarters', 'Q1, Q3', 'test' where not exists "
                "(select 1 from policy where setting = 'practices_due_quarters')")
    assert {q for (_, q, r) in _grid(con) if r == "practices"} == {"2026-Q1", "2026-Q3"}


def test_due_quarters_are_read_from_the_policy_value_or_default():
    assert compliance.due_quarters("Q2 Q4") == ["Q2", "Q4"]
    assert compliance.due_quarters(" q1;q3 ") == ["Q1", "Q3"]
    assert compliance.due_quarters(None) == compliance.due_quarters("") == ["Q2", "Q4"]


def test_the_fixture_policy_lacks_the_setting_and_the_default_applies(con):
    assert con.execute("select count(*) from policy where setting = 'practices_due_quarters'").fetchall() == [(0,)]
    three_quarters(con)
    assert {q for (_, q, r) in _grid(con) if r == "practices"} == {"2026-Q2"}


@pytest.mark.parametrize("kind", ["headcount", "retention"])
def test_quarterly_reports_are_still_expected_every_quarter(con, kind):
    three_quarters(con)
    assert {q for (_, q, r) in _grid(con) if r == kind} == {"2026-Q1", "2026-Q2", "2026-Q3"}


# --- migration -----------------------------------------------------------------------------------------------------

def test_upgrading_a_version_4_warehouse_adds_practices_and_reshapes_targets(env):
    import duckdb

    path = env / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("create table schema_version (version integer, applied_at timestamp default current_timestamp)")
    old.execute("insert into schema_version (version) values (4)")
    old.execute("create table targets (component varchar, label varchar, target double, weight double)")
    old.execute("insert into targets values ('pct_certified', '% certified', 85, 1)")
    old.close()
    con = warehouse.connect(path)
    assert warehouse.init(con) == 4
    assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION == 5
    assert [c for c, in con.execute("select column_name from information_schema.columns where table_name = "
                                    "'targets' order by ordinal_position").fetchall()] == REFERENCE_TARGETS
    assert con.execute("select pillar, floor, target, stretch, contractual from targets "
                       "where component = 'pct_certified'").fetchall() == [("workforce", 60.0, 85.0, 95.0, True)]
    assert con.execute("select count(*) from integration_practices").fetchall() == [(20,)]
    assert con.execute("select count(*) from practices").fetchall() == [(0,)]
    con.close()
