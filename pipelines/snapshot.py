"""The published read-only snapshot: a consistent copy of the warehouse, what every reader reads.

DuckDB lets no other process open a file that one process holds read-write, so readers (the dashboard,
the SQL workbench, `query`, analysts' tools) open this copy instead and never hold the warehouse. It is
replaced atomically (copy to a temp file, then rename): a reader holding the old file keeps reading it; the
next open sees the new one. Inside one process DuckDB shares one open instance per path, so a long-lived
reader (`reader`) attaches the file to an in-memory database instead: each generation of the snapshot gets
its own instance, and `generation` tells when a newer one is there.

Publication coalesces: a writer that finishes while other writers wait in line leaves the copy to the last
of them (`publish_due`), unless its load committed more than PEER_PUBLISH_EVERY_S ago, so a busy season
makes one copy for many loads and a load is still visible within that bound of its turn ending.

A publication killed halfway (kill -9, power loss) leaves its temp copy (`.snapshot-<pid>-*.duckdb`, named
after the writing process) and a stale snapshot: the next publish removes temp copies whose process is
gone, and `repair` (run whenever a command opens the warehouse for writing) publishes again when the
snapshot lacks the warehouse's latest accepted submission.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.warehouse import WRITE_LOCK, disk_full, is_disk_full

TEMP_PREFIX = ".snapshot-"
_TEMP = re.compile(r"\.snapshot-(\d+)-.*\.duckdb(\.wal)?$")


def database_file(con: duckdb.DuckDBPyConnection) -> Path:
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    return Path(path[0][0])


def publish(con: duckdb.DuckDBPyConnection, target: Path | None = None) -> Path:
    """Refresh the materialized tables for the loads not yet refreshed, checkpoint the warehouse and atomically
    replace the snapshot with a copy of it."""
    target = Path(target or settings.snapshot_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    from pipelines import metrics

    with WRITE_LOCK:
        remove_orphans(target.parent)
        try:
            metrics.refresh_pending(con)  # the tables as of every load so far
        except Exception as exc:
            if is_disk_full(exc):
                raise disk_full(target.parent, "the figures could not be refreshed; the previous snapshot is "
                                "kept.") from exc
            raise
        con.execute("delete from warehouse_settings where name = 'unpublished_since'")
        con.execute("checkpoint")
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".duckdb", dir=target.parent)
            os.close(fd)
            copy_outside(database_file(con), Path(tmp))
            _fsync(tmp)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)  # atomic: readers see the old file or the new one, never a mix
            _fsync(target.parent)
        except BaseException as exc:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, Exception) and is_disk_full(exc):
                raise disk_full(target.parent, "the snapshot could not be written; the previous one is kept.") \
                    from exc
            raise
    return target


def remove_orphans(folder: Path) -> list[Path]:
    """Delete temp copies left by publications whose process is gone (killed halfway)."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match and not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(".duckdb")):
            continue
        if match and int(match.group(1)) != os.getpid() and process_alive(int(match.group(1))):
            continue  # another process is publishing into this folder right now
        try:
            entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this id is running (its files are not orphans)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


CATALOG = "snapshot"


def generation(target: Path | None = None) -> tuple | None:
    """Identifies the snapshot file now at `target` (a new one after every publication); None when missing."""
    try:
        st = Path(target or settings.snapshot_path()).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def reader(target: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the snapshot now at `target` (its own instance; see the module docstring).
    Take cursors with `cursor`: DuckDB does not carry the default catalog over to a cursor."""
    target = Path(target or settings.snapshot_path())
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{target.as_posix().replace(chr(39), chr(39) * 2)}' as {CATALOG} (read_only)")
        con.execute(f"use {CATALOG}")
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of any connection reading by unqualified names: a `reader`'s reads the snapshot."""
    cur = con.cursor()
    try:
        cur.execute(f"use {CATALOG}")
    except duckdb.CatalogException:
        pass  # a warehouse connection: its own catalog is already the default
    return cur


def publish_due(con: duckdb.DuckDBPyConnection, target: Path | None = None) -> bool:
    """Publish now unless another writer waits in line and this load's changes can wait for it: True when
    published. What is left unpublished is remembered in the warehouse (`unpublished_since`), so the writer
    that publishes next, or any writer once the bound has passed, takes it along."""
    from pipelines import writer

    since = con.execute("select value from warehouse_settings where name = 'unpublished_since'").fetchall()
    now = time.time()
    first = float(since[0][0]) if since else now
    if writer.waiting(database_file(con)) and now - first < settings.publish_every_s():
        if not since:
            con.execute("insert or replace into warehouse_settings values ('unpublished_since', ?)", [str(now)])
        return False
    publish(con, target)
    return True


VERSION_SQL = ("select (select coalesce(max(submission_id), 0) from submissions), "
               "(select value from warehouse_settings where name = 'build')")
"""What a publication carries: every recorded submission (accepted or rejected) and the build of the views."""


def published_version(target: Path | None = None) -> tuple | None:
    """The snapshot's version (see VERSION_SQL); None when there is no readable one."""
    target = Path(target or settings.snapshot_path())
    if not target.exists():
        return None
    try:
        con = reader(target)
    except duckdb.Error:
        return None
    try:
        return tuple(con.execute(VERSION_SQL).fetchall()[0])
    except duckdb.Error:
        return None
    finally:
        con.close()


def warehouse_version(con: duckdb.DuckDBPyConnection) -> tuple:
    return tuple(con.execute(VERSION_SQL).fetchall()[0])


def repair(con: duckdb.DuckDBPyConnection, target: Path | None = None) -> bool:
    """Remove orphaned temp copies, and publish again when the snapshot is missing or behind the warehouse (a
    publication was interrupted, failed or left to a writer that never came; a new build of the views). True
    if it published."""
    target = Path(target or settings.snapshot_path())
    with WRITE_LOCK:
        remove_orphans(target.parent)
        try:
            current = warehouse_version(con)
        except duckdb.Error:
            return False  # not initialised yet: init publishes
        if published_version(target) == current:
            return False
        publish(con, target)
    return True


def copy_outside(source: Path, target: Path) -> None:
    """Copy the warehouse file in a child process.

    DuckDB's single-writer guarantee is a POSIX record lock, and POSIX drops all of a process's locks
    on a file as soon as the process closes *any* descriptor of it: copying the file from this process
    (open, read, close) would silently let another process open the live warehouse.
    """
    proc = subprocess.run([sys.executable, "-S", "-c", "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])",
                           str(source), str(target)], capture_output=True, text=True)
    if proc.returncode:
        raise OSError(f"Could not copy {source} to {target}: {proc.stderr.strip().splitlines()[-1:]}")


def _fsync(path: str | Path) -> None:
    """Flush a file (or a folder's entries) to disk, so a crash cannot leave a renamed but empty snapshot."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
