"""Tenant isolation in uploads: an agency user's file naming other agencies is refused before any check reads
the warehouse, shows none of their figures, and is recorded (with its original) only under the user's agency.

Each probe is built from another agency's real rows so that, checked for that agency (as the state may), a
cross-report or reference check quotes its figures; the same file uploaded by the agency user must not.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from pipelines import upload
from pipelines import checks, compliance, settings, warehouse
from pipelines.contracts import PEER_ROLES, REPORTS
from pipelines.findings import Report
from pipelines.ingest import rejection_group
from pipelines.validation import Validated, derive_columns, resolve_as_of, validate
from tests.conftest import clean_rows, csv_bytes

APP = str(Path(__file__).resolve().parent.parent / "app.py")
USER = "submitter@fairstead.example"  # the demo's agency submitter, for AG0042 and AG0101
OWN = "AG0101"
QUARTER = "2026-Q3"
VICTIM = {"headcount": "AG0003", "certification": "AG0003", "billing": "AG0003",
          "retention": "AG0073",  # AG0073 closed on 2025-06-30: its active dates are its figures
          "practices": "AG0003"}
NOT_FILED = "AG0080"  # has filed nothing for 2026-Q3: its compliance cells are 'missing'
KINDS = list(VICTIM)
PEERS = "(" + ", ".join(f"'{r}'" for r in PEER_ROLES) + ")"
SUBMISSIONS = ("select submission_id, agency_id, quarter, report, file_name, sha256, rows, status, submitted_by, "
               "superseded_by from submissions order by submission_id")
NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?(?!\w)")
ROW_PREFIX = re.compile(r"^Row \d+: ")


# --- probes and the victims' figures, by SQL of their own -------------------------------------------------------

def warehouse_rows(con, kind: str, agency: str, quarter: str) -> list[list]:
    names = ", ".join(REPORTS[kind].names)
    return [list(r) for r in con.execute(f"select {names} from {kind} where agency_id = ? and quarter = ? "
                                         "order by source_row", [agency, quarter]).fetchall()]


def probe_rows(con, kind: str) -> list[list]:
    """Another agency's real rows, changed so that checking them against its data quotes its figures."""
    if kind == "practices":  # a full assessment claiming more peer respondents than the agency has peers
        peers, = con.execute(f"select sum(headcount) from headcount where agency_id = ? and quarter = '{QUARTER}' "
                             f"and role in {PEERS}", [VICTIM[kind]]).fetchall()[0]
        codes = con.execute("select practice_code from integration_practices p, agencies a where a.agency_id = ? "
                            "and (p.applies_to = 'ALL' or a.serves_children) order by practice_code",
                            [VICTIM[kind]]).fetchall()
        return [[VICTIM[kind], QUARTER, code, 2, 2, peers + 7, "NONE", None, None] for code, in codes]
    if kind == "retention":  # the closed agency's last events, moved to a quarter it was not active in
        return [[*r[:1], QUARTER, *r[2:]] for r in warehouse_rows(con, kind, VICTIM[kind], "2025-Q2")]
    rows = warehouse_rows(con, kind, VICTIM[kind], QUARTER)
    if kind == "headcount":  # 20 more peer specialists than last quarter's staff and this quarter's hires explain
        return [[*r[:3], r[3] + 20, r[4] + 20, r[5] + 20, *r[6:]] if r[2] == "PEER_SPECIALIST_MH" else r
                for r in rows]
    if kind == "certification":  # far fewer peers than the headcount report lists
        return rows[:2]
    return [[*r[:9], r[9] * 40, *r[10:]] for r in rows]  # billing: far more units than its peer FTE could bill


def figures(con, kind: str, rows: list[list]) -> set:
    """What checking the probe against the victim's data would tell: its numbers (floats) and dates (text)."""
    def one(sql: str) -> tuple:
        return con.execute(sql, [VICTIM[kind]]).fetchall()[0]

    if kind == "headcount":
        prior, = one(f"select sum(headcount) from headcount where agency_id = ? and quarter = '2026-Q2' "
                     f"and role in {PEERS}")
        hires, separations = one(f"select count(*) filter (where event = 'HIRE'), count(*) filter (where event = "
                                 f"'SEPARATION') from retention where agency_id = ? and quarter = '{QUARTER}'")
        return {float(prior), float(hires), float(separations), float(prior + hires - separations)}
    if kind in ("certification", "practices"):
        peers, = one(f"select sum(headcount) from headcount where agency_id = ? and quarter = '{QUARTER}' "
                     f"and role in {PEERS}")
        return {float(peers)}
    if kind == "billing":
        fte, = one(f"select sum(fte) from headcount where agency_id = ? and quarter = '{QUARTER}' and role in {PEERS}")
        return {float(round(sum(r[9] for r in rows) / fte))}
    start, end = one("select strftime(active_from, '%Y-%m-%d'), strftime(active_to, '%Y-%m-%d') from agencies "
                     "where agency_id = ?")
    return {start, end}


