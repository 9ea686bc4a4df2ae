"""The published read-only snapshot: a consistent copy of the warehouse for analysts' tools.

DuckDB lets no other process open a file that one process holds read-write, so readers outside the
writing process open this copy instead. It is replaced atomically (copy to a temp file, then rename):
a reader holding the old file keeps reading it; the next open sees the new one. (Inside one process,
DuckDB shares one open instance per path: a connection opened while another still holds the old
snapshot shares the old copy; once those close, the next open sees the new one.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.warehouse import WRITE_LOCK


def database_file(con: duckdb.DuckDBPyConnection) -> Path:
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    return Path(path[0][0])


def publish(con: duckdb.DuckDBPyConnection, target: Path | None = None) -> Path:
    """Checkpoint the warehouse and atomically replace the snapshot with a copy of it."""
    target = Path(target or settings.snapshot_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    with WRITE_LOCK:
        con.execute("checkpoint")
        fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".duckdb", dir=target.parent)
        os.close(fd)
        try:
            copy_outside(database_file(con), Path(tmp))
            _fsync(tmp)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)  # atomic: readers see the old file or the new one, never a mix
            _fsync(target.parent)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target


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
