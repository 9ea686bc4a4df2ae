"""The published snapshot: atomic replacement, and analysts' own DuckDB clients reading it while the
warehouse is held read-write and loading new data."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import duckdb
import pytest

from pipelines import sandbox, settings, snapshot
from pipelines.ingest import ingest
from tests.conftest import clean_rows

# A plain DuckDB client in its own process, as an analyst would use it.
READER = textwrap.dedent("""
    import json, sys
    import duckdb

    snap, live = sys.argv[1], sys.argv[2]
    def counts(con):
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in ("headcount", "certification")}

    held = duckdb.connect(snap, read_only=True)
    try:
        duckdb.connect(live, read_only=True)
        live_state = "opened"
    except duckdb.Error as exc:
        live_state = "locked" if "lock" in str(exc).lower() else str(exc)
    print(json.dumps({"counts": counts(held), "live": live_state}), flush=True)
    if sys.stdin.readline():  # wait while the other process loads and republishes
        print(json.dumps(counts(held)), flush=True)
""")


def test_a_second_process_reads_the_snapshot_while_the_warehouse_loads(con, write):
    assert ingest(con, write("h.csv", clean_rows("headcount")), submitted_by="t").status == "loaded"
    snap = settings.snapshot_path()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snap), str(settings.db_path())],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(reader.stdout.readline() or reader.stderr.read())
        # the live file is held read-write by this process: no other process can open it at all
        assert first == {"counts": {"headcount": 3, "certification": 0}, "live": "locked"}
        before = os.stat(snap).st_ino
        outcome = ingest(con, write("c.csv", clean_rows("certification")), submitted_by="t")
        assert outcome.status == "loaded"
        assert os.stat(snap).st_ino != before  # a new file took the old one's name
        reader.stdin.write("go\n")
        reader.stdin.flush()
        held = json.loads(reader.stdout.readline() or reader.stderr.read())
        # the next open, while the first reader still holds the old file, sees the new load
        fresh = subprocess.Popen([sys.executable, "-c", READER, str(snap), str(settings.db_path())],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        reopened = json.loads(fresh.communicate(timeout=60)[0].splitlines()[0])
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    assert reader.returncode == 0 and fresh.returncode == 0
    assert held == {"headcount": 3, "certification": 0}  # the open reader keeps its consistent copy
    assert reopened == {"counts": {"headcount": 3, "certification": 3}, "live": "locked"}


def test_publishing_keeps_the_live_warehouse_locked(con):
    """Copying the file must not drop this process's lock on it (POSIX drops it on any close)."""
    snapshot.publish(con)
    probe = subprocess.run([sys.executable, "-c", "import sys, duckdb; duckdb.connect(sys.argv[1], read_only=True)",
                            str(settings.db_path())], capture_output=True, text=True)
    assert probe.returncode != 0 and "lock" in probe.stderr.lower()


def test_the_workbench_sees_a_new_snapshot_on_the_next_run(con, write):
    ingest(con, write("h.csv", clean_rows("headcount")))
    assert sandbox.run("select count(*) from certification").rows == [(0,)]
    ingest(con, write("c.csv", clean_rows("certification")))
    assert sandbox.run("select count(*) from certification").rows == [(3,)]


def test_publish_leaves_one_read_only_file_and_no_temp_files(con):
    target = snapshot.publish(con)
    snapshot.publish(con)  # replacing a read-only snapshot works too
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    assert not stat.S_IMODE(target.stat().st_mode) & 0o222


def test_a_failed_publish_keeps_the_old_snapshot(con, monkeypatch):
    target = snapshot.publish(con)
    before = target.read_bytes()

    def broken(src, dst):
        dst.write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "copy_outside", broken)
    with pytest.raises(OSError, match="disk full"):
        snapshot.publish(con)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    duckdb.connect(str(target), read_only=True).close()  # still a valid database


def _two_writers_in_line(write, monkeypatch, b_loads: bool = True) -> list[str]:
    """Writer A loads while writer B waits in line, then B loads (or writes nothing); returns what each
    publish_due call did."""
    import threading

    from pipelines import writer

    calls: list[str] = []
    real = snapshot.publish_due

    def counted(con, target=None):
        published = real(con, target)
        calls.append("published" if published else "left to the next writer")
        return published

    monkeypatch.setattr(snapshot, "publish_due", counted)
    a_in, b_done = threading.Event(), {}
    db = settings.db_path()

    def writer_b():
        a_in.wait(30)
        with writer.session(what="B") as con:
            b_done["status"] = (ingest(con, write("c.csv", clean_rows("certification")), submitted_by="b").status
                                if b_loads else "loaded")

    b = threading.Thread(target=writer_b)
    b.start()
    with writer.session(what="A") as con:
        a_in.set()
        while not writer.waiting(db):  # B is in line before A's load ends
            b.join(0.05)
        assert ingest(con, write("h.csv", clean_rows("headcount")), submitted_by="a").status == "loaded"
    b.join(60)
    assert b_done["status"] == "loaded"
    return calls


def test_a_writer_with_others_in_line_leaves_publication_to_the_last(con, write, monkeypatch):
    """One copy for loads that land together: A's load (and the end of A's turn) leave the copy to B, whose
    publication carries both."""
    assert _two_writers_in_line(write, monkeypatch) == ["left to the next writer"] * 2 + ["published"]
    assert snapshot.published_version() == snapshot.warehouse_version(con)  # both loads are visible
    assert con.execute("select count(*) from warehouse_settings where name = 'unpublished_since'").fetchall() == [(0,)]
    assert not snapshot.remove_orphans(settings.snapshot_path().parent)  # no temp copy left behind


def test_a_publication_left_to_a_writer_that_writes_nothing_is_not_stranded(con, write, monkeypatch):
    """B, in line, was left A's publication, then wrote nothing (a stale check, an identical file, a wait that
    ran out): the snapshot once stayed behind until some other writer came. B's turn ends by publishing."""
    assert _two_writers_in_line(write, monkeypatch, b_loads=False)[-1] == "published"
    assert snapshot.published_version() == snapshot.warehouse_version(con)
    assert con.execute("select count(*) from warehouse_settings where name = 'unpublished_since'").fetchall() == [(0,)]


def test_publication_is_never_left_for_longer_than_the_bound(con, write, monkeypatch):
    monkeypatch.setenv("PEER_PUBLISH_EVERY_S", "0")
    assert _two_writers_in_line(write, monkeypatch) == ["published", "published"]


def test_a_writer_that_never_comes_leaves_a_stale_snapshot_the_next_start_repairs(con, write):
    """The writer in line gave up (killed, or its wait ran out): the next writer, or a dashboard starting,
    publishes what was left."""
    assert ingest(con, write("h.csv", clean_rows("headcount")), submitted_by="a", publish=False).status == "loaded"
    assert snapshot.published_version() != snapshot.warehouse_version(con)
    assert snapshot.repair(con)
    assert snapshot.published_version() == snapshot.warehouse_version(con)