def to_csv(kind: str, rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REPORTS[kind].names)
    writer.writerows(["" if v is None else v for v in r] for r in rows)
    return buf.getvalue().encode()


def told(texts, quoted: set) -> set:
    """The victim's figures found in these texts (a row number leading a finding's message is not a figure)."""
    found = set()
    for text in texts:
        text = ROW_PREFIX.sub("", str(text or ""))
        found |= {float(n) for n in NUMBER.findall(text)} & quoted
        found |= {d for d in quoted if isinstance(d, str) and d in text}
    return found


def finding_texts(findings) -> list[str]:
    return [t for f in findings for t in (f.message, f.value)]


@pytest.fixture
def wh(demo_env):
    con = warehouse.connect(demo_env)
    warehouse.init(con)
    yield con
    con.close()


# --- validation and the checks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_probe_checked_for_its_own_agency_quotes_its_figures_but_for_ours_only_names_the_rows(wh, kind):
    rows = probe_rows(wh, kind)
    quoted = figures(wh, kind, rows)
    control = validate(f"{kind}.csv", to_csv(kind, rows), agency=VICTIM[kind], quarter=QUARTER, con=wh).report
    assert told(finding_texts(control.findings), quoted) == quoted  # the probe works when checks may run
    attack = validate(f"{kind}.csv", to_csv(kind, rows), agency=OWN, quarter=QUARTER, con=wh).report
    assert not attack.valid
    assert [(f.code, f.row, f.column, f.value) for f in attack.findings] == [
        ("agency-mismatch", row, "agency_id", VICTIM[kind]) for row in range(2, len(rows) + 2)]
    assert all(f.message.startswith(f"Row {f.row}: agency_id is {VICTIM[kind]}, but this upload is for {OWN}.")
               for f in attack.findings)
    assert told(finding_texts(attack.findings), quoted) == set()
    assert any("nothing else was checked" in n for n in attack.notes)


def test_an_unknown_agency_and_a_real_one_get_the_same_answer(wh):
    """No answer tells whether an agency exists, or when it was active."""
    rows = probe_rows(wh, "headcount")
    answers = {}
    for other in ("AG0003", "AG0073", "AG9999"):
        named = [[other, *r[1:]] for r in rows]
        report = validate("h.csv", to_csv("headcount", named), agency=OWN, quarter=QUARTER, con=wh).report
        answers[other] = [(f.code, f.row, f.message.replace(other, "AGxxxx")) for f in report.findings]
    assert answers["AG0003"] == answers["AG0073"] == answers["AG9999"]


@pytest.mark.parametrize("kind", KINDS)
def test_checks_scoped_to_an_agency_never_read_another_agencys_data(wh, kind):
    """Even handed another agency's rows, a run scoped to ours compares nothing with theirs."""
    rows = probe_rows(wh, kind)
    typed = validate(f"{kind}.csv", to_csv(kind, rows), con=None).typed
    frame = derive_columns(typed, kind)

    def run(agencies):
        return checks.run(wh, frame, kind, resolve_as_of(wh), 100, cross=True, agencies=agencies)[0]

    assert told(finding_texts(run(None)), figures(wh, kind, rows))  # unscoped (a state backfill): compared
    assert run([OWN]) == []
    assert checks.in_scope(frame, [OWN]).is_empty()


def test_a_mixed_file_names_only_the_other_agencys_rows_and_checks_nothing(wh):
    own = warehouse_rows(wh, "headcount", OWN, QUARTER)
    theirs = probe_rows(wh, "headcount")
    quoted = figures(wh, "headcount", theirs)
    report = validate("mixed.csv", to_csv("headcount", own + theirs), agency=OWN, quarter=QUARTER, con=wh).report
    first = len(own) + 2
    assert [(f.code, f.row) for f in report.findings] == [("agency-mismatch", r) for r in
                                                          range(first, first + len(theirs))]
    assert told(finding_texts(report.findings), quoted) == set()


def test_a_rejected_file_is_recorded_under_the_agency_and_quarter_chosen(con):
    rows = clean_rows("headcount")  # AG0001's rows for 2026-Q1
    rows[1][2] = "PEER_COACH"
    checked = upload.check(con, "h.csv", csv_bytes(rows), agency="AG0001", quarter="2025-Q4", submitted_by="t")
    assert {f.code for f in checked.report.errors} == {"value-not-allowed", "quarter-mismatch"}
    assert con.execute("select agency_id, quarter, status from submissions").fetchall() == [
        ("AG0001", "2025-Q4", "rejected")]
    named = Validated(Report("x.csv"), groups=[("AG0002", "2026-Q1")])  # rows naming one other agency
    assert rejection_group(named, "AG0001", None) == ("AG0001", "2026-Q1")
    assert rejection_group(named, None, None) == ("AG0002", "2026-Q1")  # a state backfill without --agency
    many = Validated(Report("x.csv"), groups=[("AG0001", "2026-Q1"), ("AG0002", "2026-Q1")])
    assert rejection_group(many, None, None) == (None, None)


