"""The published read-only snapshot: a consistent copy of the warehouse for analysts' tools.

DuckDB lets no other process open a file that one process holds read-write, so readers outside the
writing process open this copy instead. It is replaced atomically (copy to a temp file, then rename):
a reader holding the old file keeps reading it; the next open sees the new one. (Inside one process,
DuckDB shares one open instance per path: a connection opened while another still holds the old
snapshot shares the old copy; once those close, the next open sees the new one.)

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
    """Checkpoint the warehouse and atomically replace the snapshot with a copy of it."""
    target = Path(target or settings.snapshot_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    with WRITE_LOCK:
        remove_orphans(target.parent)
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
        if match and int(match.group(1)) != os.getpid() and _alive(int(match.group(1))):
            continue  # another process is publishing into this folder right now
        try:
            entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def published_version(target: Path | None = None) -> int | None:
    """The latest accepted submission id the snapshot holds (0 for none); None when there is no readable one."""
    target = Path(target or settings.snapshot_path())
    if not target.exists():
        return None
    try:
        con = duckdb.connect(str(target), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("select coalesce(max(submission_id), 0) from submissions where status = 'accepted'"
                           ).fetchall()[0][0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def warehouse_version(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select coalesce(max(submission_id), 0) from submissions where status = 'accepted'"
                       ).fetchall()[0][0]


def repair(con: duckdb.DuckDBPyConnection, target: Path | None = None) -> bool:
    """Remove orphaned temp copies, and publish again when the snapshot is missing or older than the
    warehouse's latest accepted submission (a publication was interrupted or failed). True if it published."""
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
