"""Many readers, one writer at a time: writers wait their turn visibly and within a bound; readers never wait.

Real processes where the process boundary is the point: a writer holding the warehouse in one process, the
command line in another, the dashboard served in a third.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines import snapshot, writer
from tests.browser import MARKS, served
from tests.conftest import clean_rows, csv_bytes
from tests.test_app import APP

ROOT = Path(APP).parent
HOLD = ("import select, sys\nfrom pipelines import writer\nwith writer.turn(what='a long backfill'):\n"
        "    print('held', flush=True)\n    select.select([sys.stdin], [], [], float(sys.argv[1]))\n")
"""Holds the writer's turn until a line arrives on its stdin, or for argv[1] seconds."""


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def hold(seconds: float) -> subprocess.Popen:
    """Another process holding the writer's turn for `seconds` (it says 'held' once it has it)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], cwd=ROOT, stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE, text=True, env=os.environ.copy())
    assert proc.stdout.readline().strip() == "held"
    return proc


def submissions(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select count(*) from submissions").fetchall()[0][0]


@pytest.fixture
def initialised(env):
    assert cli("init").returncode == 0
    path = env / "headcount.csv"
    path.write_bytes(csv_bytes(clean_rows("headcount")))
    return path


def test_a_second_writer_waits_in_line_saying_so_then_loads(initialised, env):
    holder = hold(120)
    proc = subprocess.Popen([sys.executable, "-m", "pipelines", "ingest", str(initialised)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PEER_WRITE_WAIT_S": "120"})
    deadline = time.monotonic() + 100
    while not writer.waiting(env / "warehouse.duckdb"):  # the command is in line
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    time.sleep(1)
    assert proc.poll() is None  # still waiting
    holder.communicate("done\n", timeout=30)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Waiting for the warehouse" in err and "a long backfill" in err
    assert submissions(env / "warehouse.duckdb") == 1
    assert snapshot.published_version()[0] == 1  # and published its load


def test_a_writer_that_waits_past_the_bound_says_busy_and_writes_nothing(initialised, env):
    holder = hold(60)
    try:
        proc = cli("ingest", str(initialised), env={"PEER_WRITE_WAIT_S": "2"})
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Warehouse busy" in proc.stderr and "a long backfill" in proc.stderr
    assert "Nothing was written" in proc.stderr
    assert submissions(env / "warehouse.duckdb") == 0


def test_a_killed_holder_frees_the_warehouse_at_once(initialised, env):
    holder = hold(60)
    holder.kill()
    holder.wait()
    proc = cli("ingest", str(initialised), env={"PEER_WRITE_WAIT_S": "5"})
    assert proc.returncode == 0, proc.stderr
    assert not any(writer.queue_dir(env / "warehouse.duckdb").glob("*"))  # nobody left in line


def test_writers_in_line_take_their_turns_in_the_order_they_came(tmp_path):
    """Waiters once polled a non-blocking lock, so whoever polled first after a release went next: time in line
    ran from 0 to 53 s and some were sent back busy. Eight writers that join the line one after another get the
    warehouse in that order."""
    db = tmp_path / "warehouse.duckdb"
    order, threads = [], []

    def join(name: str) -> None:
        with writer.turn(db, what=name, wait=60):
            order.append(name)
            time.sleep(0.03 * (int(name[1:]) % 4))  # turns of uneven length, as real loads have

    with writer.turn(db, what="holder"):
        for i in range(8):
            time.sleep(0.017 * (i % 5))  # arrivals at uneven times
            threads.append(threading.Thread(target=join, args=(f"w{i}",)))
            threads[-1].start()
            deadline = time.monotonic() + 10
            while writer.waiting(db) < i + 1:  # w{i} holds its place before the next one comes
                assert time.monotonic() < deadline
                time.sleep(0.01)
    for t in threads:
        t.join(60)
    assert order == [f"w{i}" for i in range(8)]
    assert writer.waiting(db) == 0


def test_validation_and_queries_never_take_the_writers_turn(initialised, env):
    holder = hold(60)
    try:
        assert cli("validate", str(initialised)).returncode == 0
        proc = cli("query", "select count(*) as n from agencies", "--format", "csv")
        assert proc.returncode == 0 and proc.stdout.split()[-1].isdigit()
    finally:
        holder.kill()
        holder.wait()


def test_the_dashboard_serves_while_a_writer_holds_the_warehouse(demo_env):
    """A dashboard (re)started in the middle of a long load serves the published snapshot."""
    ready, release = threading.Event(), threading.Event()

    def long_load():
        with writer.turn(what="a long backfill"):
            ready.set()
            release.wait(120)

    thread = threading.Thread(target=long_load)
    thread.start()
    try:
        ready.wait(10)
        at = AppTest.from_file(APP, default_timeout=120).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert at.title or at.header
    finally:
        release.set()
        thread.join()


def test_two_threads_loading_at_once_take_turns(demo_env):
    """Two uploads for one agency and quarter submitted at the same moment (two sessions of one dashboard): they
    take turns; the second, checked before the first landed, would now replace it, which its sender never
    confirmed, so it is told to check again."""
    from pipelines import upload

    data = csv_bytes(clean_rows("headcount"))
    with snapshot.reader() as con:
        first = upload.check(snapshot.cursor(con), "a.csv", data, agency="AG0001", quarter="2026-Q1")
        second = upload.check(snapshot.cursor(con), "b.csv", data.replace(b"\n", b"\r\n"), agency="AG0001",
                              quarter="2026-Q1")
    results = {}

    def send(name, checked):
        results[name] = upload.submit(checked, submitted_by=name, acknowledged=True, confirmed=True)

    threads = [threading.Thread(target=send, args=item) for item in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results.values())
    assert statuses == ["loaded", "retry"]  # the second saw the first's load land under its turn: check again
    assert "Check the file again" in next(r.message for r in results.values() if r.status == "retry")


@MARKS[0]
@MARKS[1]
def test_ingest_while_the_dashboard_serves_shows_the_new_data(page, demo_warehouse, tmp_path):
    """The command line loads beside a running dashboard; the page shows the load once it is published."""
    with served(demo_warehouse, tmp_path) as url:
        page.goto(f"{url}/submissions")
        page.get_by_role("heading", name="Submissions", exact=True).wait_for(timeout=90_000)
        source = (ROOT / "data" / "sample" / "agency" / "AG0067_2026-Q3_headcount.csv").read_text()
        lines = source.splitlines()
        header, first = lines[0].split(","), lines[1].split(",")
        first[header.index("vacancies")] = str(int(first[header.index("vacancies")] or 0) + 1)
        fixed = tmp_path / "AG0067_2026-Q3_headcount_corrected.csv"
        fixed.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
        env = {"PEER_DB": str(tmp_path / "warehouse.duckdb"),
               "PEER_SNAPSHOT": str(tmp_path / "published" / "warehouse.duckdb")}
        proc = cli("ingest", str(fixed), "--agency", "AG0067", env=env)
        assert proc.returncode == 0, proc.stderr
        with duckdb.connect(env["PEER_DB"], read_only=True) as con:  # the command has given the warehouse back
            [(new,)] = con.execute("select max(submission_id) from submissions").fetchall()
        page.goto(f"{url}/submissions?submission={new}")  # the same server, not restarted
        page.get_by_text(f"Submission #{new}: AG0067 2026-Q3 headcount").first.wait_for(timeout=90_000)
        page.get_by_text("AG0067_2026-Q3_headcount_corrected.csv").first.wait_for(timeout=30_000)


def _behind(con, write, headcount_sud: str):
    """The agency's headcount landed but its publication was left to a writer still in line; its certification
    report is checked on the older snapshot, then submitted."""
    from pipelines import upload
    from pipelines.ingest import ingest

    snapshot.publish(con)
    rows = clean_rows("headcount")
    rows[1][3:6] = [headcount_sud, min(rows[1][4], headcount_sud), headcount_sud]  # PEER_RECOVERY_SUD
    assert ingest(con, write("h.csv", rows), publish=False).status == "loaded"
    with snapshot.reader() as reading:
        checked = upload.check(snapshot.cursor(reading), "c.csv", csv_bytes(clean_rows("certification")),
                               agency="AG0001", quarter="2026-Q1")
    assert checked.valid and checked.based_on == 0  # the snapshot knew nothing of the agency yet
    return upload.submit(checked, submitted_by="t", acknowledged=True)


def test_an_upload_checked_on_a_snapshot_behind_the_warehouse_still_loads(con, write):
    """Checked again under the turn against the headcount that landed, it finds nothing new: it loads."""
    result = _behind(con, write, "3")  # the 3 peers the certification report lists
    assert result.status == "loaded", result.message
    assert snapshot.published_version() == snapshot.warehouse_version(con)  # and both are published now


def test_a_new_finding_under_the_turn_sends_the_upload_back(con, write):
    """Checked again, the file meets the landed headcount of 5 against its 3 peers: a warning its sender never
    saw, so it is not loaded behind their back."""
    result = _behind(con, write, "5")
    assert result.status == "retry" and "Check the file again" in result.message
    assert con.execute("select count(*) from certification").fetchall() == [(0,)]