# --- the command line: --agency has the same meaning; without it, a state backfill checks every agency ---------

def test_cli_agency_option_isolates_like_the_upload_page(wh, demo_env, tmp_path):
    rows = probe_rows(wh, "headcount")
    quoted = figures(wh, "headcount", rows)
    before = wh.execute(SUBMISSIONS).fetchall()
    wh.close()
    probe = tmp_path / "probe.csv"
    probe.write_bytes(to_csv("headcount", rows))

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "pipelines", *map(str, args), "--format", "json"],
                              capture_output=True, text=True, timeout=300)
        return done.returncode, json.loads(done.stdout)

    code, doc = cli("validate", probe, "--agency", OWN)
    assert code == 1 and {e["code"] for e in doc["errors"]} == {"agency-mismatch"} and not doc["warnings"]
    assert told([t for f in doc["errors"] for t in (f["message"], f["value"])], quoted) == set()
    code, doc = cli("validate", probe)  # the state's backfill: many agencies, checked against their data
    assert code == 0 and told([w["message"] for w in doc["warnings"]], quoted) == quoted
    code, doc = cli("ingest", probe, "--agency", OWN, "--quarter", QUARTER)
    assert code == 1 and doc["status"] == "rejected"
    con = warehouse.connect(demo_env)
    try:
        after = con.execute(SUBMISSIONS).fetchall()
    finally:
        con.close()
    assert after[:len(before)] == before
    assert [(r[1], r[2], r[3], r[7]) for r in after[len(before):]] == [(OWN, QUARTER, "headcount", "rejected")]


# --- the upload page, as the agency submitter -------------------------------------------------------------------

def grid(con) -> dict:
    return {(a, q, r): (s, sid) for a, q, r, s, sid in con.execute(
        f"select agency_id, quarter, report, state, submission_id from ({compliance.grid_sql()})",
        ["2025-Q4", QUARTER]).fetchall()}


def others(cells: dict) -> dict:
    """The compliance cells of every agency but ours."""
    return {k: v for k, v in cells.items() if k[0] != OWN}


def snapshot_of(db: Path) -> dict:
    con = warehouse.connect(db)
    try:
        return {"submissions": con.execute(SUBMISSIONS).fetchall(),
                "grid": grid(con),
                "linked": con.execute("select distinct s.sha256, s.agency_id from submissions s join original_files "
                                      "o using (sha256)").fetchall(),
                "own facts": {k: con.execute(f"select count(*) from {k} where agency_id = ?", [OWN]).fetchall()
                              for k in KINDS},
                "originals": sorted(p.name for p in settings.originals_dir().glob("*"))
                if settings.originals_dir().exists() else []}
    finally:
        con.close()


@pytest.fixture
def csv_downloads(monkeypatch):
    """Every CSV the pages build, as (columns, text)."""
    from dashboard import widgets

    made = []
    original = widgets.csv_bytes

    def recording(frame):
        data = original(frame)
        made.append((frame.columns, data.decode()))
        return data

    monkeypatch.setattr(widgets, "csv_bytes", recording)
    return made


def upload_page_as_submitter() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["demo_principal"] = USER
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    assert set(at.selectbox(key="up_agency").options) >= {f"{OWN} · Fairstead Behavioral Health"}
    return at


def choose_and_upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.selectbox(key="up_agency").set_value(OWN)
    at.selectbox(key="up_quarter").set_value(QUARTER)
    at.file_uploader(key="up_file").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def page_findings(at: AppTest) -> pl.DataFrame:
    listed = [pl.from_pandas(d.value) for d in at.dataframe
              if list(d.value.columns) == ["row", "column", "letter", "value", "how to fix"]]
    return pl.concat(listed) if listed else pl.DataFrame()


