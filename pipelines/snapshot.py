"""The published read-only snapshot: a consistent copy of the warehouse for analysts' tools.

DuckDB lets no other process open a file that one process holds read-write, so readers outside the
writing process open this copy instead. It is replaced atomically (copy to a temp file, then rename):
a reader holding the old file keeps reading it; the next open sees the new one.
"""

from __future__ import annotations

import os
import shutil
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
            shutil.copyfile(database_file(con), tmp)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target
