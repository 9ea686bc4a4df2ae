"""Two dashboard replicas behind real nginx (`python -m dashboard.replicas`) on one published snapshot: both
serve the overview through the load balancer, sessions stay on their replica, and a report ingested by the
writer shows on the next rerun of a session held by either replica.

Pages are read over Streamlit's own websocket protocol with the benchmark's client (bench/viewers.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import duckdb
import pytest

from bench.viewers import Session, affinity_cookies
from dashboard.replicas import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

if os.environ.get("CI") == "true" and NGINX is None:
    raise RuntimeError("CI=true but nginx is missing: the replica tests must run in CI (.ci/run installs it).")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install -y --no-install-recommends nginx)")]

OVERVIEW = "Peer workforce integration: state overview"
REPORTING = re.compile(r"(\d+) agencies reporting")


@pytest.fixture
def balanced(demo_warehouse, tmp_path):
    """A copy of the demo warehouse and its snapshot, served by two replicas behind nginx."""
    db = tmp_path / "warehouse.duckdb"
    snapshot = tmp_path / "published" / "warehouse.duckdb"
    snapshot.parent.mkdir()
    shutil.copyfile(demo_warehouse, db)
    shutil.copyfile(demo_warehouse.parent / "published" / "warehouse.duckdb", snapshot)
    env = {**os.environ, "PEER_DB": str(db), "PEER_SNAPSHOT": str(snapshot), "PEER_DEMO_MODE": "on"}
    for name in ("PEER_AS_OF", "PEER_ORIGINALS", "PEER_AUDIT", "STREAMLIT_SECRETS_FILES"):
        env.pop(name, None)
    port, ready, log = free_port(), tmp_path / "ready", tmp_path / "replicas.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dashboard.replicas", "--replicas", "2", "--port", str(port),
                                 "--listen", "127.0.0.1", "--base-port", "0", "--ready-file", str(ready), "--",
                                 "--server.fileWatcherType", "none"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (ready.exists() and ready.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield types.SimpleNamespace(url=f"http://127.0.0.1:{port}", env=env, snapshot=snapshot, log=log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def reporting(texts: list[str]) -> int:
    found = [int(m.group(1)) for t in texts if (m := REPORTING.search(t))]
    assert len(found) == 1, texts[:12]
    return found[0]


def headcount_for_a_missing_agency(snapshot: Path, folder: Path) -> tuple[Path, str, str]:
    """A headcount report for an agency that has not reported the latest quarter yet: its latest headcount
    rows, dated in that quarter. Loading it adds one agency reporting."""
    with contextlib.closing(duckdb.connect(str(snapshot), read_only=True)) as con:
        latest = con.execute("select max(quarter) from submissions where status = 'accepted'").fetchone()[0]
        agency, quarter = con.execute(
            "select h.agency_id, max(h.quarter) from headcount h where not exists (select 1 from submissions s "
            "where s.agency_id = h.agency_id and s.quarter = ? and s.status = 'accepted') "
            "group by 1 order by 2 desc, 1 limit 1", [latest]).fetchone()
        rows = con.execute("select role, headcount, headcount_fulltime, fte, vacancies, trained_peer_supervisors, "
                           "primary_funding from headcount where agency_id = ? and quarter = ? order by source_row",
                           [agency, quarter]).fetchall()
    path = folder / f"{agency}-{latest}-headcount.csv"
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["agency_id", "quarter", "role", "headcount", "headcount_fulltime", "fte", "vacancies",
                      "trained_peer_supervisors", "primary_funding"])
        out.writerows([agency, latest, *("" if v is None else v for v in row)] for row in rows)
    return path, agency, latest


async def open_on(url: str, replica: str) -> tuple[Session, list[str]]:
    """The overview in a new session that nginx keeps on `replica` (a browser whose affinity cookie maps there)."""
    cookies = affinity_cookies(url)
    assert set(cookies) == {"1", "2"}, cookies
    session = Session(url, timeout=120)
    session.cookie = cookies[replica]
    run = await session.open("")
    assert session.replica == replica, (session.replica, replica)
    assert not run.errors, run.errors
    assert OVERVIEW in run.texts, run.texts[:12]
    return session, run.texts


def test_two_replicas_serve_one_snapshot_and_show_a_new_report_on_the_next_rerun(balanced, tmp_path):
    async def scenario():
        first, first_texts = await open_on(balanced.url, "1")
        other, other_texts = await open_on(balanced.url, "2")
        try:
            before = reporting(first_texts)
            assert reporting(other_texts) == before
            again = await first.run("regions")  # a session stays on its replica: its own widgets and caches
            assert not again.errors and "Regions" in again.texts and first.replica == "1"

            path, agency, quarter = headcount_for_a_missing_agency(balanced.snapshot, tmp_path)
            done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "pipelines", "ingest", str(path)],
                                           cwd=ROOT, env=balanced.env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "loaded" in done.stdout, done.stdout

            # The replica that served nothing of the load: its open session reruns the page and sees the new
            # snapshot (the rerun a browser sends when the reader comes back to the overview).
            for session in (other, first):
                deadline = time.monotonic() + 30
                while True:
                    run = await session.run("")
                    assert not run.errors, run.errors
                    if reporting(run.texts) == before + 1 or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(1)
                assert reporting(run.texts) == before + 1, (
                    f"replica {session.replica} still shows {reporting(run.texts)} agencies reporting for "
                    f"{quarter} after {agency}'s headcount was loaded and published")
        finally:
            await first.close()
            await other.close()

    # In a thread of its own: an earlier browser test may leave an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
    launcher = balanced.log.read_text()
    assert not re.search(r"replica \d .*(exited with code|was killed by)", launcher), launcher