def page_text(at: AppTest) -> str:
    """What the page says, apart from the user's own rows and the data dictionaries."""
    parts = [str(d.value.to_dict("records")) for d in at.dataframe
             if "how to fix" in d.value.columns or "count" in d.value.columns]
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def assert_refused_without_figures(at: AppTest, rows: int, quoted: set, leaked: list[str],
                                   downloads: list) -> None:
    assert "Rejected: nothing was loaded" in at.error[0].value and f"{OWN} {QUARTER}" in at.error[0].value
    counts = next(d.value for d in at.dataframe if list(d.value.columns) == ["code", "severity", "count"])
    assert dict(zip(counts["code"], counts["count"])) == {"agency-mismatch": rows}
    listed = page_findings(at)
    assert set(listed.select("column", "letter").iter_rows()) == {("agency_id", "A")}
    assert listed["row"].to_list() == list(range(2, min(rows, 20) + 2))
    assert told(listed["how to fix"].to_list() + listed["value"].to_list(), quoted) == set()
    findings_csv = [list(csv.DictReader(io.StringIO(text))) for columns, text in downloads if "how to fix" in columns]
    assert findings_csv and len(findings_csv[-1]) == rows
    assert told([r[c] for r in findings_csv[-1] for c in ("how to fix", "value")], quoted) == set()
    text = page_text(at)
    assert not [sentence for sentence in leaked if sentence in text]
    assert not [b for b in at.button if b.key == "up_submit"]


def control_sentences(con, kind: str, content: bytes) -> list[str]:
    """What the state would be told checking the probe for its own agency (its figures in sentences)."""
    report = validate(f"{kind}.csv", content, agency=VICTIM[kind], quarter=QUARTER, con=con).report
    return [ROW_PREFIX.sub("", f.message) for f in report.findings if f.code != "event-outside-quarter"]


@pytest.mark.parametrize("kind", KINDS)
def test_page_probe_of_other_agencies_shows_no_figure_and_records_only_under_our_agency(
        wh, demo_env, csv_downloads, kind):
    rows = probe_rows(wh, kind)
    quoted = figures(wh, kind, rows)
    probe = to_csv(kind, rows)
    leaked = control_sentences(wh, kind, probe)
    assert leaked and told(leaked, quoted) == quoted
    not_filed = to_csv(kind, [[NOT_FILED, *r[1:]] for r in rows])  # an agency whose cells say 'missing'
    wh.close()
    before = snapshot_of(demo_env)
    if kind in compliance.DUE_QUARTERS:  # the self-assessment is not due in QUARTER: the grid has no cell for it
        assert (NOT_FILED, QUARTER, kind) not in before["grid"]
    else:
        assert before["grid"][(NOT_FILED, QUARTER, kind)][0] == "missing"

    at = choose_and_upload(upload_page_as_submitter(), f"{kind}-probe.csv", probe)
    assert_refused_without_figures(at, len(rows), quoted, leaked, csv_downloads)
    at = choose_and_upload(at, f"{kind}-not-filed.csv", not_filed)
    assert_refused_without_figures(at, len(rows), quoted, leaked, csv_downloads)

    after = snapshot_of(demo_env)
    assert after["submissions"][:len(before["submissions"])] == before["submissions"]
    new = after["submissions"][len(before["submissions"]):]
    assert [(r[1], r[2], r[3], r[7], r[8]) for r in new] == [(OWN, QUARTER, kind, "rejected", USER)] * 2
    shas = {r[5] for r in new}
    assert shas == {hashlib.sha256(probe).hexdigest(), hashlib.sha256(not_filed).hexdigest()}
    assert sorted(set(after["originals"]) - set(before["originals"])) == sorted(shas)
    assert {a for s, a in after["linked"] if s in shas} == {OWN}
    assert others(after["grid"]) == others(before["grid"])
    assert after["own facts"] == before["own facts"]
    con = warehouse.connect(demo_env)
    try:
        stored = con.execute("select code, value, message from submission_findings where submission_id in "
                             "(select unnest(?::bigint[]))", [[r[0] for r in new]]).fetchall()
    finally:
        con.close()
    assert {code for code, _, _ in stored} == {"agency-mismatch"}
    assert told([t for _, value, message in stored for t in (value, message)], quoted) == set()


def test_page_mixed_file_is_refused_for_the_other_agencys_rows_only(wh, demo_env, csv_downloads):
    own = warehouse_rows(wh, "headcount", OWN, QUARTER)
    theirs = probe_rows(wh, "headcount")
    quoted = figures(wh, "headcount", theirs)
    leaked = control_sentences(wh, "headcount", to_csv("headcount", theirs))
    wh.close()
    before = snapshot_of(demo_env)
    at = choose_and_upload(upload_page_as_submitter(), "mixed.csv", to_csv("headcount", own + theirs))
    assert "Rejected: nothing was loaded" in at.error[0].value
    listed = page_findings(at)
    first = len(own) + 2
    assert listed["row"].to_list() == list(range(first, first + len(theirs)))
    assert set(listed["value"]) == {VICTIM["headcount"]}
    assert told(listed["how to fix"].to_list(), quoted) == set()
    assert not [sentence for sentence in leaked if sentence in page_text(at)]
    after = snapshot_of(demo_env)
    new = after["submissions"][len(before["submissions"]):]
    assert [(r[1], r[7]) for r in new] == [(OWN, "rejected")]
    assert after["own facts"] == before["own facts"]
    assert others(after["grid"]) == others(before["grid"])
