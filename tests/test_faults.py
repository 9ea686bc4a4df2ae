"""Faults leave a clear message and lose nothing: hostile workbooks, a missing audit file, a full disk, kill -9
during a load or its publication, and a validation running while a load starts (real processes throughout)."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipelines import snapshot, warehouse
from tests.conftest import FIXTURES, audit_events, clean_rows, csv_bytes

# --- workbooks built by hand ---------------------------------------------------------------------------------

_CT = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       b'<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       b'<Override PartName="/xl/worksheets/sheet1.xml" '
       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         b'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
             b'<sheet name="Report" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (b'<?xml version="1.0"?><Relationships '
                  b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                  b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                  b'Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def workbook(sheet: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def far_cell_workbook(dimension: bool = True) -> bytes:
    """One header cell and one cell at XFD1048576: the reader would allocate a dense 17-billion-cell range."""
    dim = b'<dimension ref="A1:XFD1048576"/>' if dimension else b""
    return workbook(_SHEET + dim + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>agency_id</t></is></c>'
                    b'</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')


def inflating_workbook(mb: int) -> bytes:
    """A tiny valid sheet padded with a comment that unpacks to `mb` MB."""
    return workbook(_SHEET + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
                    b"</sheetData><!--" + b" " * (mb << 20) + b"--></worksheet>")


# --- helpers --------------------------------------------------------------------------------------------------

def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pipelines", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def make_warehouse(db: Path) -> None:
    """A closed warehouse with the fixture reference data and its snapshot published."""
    con = warehouse.connect(db)
    warehouse.init(con)
    warehouse.load_reference(con, FIXTURES / "reference")
    snapshot.publish(con)
    con.close()


@pytest.fixture
def published(env):
    make_warehouse(env / "warehouse.duckdb")
    return env


def headcount_file(folder: Path, quarter: str, name: str | None = None, extra: int = 0) -> Path:
    rows = clean_rows("headcount")
    for r in rows[1:]:
        r[1] = quarter
    if extra:
        rows[1][3] = str(int(rows[1][3]) + extra)
    path = folder / (name or f"headcount_{quarter}_{extra}.csv")
    path.write_bytes(csv_bytes(rows))
    return path


def consistency(db: Path) -> dict:
    """What a load's atomicity promises, read from the warehouse file: every current accepted submission has
    exactly its rows, no fact belongs to anything else, and each group has one current submission."""
    with duckdb.connect(str(db)) as con:
        wrong_rows = con.execute(
            "select count(*) from submissions s where s.status = 'accepted' and s.superseded_by is null and "
            "s.report = 'headcount' and s.rows <> (select count(*) from headcount h where h.submission_id = "
            "s.submission_id)").fetchall()[0][0]
        stray = con.execute(
            "select count(*) from headcount h where h.submission_id not in (select submission_id from submissions "
            "where status = 'accepted' and superseded_by is null)").fetchall()[0][0]
        doubled = con.execute(
            "select count(*) from (select agency_id, quarter, report from submissions where status = 'accepted' "
            "and superseded_by is null group by all having count(*) > 1)").fetchall()[0][0]
        accepted = con.execute("select coalesce(max(submission_id), 0) from submissions where status = 'accepted'"
                               ).fetchall()[0][0]
    return {"wrong_rows": wrong_rows, "stray": stray, "doubled": doubled, "latest": accepted}


def temp_copies(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(snapshot.TEMP_PREFIX))


# --- hostile workbooks -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dimension", [True, False], ids=["declared", "undeclared"])
def test_a_far_cell_workbook_is_refused_with_exit_2_and_audited(published, tmp_path, dimension):
    data = far_cell_workbook(dimension)
    assert len(data) < 2048
    path = tmp_path / "far.xlsx"
    path.write_bytes(data)
    checked = cli("validate", path, "--format", "json")
    assert checked.returncode == 2, checked.stderr
    assert "Traceback" not in checked.stderr and "memory allocation" not in checked.stderr
    finding = json.loads(checked.stdout)["errors"][0]
    assert finding["code"] == "file-too-large"
    if dimension:
        assert "declares its first sheet as A1:XFD1048576" in finding["message"]
    else:
        assert "needs more memory to read than an upload may use" in finding["message"]
    loaded = cli("ingest", path, "--agency", "AG0001", "--quarter", "2026-Q1")
    assert loaded.returncode == 2, loaded.stderr
    assert "Traceback" not in loaded.stderr
    [event] = audit_events(published / "warehouse.duckdb", "upload_rejected")
    assert "refused (file-too-large)" in event[3]


def test_a_workbook_unpacking_past_five_times_the_limit_is_refused(published, tmp_path, monkeypatch):
    monkeypatch.setenv("PEER_MAX_UPLOAD_MB", "1")  # the cap: 5 MB unpacked
    path = tmp_path / "inflating.xlsx"
    path.write_bytes(inflating_workbook(30))
    assert path.stat().st_size < 100_000
    proc = cli("validate", path, "--format", "json")
    assert proc.returncode == 2, proc.stderr
    finding = json.loads(proc.stdout)["errors"][0]
    assert finding["code"] == "file-too-large"
    assert "unpacks to 30.0 MB, more than 5 MB (5 times the upload limit)" in finding["message"]
    assert "Traceback" not in proc.stderr


def test_normal_files_read_the_same_through_the_bounded_child(tmp_path):
    import polars as pl

    from pipelines import bounded_read, reading

    rows = clean_rows("headcount")
    book = io.BytesIO()
    pl.DataFrame(rows[1:], schema=rows[0], orient="row").write_excel(book, worksheet="Report")
    big = csv_bytes(rows[:1] + rows[1:] * (2 * bounded_read.SMALL_TEXT_BYTES // len(csv_bytes(rows)) + 2))
    assert len(big) > bounded_read.SMALL_TEXT_BYTES  # so it goes through the child
    for name, data in (("h.csv", big), ("h.xlsx", book.getvalue())):
        direct, bounded = reading.read_file(name, data), bounded_read.read_file(name, data)
        assert bounded.frame.equals(direct.frame)
        assert (bounded.headers, bounded.sha256, bounded.notes) == (direct.headers, direct.sha256, direct.notes)
        (tmp_path / name).write_bytes(data)
        assert bounded_read.read_file(tmp_path / name).frame.equals(direct.frame)


# --- the audit file ----------------------------------------------------------------------------------------------

def test_a_warehouse_without_its_audit_file_gets_a_new_one_and_says_so(published, tmp_path):
    db = published / "warehouse.duckdb"
    assert cli("ingest", headcount_file(tmp_path, "2026-Q1")).returncode == 0
    for leftover in published.glob("warehouse.audit.duckdb*"):
        leftover.unlink()  # restored from a backup, or copied, without it
    proc = cli("ingest", headcount_file(tmp_path, "2025-Q4"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "warehouse.audit.duckdb was missing" in proc.stderr and "started a new, empty one" in proc.stderr
    assert len(audit_events(db, "upload_accepted")) == 1
    assert consistency(db)["wrong_rows"] == 0


# --- one writer, readers never lock it ---------------------------------------------------------------------------

def _hold(code: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code + "\nprint('ready', flush=True)\nimport time\n"
                             "time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_validate_never_holds_the_live_warehouse(published, tmp_path):
    file = headcount_file(tmp_path, "2026-Q1")
    reader = _hold("from pipelines import cli\ncon = cli._validation_connection()\n"
                   "con.execute('select count(*) from submissions').fetchall()")
    try:  # a validation holding its connection open: a load goes ahead
        loaded = cli("ingest", file)
        assert loaded.returncode == 0, loaded.stderr
    finally:
        reader.kill()
        reader.wait()
    writer = _hold("from pipelines import warehouse\ncon = warehouse.connect()")
    try:  # a writer holding the warehouse: a validation still answers, from the snapshot
        checked = cli("validate", headcount_file(tmp_path, "2025-Q4"))
        assert checked.returncode == 0, checked.stderr
        assert "busy" not in checked.stderr.lower()
    finally:
        writer.kill()
        writer.wait()


def test_validate_and_ingest_run_at_once(published, tmp_path):
    files = [headcount_file(tmp_path, q) for q in ("2025-Q1", "2025-Q2", "2025-Q3")]
    checking = subprocess.Popen([sys.executable, "-m", "pipelines", "validate", *files], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    loaded = cli("ingest", headcount_file(tmp_path, "2026-Q1"))
    out, errors = checking.communicate(timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert checking.returncode == 0, errors


# --- kill -9 -----------------------------------------------------------------------------------------------------

def test_kill_9_during_loads_and_publications_loses_nothing(published, tmp_path):
    db, target = published / "warehouse.duckdb", published / "published" / "warehouse.duckdb"
    rng = random.Random(20260401)
    started = time.perf_counter()
    first = cli("ingest", headcount_file(tmp_path, "2024-Q1"))
    assert first.returncode == 0, first.stderr
    full = time.perf_counter() - started
    killed_in_publication = 0
    for i, quarter in enumerate(("2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3")):
        file = headcount_file(tmp_path, quarter if i % 2 else "2024-Q1", extra=i + 1)  # new or replacing
        proc = subprocess.Popen([sys.executable, "-m", "pipelines", "ingest", file], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        if i % 2:  # at a random moment of the whole command
            deadline = time.perf_counter() + rng.uniform(0.2, full)
            while time.perf_counter() < deadline and proc.poll() is None:
                time.sleep(0.005)
        else:  # the moment the snapshot's temp copy appears: mid-publication
            while proc.poll() is None and not temp_copies(target.parent):
                time.sleep(0.001)
            killed_in_publication += proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = consistency(db)  # the warehouse opens; a load is all or nothing
        assert (state["wrong_rows"], state["stray"], state["doubled"]) == (0, 0, 0), state
    assert killed_in_publication, "no kill landed during a publication"
    time.sleep(1)  # a copying child outlives its killed parent: let it finish (its file is then orphaned)
    repaired = cli("ingest", headcount_file(tmp_path, "2025-Q4"))
    assert repaired.returncode == 0, repaired.stderr
    assert temp_copies(target.parent) == []
    assert snapshot.published_version(target)[0] == consistency(db)["latest"]
    for i in range(2):  # a kill in the last publication before the next run: that run publishes again
        proc = subprocess.Popen([sys.executable, "-m", "pipelines", "ingest",
                                 headcount_file(tmp_path, "2026-Q1", extra=10 + i)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and not temp_copies(target.parent):
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    time.sleep(1)
    stale = snapshot.published_version(target)[0] != consistency(db)["latest"]
    again = cli("ingest", headcount_file(tmp_path, "2026-Q1", extra=11))  # the same file again: unchanged
    assert again.returncode == 0, again.stderr
    if stale:
        assert "was out of date" in again.stderr
    assert snapshot.published_version(target)[0] == consistency(db)["latest"]
    assert temp_copies(target.parent) == []


# --- a full disk -------------------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs, filled on demand; skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], capture_output=True,
                          text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_a_full_warehouse_disk_exits_2_saying_what_to_free(small_disk, tmp_path, monkeypatch):
    db = small_disk / "warehouse.duckdb"
    monkeypatch.setenv("PEER_DB", str(db))
    monkeypatch.setenv("PEER_SNAPSHOT", str(tmp_path / "published" / "warehouse.duckdb"))
    monkeypatch.setenv("PEER_AS_OF", "2026-05-15")
    make_warehouse(db)
    filler = fill(small_disk)
    proc = cli("ingest", headcount_file(tmp_path, "2026-Q1"))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "cannot rollback" not in proc.stderr
    assert f"The disk holding {small_disk} is full" in proc.stderr and "Free space there" in proc.stderr
    filler.unlink()
    state = consistency(db)
    assert (state["wrong_rows"], state["stray"], state["latest"]) == (0, 0, 0)
    assert cli("ingest", headcount_file(tmp_path, "2026-Q1")).returncode == 0


def test_a_full_snapshot_disk_reports_loaded_but_not_published(small_disk, tmp_path, monkeypatch):
    db, target = tmp_path / "warehouse.duckdb", small_disk / "published" / "warehouse.duckdb"
    monkeypatch.setenv("PEER_DB", str(db))
    monkeypatch.setenv("PEER_SNAPSHOT", str(target))
    monkeypatch.setenv("PEER_AS_OF", "2026-05-15")
    make_warehouse(db)
    filler = fill(small_disk)
    proc = cli("ingest", headcount_file(tmp_path, "2026-Q1"), "--format", "json")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["status"] == "loaded-unpublished"
    assert "loaded; publication failed" in proc.stderr and "stale until the next ingest or init" in proc.stderr
    assert f"The disk holding {target.parent} is full" in proc.stderr
    [event] = audit_events(db, "publication_failed")
    assert "loaded; the snapshot was not replaced" in event[3]
    assert consistency(db)["latest"] == 1 and snapshot.published_version(target)[0] == 0  # old snapshot kept
    assert temp_copies(target.parent) == []
    filler.unlink()
    again = cli("ingest", headcount_file(tmp_path, "2026-Q1"))  # unchanged: the run repairs the snapshot
    assert again.returncode == 0, again.stderr
    assert "was out of date" in again.stderr
    assert snapshot.published_version(target)[0] == 1


def test_only_a_small_plain_text_file_is_read_without_the_child(monkeypatch, tmp_path):
    from pipelines import bounded_read, reading

    children = []
    real_run = subprocess.run
    monkeypatch.setattr(bounded_read.subprocess, "run", lambda *a, **k: children.append(a) or real_run(*a, **k))
    rows = clean_rows("headcount")
    small = csv_bytes(rows)
    (tmp_path / "h.csv").write_bytes(small)
    for table in (bounded_read.read_file("h.csv", small), bounded_read.read_file(tmp_path / "h.csv")):
        assert table.frame.equals(reading.read_file("h.csv", small).frame)
    assert children == []
    wide = small + b"," * bounded_read.MAX_COLUMNS + b"\n"  # one line of 1,001 cells: the child reads it
    book = io.BytesIO()
    import polars as pl
    pl.DataFrame(rows[1:], schema=rows[0], orient="row").write_excel(book)
    for name, data in (("wide.csv", wide), ("h.xlsx", book.getvalue()), ("h.csv", small * 2000)):
        try:
            bounded_read.read_file(name, data)
        except reading.Unreadable:
            pass
        assert len(children) == 1, name
        children.clear()


def test_a_read_past_its_time_limit_is_stopped(tmp_path):
    from pipelines import bounded_read
    from pipelines.reading import Unreadable

    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes(clean_rows("headcount")))
    with pytest.raises(Unreadable) as info:
        bounded_read.read_file(path, timeout_s=0.01)
    assert info.value.finding.code == "file-too-large"
    assert "took longer than 0.01 s to read and was stopped" in info.value.finding.message
