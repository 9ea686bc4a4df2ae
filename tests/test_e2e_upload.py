"""Browser: a new agency user downloads a template, uploads a file with two mistakes, fixes it, submits,
and finds the submission on the compliance grid. Screenshots are saved in the test's temp dir."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from tests.browser import MARKS, served, settled

pytestmark = MARKS


@pytest.fixture(scope="module")
def upload_app(demo_warehouse, tmp_path_factory):
    """A dashboard of its own (it gets written to) on a free loopback port."""
    work = tmp_path_factory.mktemp("e2e-upload")
    with served(demo_warehouse, work) as url:
        yield url, work


def test_new_user_fixes_a_file_and_sees_it_on_the_grid(page, upload_app, tmp_path):
    from playwright.sync_api import expect

    url, work = upload_app
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/upload")
    expect(page.get_by_role("heading", name="Upload a report")).to_be_visible(timeout=60_000)
    settled(page)

    # 1. the template
    page.get_by_text("Templates and data dictionaries").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the headcount template (CSV)").click()
    template = tmp_path / "template.csv"
    download.value.save_as(template)
    header = next(csv.reader(template.open()))
    assert header[:3] == ["agency_id", "quarter", "role"]
    with page.expect_download() as workbook:
        page.get_by_role("button", name="Download the headcount template (Excel)").click()
    assert Path(workbook.value.path()).read_bytes()[:2] == b"PK"

    # 2. filled in with two mistakes: full-time above headcount (row 2) and a role that does not exist (row 3)
    def fill(path: Path, rows: list[dict]) -> Path:
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header)
            writer.writeheader()
            writer.writerows({**{c: "" for c in header}, "agency_id": "AG0042", "quarter": "2026-Q3",
                              "vacancies": "0", "primary_funding": "GRANT", **r} for r in rows)
        return path

    peers = {"role": "PEER_SPECIALIST_MH", "headcount": "4", "headcount_fulltime": "6", "fte": "3.5"}
    coach = {"role": "PEER_COACH", "headcount": "2", "headcount_fulltime": "1", "fte": "1.5"}
    supervisor = {"role": "PEER_SUPERVISOR", "headcount": "1", "headcount_fulltime": "1", "fte": "1",
                  "trained_peer_supervisors": "1"}
    wrong = fill(tmp_path / "AG0042-headcount.csv", [peers, coach, supervisor])

    page.locator('input[type="file"]').set_input_files(str(wrong))  # the file names its agency and quarter
    expect(page.get_by_text("Rejected: nothing was loaded")).to_be_visible(timeout=60_000)
    settled(page)
    expect(page.get_by_text("The agency and the quarter filled in from the file")).to_be_visible()
    expect(page.get_by_text("fulltime-exceeds-headcount · error · 1")).to_be_visible()
    expect(page.get_by_text("value-not-allowed · error · 1")).to_be_visible()
    assert page.get_by_role("button", name="Submit").count() == 0
    page.screenshot(path=str(tmp_path / "1-findings.png"), full_page=True)

    # 3. the fixed file
    fixed = fill(tmp_path / "AG0042-headcount-fixed.csv",
                 [{**peers, "headcount_fulltime": "3"}, {**coach, "role": "PEER_RECOVERY_SUD"}, supervisor])
    page.locator('input[type="file"]').set_input_files(str(fixed))
    expect(page.get_by_text("Ready to submit")).to_be_visible(timeout=60_000)
    settled(page)
    acknowledge = page.get_by_text(re.compile("I have read the .* warnings"))
    if acknowledge.count():
        acknowledge.click()
        settled(page)
    page.get_by_role("button", name="Submit").click()
    loaded = page.get_by_text(re.compile(r"Loaded: submission #\d+"))
    expect(loaded).to_be_visible(timeout=60_000)
    submission = re.search(r"#(\d+)", loaded.inner_text()).group(1)
    with page.expect_download() as receipt:
        page.get_by_role("button", name="Download the receipt (text)").click()
    kept = Path(receipt.value.path()).read_text()
    assert f"#{submission}" in kept and "AG0042-headcount-fixed.csv" in kept
    page.screenshot(path=str(tmp_path / "2-accepted.png"), full_page=True)
    assert (work / "originals").is_dir() and len(list((work / "originals").iterdir())) == 2  # both files kept

    # 4. the compliance grid: the cell links to the new submission (filed after the due date: late)
    page.goto(f"{url}/submissions?type=PEER_RUN")
    expect(page.get_by_role("heading", name="Compliance grid")).to_be_visible(timeout=60_000)
    settled(page)
    cell = page.locator('a[title="AG0042 2026-Q3 headcount: late"]')
    expect(cell).to_have_attribute("href", f"?submission={submission}")
    page.screenshot(path=str(tmp_path / "3-grid.png"), full_page=True)
    cell.click()
    expect(page.get_by_role("heading", name=f"Submission #{submission}: AG0042 2026-Q3 headcount")).to_be_visible(
        timeout=60_000)
    settled(page)
    with page.expect_download() as original:
        page.get_by_role("button", name="Download the original file (AG0042-headcount-fixed.csv)").click()
    assert Path(original.value.path()).read_bytes() == fixed.read_bytes()
    page.screenshot(path=str(tmp_path / "4-history.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0

    # 5. the audit trail (demo mode opens as the state administrator) lists the rejected and accepted uploads
    # and the download of the original file
    page.goto(f"{url}/audit")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible(timeout=60_000)
    settled(page)
    summary = page.get_by_text(re.compile(r"^\d+ events: "))
    for counted in ("upload accepted", "upload rejected", "original (file )?download(ed)?"):
        expect(summary).to_contain_text(re.compile(f"(1 {counted}|{counted} 1)\\b", re.IGNORECASE))
    page.screenshot(path=str(tmp_path / "5-audit.png"), full_page=True)
