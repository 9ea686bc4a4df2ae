"""Upload flow: check once, then submit; findings in the file's terms; originals kept; concurrency; the page."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from pipelines import upload, upload_findings
from pipelines import docgen, originals, settings
from pipelines.contracts import REPORTS
from tests.conftest import clean_rows, csv_bytes

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PEERS = "('PEER_SPECIALIST_MH','PEER_RECOVERY_SUD','FAMILY_PEER','YOUTH_PEER','FORENSIC_PEER')"


def two_mistakes() -> list[list[str]]:
    rows = clean_rows("headcount")
    rows[1][4] = "9"           # row 2: headcount_fulltime 9 > headcount 5 (column E)
    rows[3][2] = "PEER_COACH"  # row 4: role not allowed (column C)
    return rows


def check(con, rows_or_bytes, name="headcount.csv", kind=None, agency="AG0001", quarter="2026-Q1"):
    data = rows_or_bytes if isinstance(rows_or_bytes, bytes) else csv_bytes(rows_or_bytes)
    return upload.check(con, name, data, agency=agency, quarter=quarter, kind=kind, submitted_by="tester")


def facts(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    sheet = book.add_worksheet("Report")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            number = value.replace(".", "", 1).isdigit() if r else False
            sheet.write_number(r, c, float(value)) if number else sheet.write_string(r, c, value)
    book.close()
    return buf.getvalue()


# --- the flow, driven with real bytes -----------------------------------------------------------------------------

def test_clean_file_is_checked_once_then_loaded_and_kept(con, env):
    checked = check(con, clean_rows("headcount"))
    assert checked.valid and not checked.replaces and not checked.identical and checked.rejection_id is None
    assert facts(con, "select count(*) from submissions") == [(0,)]  # checking writes no submission
    result = upload.submit(checked, submitted_by="tester")
    assert result.status == "loaded" and result.rows == 3
    assert facts(con, "select agency_id, quarter, report, status, rows, submitted_by, sha256 from submissions") == [
        ("AG0001", "2026-Q1", "headcount", "accepted", 3, "tester", checked.report.sha256)]
    assert facts(con, f"select sum(headcount) filter (where role in {PEERS}), sum(fte) from headcount") == [(5, 15.0)]
    kept = env / "originals" / checked.report.sha256  # beside the warehouse by default
    assert settings.originals_dir() == env / "originals"
    assert kept.read_bytes() == csv_bytes(clean_rows("headcount"))
    assert originals.read(checked.report.sha256) == kept.read_bytes()
    assert facts(con, "select file_name, bytes from original_files") == [("headcount.csv", len(kept.read_bytes()))]


def test_errors_name_code_row_column_and_letter_and_load_nothing(con, env):
    checked = check(con, two_mistakes())
    assert not checked.valid
    view = upload_findings.file_view(checked.file_name, checked.data, checked.kind, {"agency_id", "quarter"})
    listed = upload_findings.findings_frame(checked.report, view)
    errors = listed.filter(pl.col("severity") == "error")
    assert set(errors.select("code", "row", "column", "letter", "value").iter_rows()) == {
        ("fulltime-exceeds-headcount", 2, "headcount_fulltime", "E", "9"),
        ("value-not-allowed", 4, "role", "C", "PEER_COACH")}
    assert all("headcount" in m or "allowed" in m for m in errors["how to fix"])
    counts = upload_findings.counts_frame(checked.report)
    assert dict(counts.filter(pl.col("severity") == "error").select("code", "count").iter_rows()) == {
        "fulltime-exceeds-headcount": 1, "value-not-allowed": 1}
    cells = upload_findings.bad_cells(listed, view)
    assert cells[2]["headcount_fulltime"] == "error" and cells[4]["role"] == "error"
    # the rejected attempt is recorded with its findings and the original; no fact row is written
    assert facts(con, "select submission_id, status, error_count from submissions") == [
        (checked.rejection_id, "rejected", 2)]
    assert facts(con, "select count(*) from headcount") == [(0,)]
    assert facts(con, "select code, row, \"column\" from submission_findings where severity = 'error' order by row") \
        == [("fulltime-exceeds-headcount", 2, "headcount_fulltime"), ("value-not-allowed", 4, "role")]
    assert originals.read(checked.report.sha256) == checked.data
    with pytest.raises(ValueError):
        upload.submit(checked, submitted_by="tester")


def test_first_twenty_of_each_code_are_listed_and_all_are_counted(con):
    rows = clean_rows("certification")[:1]
    for i in range(25):
        rows.append(["AG0001", "2026-Q1", f"P1{i:05d}", "PEER_RECOVERY_SUD", "NONE", "WORKING", "", "", "1", "0", "0"])
    checked = check(con, rows, name="certification.csv")
    listed = upload_findings.findings_frame(checked.report, None)
    first = upload_findings.first_of_each(listed)
    assert checked.report.counts()["value-not-allowed"] == 25
    assert first["value-not-allowed"].height == 20
    assert first["value-not-allowed"]["row"].to_list() == list(range(2, 22))


def test_warnings_need_acknowledgement_and_are_stored_with_the_submission(con):
    rows = clean_rows("headcount")
    for r in rows:
        r.append("notes" if r is rows[0] else "x")  # an extra column: a warning, not an error
    checked = check(con, rows)
    assert checked.valid and [f.code for f in checked.report.warnings] == ["extra-column"]
    with pytest.raises(ValueError, match="Acknowledge"):
        upload.submit(checked, submitted_by="tester")
    assert facts(con, "select count(*) from submissions") == [(0,)]
    result = upload.submit(checked, submitted_by="tester", acknowledged=True)
    assert result.status == "loaded"
    assert facts(con, "select s.warning_count, f.severity, f.code, f.\"column\" from submissions s "
                      "join submission_findings f using (submission_id)") == [(1, "warning", "extra-column", "notes")]


def test_replacement_shows_before_and_after_and_needs_confirmation(con):
    first = upload.submit(check(con, clean_rows("headcount")), submitted_by="tester")
    rows = clean_rows("headcount")
    rows[1][3], rows[1][5] = "7", "6"  # PEER_RECOVERY_SUD headcount 5 -> 7, fte 4.5 -> 6
    checked = check(con, rows)
    assert checked.replaces and checked.current["submission_id"].to_list() == first.submission_ids
    changes = {m: (b, a, c) for m, b, a, c in checked.changes.iter_rows()}
    assert changes["Rows"] == (3, 3, 0)
    assert changes["Peer headcount"] == (5, 7, 2)
    assert changes["Peer FTE"] == (4.5, 6.0, 1.5)
    assert changes["Clinician FTE"] == (9.5, 9.5, 0)
    with pytest.raises(ValueError, match="Confirm"):
        upload.submit(checked, submitted_by="tester")
    result = upload.submit(checked, submitted_by="tester", confirmed=True)
    assert result.status == "loaded" and result.superseded_ids == first.submission_ids
    assert facts(con, f"select sum(headcount) filter (where role in {PEERS}) from headcount") == [(7,)]
    assert facts(con, "select submission_id, superseded_by from submissions order by 1") == [
        (first.submission_ids[0], result.submission_ids[0]), (result.submission_ids[0], None)]


def test_identical_file_says_so_and_changes_nothing(con):
    upload.submit(check(con, clean_rows("headcount")), submitted_by="tester")
    before = facts(con, "select * from submissions")
    again = check(con, clean_rows("headcount"), name="renamed.csv")
    assert again.identical and not again.replaces
    assert upload.submit(again, submitted_by="tester").status == "unchanged"
    assert facts(con, "select * from submissions") == before
    assert facts(con, "select count(*) from headcount") == [(3,)]


def test_header_only_file_records_nothing_to_report(con):
    template = docgen.template_csv(REPORTS["billing"]).encode()
    checked = check(con, template, name="billing.csv")
    assert checked.valid and checked.kind == "billing" and checked.validated.typed.height == 0
    result = upload.submit(checked, submitted_by="tester")
    assert result.status == "loaded" and result.rows == 0
    assert facts(con, "select agency_id, quarter, report, status, rows from submissions") == [
        ("AG0001", "2026-Q1", "billing", "accepted", 0)]
    assert facts(con, "select count(*) from billing") == [(0,)]


def test_xlsx_upload_loads_and_points_at_cells(con):
    good = check(con, xlsx_bytes(clean_rows("retention")), name="retention.xlsx")
    assert good.valid and good.kind == "retention"
    assert upload.submit(good, submitted_by="tester").status == "loaded"
    assert facts(con, "select count(*), min(event_date) from retention")[0][0] == 2
    rows = clean_rows("retention")
    rows[2][4] = "2025-12-31"  # row 3: event before the quarter (column E)
    bad = check(con, xlsx_bytes(rows), name="retention-fixed.xlsx")
    view = upload_findings.file_view(bad.file_name, bad.data, bad.kind, {"agency_id", "quarter"})
    listed = upload_findings.findings_frame(bad.report, view).filter(pl.col("severity") == "error")
    assert [(r, c, letter) for r, c, letter in listed.select("row", "column", "letter").iter_rows()] == [
        (3, "event_date", "E")]


# --- concurrency ---------------------------------------------------------------------------------------------------

def test_a_check_overtaken_by_another_load_is_told_to_retry(con):
    a = check(con, clean_rows("headcount"))
    rows = clean_rows("headcount")
    rows[1][3] = "6"
    b = check(con, rows)
    assert upload.submit(a, submitted_by="a").status == "loaded"
    late = upload.submit(b, submitted_by="b")
    assert late.status == "retry" and "again" in late.message
    assert facts(con, "select count(*), sum(headcount) from headcount") == [(3, 16)]  # a's rows only
    again = check(con, rows)  # checking again shows the replacement of a's submission
    assert again.replaces and upload.submit(again, submitted_by="b", confirmed=True).status == "loaded"
    assert facts(con, "select sum(headcount) from headcount") == [(17,)]


@pytest.mark.parametrize("same_group", [True, False], ids=["same-report", "different-agencies"])
def test_two_uploads_started_together_from_two_threads_end_consistent(con, same_group):
    """Two users check and submit at once: both load, or one is told to retry; nothing half-written."""
    files = []
    for i, agency in enumerate(("AG0001", "AG0001" if same_group else "AG0002")):
        rows = clean_rows("headcount")
        for r in rows[1:]:
            r[0] = agency
        rows[1][3] = str(5 + i)
        files.append((agency, rows))
    barrier, outcomes, errors = threading.Barrier(2), {}, []

    def user(i, agency, rows):
        cur = con.cursor()
        try:
            checked = check(cur, rows, agency=agency)
            barrier.wait(timeout=60)
            outcomes[i] = upload.submit(checked, submitted_by=f"user{i}", confirmed=True).status
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            cur.close()

    threads = [threading.Thread(target=user, args=(i, a, r)) for i, (a, r) in enumerate(files)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    statuses = sorted(outcomes.values())
    assert statuses in (["loaded", "loaded"], ["loaded", "retry"])
    if not same_group:
        assert statuses == ["loaded", "loaded"]
    # consistent: one current submission per group, and the facts are exactly the current submissions' rows
    current = facts(con, "select agency_id, count(*) from submissions where status = 'accepted' "
                         "and superseded_by is null group by 1 order by 1")
    assert current == ([("AG0001", 1)] if same_group else [("AG0001", 1), ("AG0002", 1)])
    assert facts(con, "select count(*) from headcount h left join submissions s using (submission_id) "
                      "where s.superseded_by is not null or s.status <> 'accepted' or s.submission_id is null") \
        == [(0,)]
    assert facts(con, "select sum(rows) from submissions where status = 'accepted' and superseded_by is null") == \
        facts(con, "select count(*) from headcount")


# --- the page (AppTest on a copy of the demo warehouse) --------------------------------------------------------

def run_upload_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    return at


def choose_and_upload(at: AppTest, agency: str, quarter: str, name: str, content: bytes, kind: str | None = None):
    at.selectbox(key="up_agency").set_value(agency)
    at.selectbox(key="up_quarter").set_value(quarter)
    if kind:
        at.selectbox(key="up_report").set_value(kind)
    at.file_uploader(key="up_file").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def live(db: Path, sql: str, params=None):
    """Read the app's live warehouse (same process: DuckDB shares the open database)."""
    from pipelines import warehouse

    con = warehouse.connect(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def headcount_rows(agency: str, quarter: str, roles: list[tuple[str, int, int, float]]) -> bytes:
    header = clean_rows("headcount")[0]
    body = [[agency, quarter, role, str(h), str(ft), str(fte), "0", "1" if role == "PEER_SUPERVISOR" else "",
             "GRANT"] for role, h, ft, fte in roles]
    return csv_bytes([header, *body])


def test_page_clean_upload_loads_and_the_overview_changes(demo_env):
    at = AppTest.from_file(APP, default_timeout=90).run()
    before = {m.label: m.value for m in at.metric}
    at.switch_page("pages/upload.py").run()
    # AG0042 has never filed: its first headcount report for the latest quarter adds 12 peer FTE
    content = headcount_rows("AG0042", "2026-Q3", [("PEER_SPECIALIST_MH", 8, 6, 7.0), ("PEER_RECOVERY_SUD", 6, 4, 5.0),
                                                   ("PEER_SUPERVISOR", 1, 1, 1.0)])
    choose_and_upload(at, "AG0042", "2026-Q3", "AG0042-headcount.csv", content)
    assert "Ready to submit" in (at.success[0].value if at.success else at.warning[0].value)
    for box in at.checkbox:
        if box.key == "up_ack":  # cross-report checks may warn about a first report
            box.check()
    at.run()
    at.button(key="up_submit").click().run()
    assert not at.exception, at.exception
    loaded = [s.value for s in at.success if "Loaded" in s.value]
    assert loaded and "3 rows of the headcount report for AG0042 2026-Q3" in loaded[0]
    assert live(demo_env, "select count(*), sum(fte) from headcount where agency_id = 'AG0042'") == [(3, 13.0)]
    fte, pop = live(demo_env, f"select sum(fte) filter (where role in {PEERS}), (select sum(population) "
                              "from regions) from headcount where quarter = '2026-Q3'")[0]
    at.switch_page("pages/overview.py").run()
    after = {m.label: m.value for m in at.metric}
    assert after["Peer FTE per 100k population"] == f"{fte / pop * 100_000:.1f}"
    assert after["Peer FTE per 100k population"] != before["Peer FTE per 100k population"]


def test_page_file_with_errors_lists_codes_rows_and_columns_and_loads_nothing(demo_env):
    at = run_upload_page()
    before = live(demo_env, "select count(*) from headcount")
    content = headcount_rows("AG0067", "2026-Q3", [("PEER_SPECIALIST_MH", 4, 6, 3.75),
                                                   ("PEER_COACH", 18, 10, 14.15), ("PEER_SUPERVISOR", 3, 3, 3.0)])
    choose_and_upload(at, "AG0067", "2026-Q3", "mistakes.csv", content)
    assert "Rejected: nothing was loaded" in at.error[0].value
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    per_code = tables[("code", "severity", "count")]
    errors = per_code[per_code["severity"] == "error"]
    assert dict(zip(errors["code"], errors["count"])) == {"fulltime-exceeds-headcount": 1, "value-not-allowed": 1}
    listed = [d.value for d in at.dataframe if list(d.value.columns)[:5] == ["row", "column", "letter", "value",
                                                                            "how to fix"]]
    found = {(int(r), c, letter) for t in listed for r, c, letter in zip(t["row"], t["column"], t["letter"])}
    assert {(2, "headcount_fulltime", "E"), (3, "role", "C")} <= found
    assert not [b for b in at.button if b.key == "up_submit"]
    assert live(demo_env, "select count(*) from headcount") == before
    assert live(demo_env, "select status from submissions order by submission_id desc limit 1") == [("rejected",)]


def test_page_warning_acknowledgement_replacement_and_identical_file(demo_env):
    at = run_upload_page()
    current = live(demo_env, "select role, headcount, headcount_fulltime, fte from headcount "
                             "where agency_id = 'AG0067' and quarter = '2026-Q3' order by source_row")
    roles = [(r, h, ft, fte) for r, h, ft, fte in current]
    roles[1] = (roles[1][0], roles[1][1], roles[1][2], roles[1][3] + 2.0)  # more FTE, same people
    header = clean_rows("headcount")[0] + ["comments"]  # an extra column: a warning
    body = [["AG0067", "2026-Q3", r, str(h), str(ft), str(fte), "0", "1" if r == "PEER_SUPERVISOR" else "",
             "GRANT", "ok"] for r, h, ft, fte in roles]
    content = csv_bytes([header, *body])
    choose_and_upload(at, "AG0067", "2026-Q3", "replacement.csv", content)
    assert "warning" in at.warning[0].value
    changes = next(d.value for d in at.dataframe if list(d.value.columns) == ["measure", "before", "after", "change"])
    fte = dict(zip(changes["measure"], zip(changes["before"], changes["after"])))["Peer FTE"]
    assert fte[1] - fte[0] == pytest.approx(2.0)
    assert at.button(key="up_submit").disabled
    at.checkbox(key="up_confirm").check().run()
    assert at.button(key="up_submit").disabled  # the warnings are not acknowledged yet
    at.checkbox(key="up_ack").check().run()
    assert not at.button(key="up_submit").disabled
    at.button(key="up_submit").click().run()
    assert any("Loaded" in s.value and "replaces" in s.value for s in at.success)
    stored = live(demo_env, "select f.code from submissions s join submission_findings f using (submission_id) "
                            "where s.agency_id = 'AG0067' and s.quarter = '2026-Q3' and s.report = 'headcount' "
                            "and s.superseded_by is null and f.severity = 'warning'")
    assert ("extra-column",) in stored
    # the same file again: identical, nothing to submit
    at2 = run_upload_page()
    choose_and_upload(at2, "AG0067", "2026-Q3", "replacement-again.csv", content)
    assert "Identical file" in at2.info[-1].value or any("Identical file" in i.value for i in at2.info)
    assert not [b for b in at2.button if b.key == "up_submit"]


def test_page_header_only_and_xlsx(demo_env):
    at = run_upload_page()
    choose_and_upload(at, "AG0042", "2026-Q3", "billing.csv", docgen.template_csv(REPORTS["billing"]).encode(),
                      kind="billing")
    at.button(key="up_submit").click().run()
    assert any("nothing to report" in s.value for s in at.success)
    assert live(demo_env, "select rows, status from submissions where agency_id = 'AG0042' and report = 'billing' "
                          "and quarter = '2026-Q3'") == [(0, "accepted")]
    rows = [clean_rows("retention")[0], ["AG0042", "2026-Q3", "PX00001", "HIRE", "2026-08-03", "2026-08-03", "FT",
                                         "18-20.99", "", ""]]
    at2 = run_upload_page()
    at2.selectbox(key="up_agency").set_value("AG0042")
    at2.selectbox(key="up_quarter").set_value("2026-Q3")
    at2.file_uploader(key="up_file").set_value(("retention.xlsx", xlsx_bytes(rows),
                                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    at2.run()
    assert not at2.exception, at2.exception
    assert any("Read the first sheet" in c.value for c in at2.caption)
    for box in at2.checkbox:
        if box.key == "up_ack":
            box.check()
    at2.run()
    at2.button(key="up_submit").click().run()
    assert any("Loaded" in s.value for s in at2.success)
    assert live(demo_env, "select peer_id, event from retention where agency_id = 'AG0042' and quarter = '2026-Q3'") \
        == [("PX00001", "HIRE")]


# --- what the file names, file-level findings, receipts, wrong file types, replacement totals ------------------

def upload_only(at: AppTest, name: str, content: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="up_file").set_value((name, content, mime)).run()
    assert not at.exception, at.exception
    return at


def test_the_agency_and_quarter_the_file_names_are_chosen_and_another_quarter_is_said_once(demo_env):
    at = run_upload_page()
    content = headcount_rows("AG0042", "2026-Q2", [("PEER_SPECIALIST_MH", 8, 6, 7.0), ("PEER_RECOVERY_SUD", 6, 4, 5.0),
                                                   ("PEER_SUPERVISOR", 1, 1, 1.0)])
    upload_only(at, "AG0042-headcount.csv", content)
    assert at.selectbox(key="up_agency").value == "AG0042" and at.selectbox(key="up_quarter").value == "2026-Q2"
    assert any("filled in from the file" in c.value for c in at.caption)
    assert not at.error  # checked for the file's own agency and quarter
    # the reader picks another quarter: one file-level finding with the count of rows and the fix
    at.selectbox(key="up_quarter").set_value("2026-Q3").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="up_quarter").value == "2026-Q3"  # the choice is not overwritten by the file again
    said = [e.value for e in at.error if "quarter-mismatch" in e.value]
    assert len(said) == 1 and "3 rows" in said[0] and "choose 2026\\-Q2 above, or correct the file" in said[0]
    assert not any("change the quarter above" in e.value for e in at.error)
    listed = [d.value for d in at.dataframe if list(d.value.columns)[:2] == ["row", "column"]]
    assert not any((t["column"] == "quarter").any() for t in listed)  # not once per row
    per_code = next(d.value for d in at.dataframe if tuple(d.value.columns) == ("code", "severity", "count"))
    assert dict(zip(per_code["code"], per_code["count"]))["quarter-mismatch"] == 3


def test_an_agency_user_never_gets_an_agency_from_the_file_that_is_not_theirs(demo_env):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["demo_as"] = "submitter@fairstead.example"  # reports for AG0042 and AG0101
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    other = headcount_rows("AG0067", "2026-Q2", [("PEER_SPECIALIST_MH", 4, 3, 3.5)])
    upload_only(at, "other.csv", other)
    assert at.selectbox(key="up_agency").value is None and at.selectbox(key="up_quarter").value == "2026-Q2"
    assert "AG0067" not in at.selectbox(key="up_agency").options
    own = headcount_rows("AG0101", "2026-Q1", [("PEER_SPECIALIST_MH", 4, 3, 3.5)])
    upload_only(at, "own.csv", own)
    assert at.selectbox(key="up_agency").value == "AG0101" and at.selectbox(key="up_quarter").value == "2026-Q1"


def test_display_makes_group_checks_file_level_and_they_colour_no_row():
    from pipelines.findings import Finding, Report

    report = Report("f.csv", "x", "headcount", 3)
    report.add(Finding("headcount-flow-mismatch", "Row 2: Peer headcount 15 in 2026-Q3 does not follow.", row=2,
                       column="headcount", value=15, severity="warning"))
    report.add(Finding("value-not-allowed", "Row 3: role PEER_COACH is not allowed.", row=3, column="role",
                       value="PEER_COACH"))
    for r in (2, 3, 4):
        report.add(Finding("quarter-mismatch", f"Row {r}: quarter is 2026-Q2 but this upload is for 2026-Q3.",
                           row=r, column="quarter", value="2026-Q2"))
    shown = upload_findings.for_display(report, "2026-Q3")
    assert shown.counts() == report.counts()  # the counts are the file's
    top = upload_findings.file_level(shown)
    assert [(f.code, f.row) for f in top] == [("quarter-mismatch", None), ("headcount-flow-mismatch", None)]
    assert top[0].message == "3 rows of the file name quarter 2026-Q2, but this upload is for 2026-Q3: choose " \
                             "2026-Q2 above, or correct the file."
    assert not top[1].message.startswith("Row")
    view = upload_findings.FileView(pl.DataFrame({"row": [2, 3, 4]}), {"headcount": "D", "role": "C"},
                                    {"headcount": "headcount", "role": "role", "quarter": "quarter"})
    cells = upload_findings.bad_cells(upload_findings.findings_frame(shown, view), view)
    assert cells == {3: {"role": "error"}}  # neither the group check nor the quarter colours a row


def test_page_file_level_warning_is_said_once_at_the_top_and_colours_no_row(demo_env):
    at = run_upload_page()
    current = live(demo_env, "select role, headcount, headcount_fulltime, fte from headcount "
                             "where agency_id = 'AG0067' and quarter = '2026-Q3' order by source_row")
    roles = [(r, h + 30 if i == 0 else h, ft, fte) for i, (r, h, ft, fte) in enumerate(current)]
    choose_and_upload(at, "AG0067", "2026-Q3", "jump.csv", headcount_rows("AG0067", "2026-Q3", roles))
    top = [w.value for w in at.warning if "About the whole file (headcount-flow-mismatch" in w.value]
    assert len(top) == 1 and "Row 2" not in top[0]
    listed = [d.value for d in at.dataframe if list(d.value.columns)[:2] == ["row", "column"]]
    assert not listed  # no per-row list for it
    rows = next(d for d in at.dataframe if "row" in d.value.columns and "role" in d.value.columns)
    assert "#fff3cd" not in str(rows.proto) and "#f8d7da" not in str(rows.proto)


def test_page_submission_gives_a_receipt_with_a_download_and_a_link(demo_env):
    at = run_upload_page()
    content = headcount_rows("AG0042", "2026-Q3", [("PEER_SPECIALIST_MH", 8, 6, 7.0), ("PEER_RECOVERY_SUD", 6, 4, 5.0),
                                                   ("PEER_SUPERVISOR", 1, 1, 1.0)])
    upload_only(at, "AG0042-q3.csv", content)
    for box in at.checkbox:
        if box.key == "up_ack":
            box.check()
    at.run()
    at.button(key="up_submit").click().run()
    assert not at.exception, at.exception
    sid, at_time, sha = live(demo_env, "select submission_id, submitted_at, sha256 from submissions "
                                       "order by submission_id desc limit 1")[0]
    receipt = next(d.value for d in at.dataframe if list(d.value.columns) == ["field", "value"])
    fields = dict(zip(receipt["field"], receipt["value"]))
    assert fields["Submission"] == f"#{sid}" and fields["Agency"] == "AG0042" and fields["Quarter"] == "2026-Q3"
    assert fields["Report"] == "headcount" and fields["Rows"] == "3" and fields["File name"] == "AG0042-q3.csv"
    assert fields["SHA-256"] == sha and fields["Warnings acknowledged"].isdigit()
    assert abs((pd_time(fields["Submitted at"]) - at_time).total_seconds()) < 120
    assert any(b.proto.label == "Download the receipt (text)" for b in at.get("download_button"))
    assert any(f"Open submission #{sid}" in str(p.proto) for p in at.get("page_link"))


def pd_time(text: str):
    import datetime as dt

    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def test_receipt_text_names_every_field():
    from pipelines.ingest import Upload
    from pipelines.loading import LoadResult
    from pipelines.findings import Report
    from pipelines.validation import Validated
    import datetime as dt

    checked = Upload(Validated(Report("a.csv", "abc123", "billing", 0)), None, "a.csv", b"", "AG0001", "2026-Q1")
    fields = upload.receipt(checked, LoadResult("loaded", [7], [5], 0), submitted_by="sam",
                            submitted_at=dt.datetime(2026, 4, 2, 9, 30))
    text = upload.receipt_text(fields)
    for expected in ("#7", "2026-04-02 09:30:00", "AG0001", "2026-Q1", "billing", "nothing to report", "#5",
                     "a.csv", "abc123"):
        assert expected in text


def test_page_a_pdf_is_refused_in_the_products_words_and_nothing_is_recorded(demo_env):
    at = run_upload_page()
    before = live(demo_env, "select count(*) from submissions")
    pdf = (settings.SAMPLE_DIR / "rejected" / "scanned_report.pdf").read_bytes()
    upload_only(at, "scanned_report.pdf", pdf, "application/pdf")
    said = " ".join(e.value for e in at.error)
    assert "cannot be uploaded" in said and "scanned\\_report\\.pdf" in said and ".xlsx" in said
    assert "not allowed" not in said
    assert any("#templates" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == "up_submit"]
    assert live(demo_env, "select count(*) from submissions") == before


def test_page_headcount_replacement_shows_full_time_and_vacancies(demo_env):
    at = run_upload_page()
    current = live(demo_env, "select role, headcount, headcount_fulltime, fte from headcount "
                             "where agency_id = 'AG0067' and quarter = '2026-Q3' order by source_row")
    choose_and_upload(at, "AG0067", "2026-Q3", "again.csv", headcount_rows("AG0067", "2026-Q3", current))
    changes = next(d.value for d in at.dataframe if list(d.value.columns) == ["measure", "before", "after", "change"])
    measures = dict(zip(changes["measure"], zip(changes["before"], changes["after"])))
    assert {"Peer headcount", "Peer FTE", "Peer full-time headcount", "Peer vacancies"} <= set(measures)
    full_time = sum(ft for r, _, ft, _ in current if r in {"PEER_SPECIALIST_MH", "PEER_RECOVERY_SUD", "FAMILY_PEER",
                                                           "YOUTH_PEER", "FORENSIC_PEER"})
    assert measures["Peer full-time headcount"][1] == full_time
    assert measures["Peer vacancies"][1] == 0  # headcount_rows writes no vacancies
