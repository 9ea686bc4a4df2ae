"""Uploaded files kept as they arrived, accepted or rejected, for audit.

Each file is stored once under settings.originals_dir() named by its sha256 (the name a submission
records), written to a temp file and renamed so a reader never sees half a file, and listed in the
warehouse table original_files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.reading import sha256_of
from pipelines.warehouse import WRITE_LOCK


def path_of(sha256: str) -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return settings.originals_dir() / sha256


def keep(con: duckdb.DuckDBPyConnection, data: bytes, file_name: str) -> str:
    """Store the file (once per content) and record it; returns its sha256."""
    sha = sha256_of(data)
    target = path_of(sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    with WRITE_LOCK:
        con.execute("insert or ignore into original_files (sha256, file_name, bytes) values (?, ?, ?)",
                    [sha, file_name, len(data)])
    return sha


def read(sha256: str) -> bytes | None:
    """The kept file's bytes, or None when it was never kept here (e.g. loaded from the command line)."""
    try:
        return path_of(sha256).read_bytes()
    except (FileNotFoundError, ValueError):
        return None
