"""Read an uploaded file in a child process with bounded memory and time (`reading.read_file`, same answers).

An untrusted workbook can make the Excel reader allocate far more than the machine has (a 1.7 KB .xlsx
whose one cell sits at XFD1048576 declares 17 billion cells, and the reader aborts the whole process),
and a small zip can unpack to hundreds of megabytes. So the file is parsed in a child that runs under an
address-space limit (RLIMIT_AS) and is killed after a time limit; before the Excel reader runs, the child
refuses a workbook that would unpack to more than UNPACKED_CAP times the upload limit, or whose first
sheet declares (<dimension ref>) or holds more than MAX_CELLS cells or MAX_COLUMNS columns. A crash, a
kill or a refusal becomes an `Unreadable` finding ("file-too-large"), never a dead server.

The child is a fresh interpreter (`python -m pipelines.bounded_read`, as pipelines/sandbox_process.py
runs SQL): a fork of a process whose polars thread pool is running deadlocks, and a fork server would
re-import the dashboard's main module in every child. It costs about a quarter of a second of CPU per file
(starting Python and importing polars). A small text file, which is what an agency's quarterly report
is, cannot hold what the child guards against (no workbook, no line of more than MAX_COLUMNS cells, at
most SMALL_TEXT_BYTES), so it is read in process: in a submission season that quarter second per check
is taken from the writer's cores.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import polars as pl

from pipelines import settings
from pipelines.findings import Finding
from pipelines.reading import MB, RawTable, Unreadable
from pipelines.reading import read_file as read_in_process

UNPACKED_CAP = 5
"""A workbook may unpack to at most this many times the upload limit (stricter than the reader's own 20)."""
MAX_CELLS = 10_000_000
"""Cells a workbook's first sheet may declare or hold (a full 50 MB upload holds a few million)."""
MAX_COLUMNS = 1_000
"""Columns a workbook's first sheet may span (a report has about twenty)."""
SMALL_TEXT_BYTES = 256 * 1024
"""Text files up to this size, with no line over MAX_COLUMNS cells, are read without the child."""
DELIMITERS = (b",", b";", b"\t", b"|")
SAVE_AGAIN = ("Delete the empty rows and columns after your data (or copy the data into a new workbook), save "
              "it again, or upload it as CSV.")

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Za-z]{1,4})\$?(\d{1,9})(?::\$?([A-Za-z]{1,4})\$?(\d{1,9}))?\"")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_SHEET_ID = re.compile(rb"\b(?:\w+:)?id=\"([^\"]+)\"")
_HIDDEN = re.compile(rb"\bstate=\"(?:hidden|veryHidden)\"")
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"")


def read_file(path: Path | str, data: bytes | None = None, *, memory_bytes: int | None = None,
              timeout_s: float | None = None) -> RawTable:
    """`reading.read_file` in a bounded child: a RawTable, or Unreadable with the reason. A small plain text
    file is read in process, unless bounds are given.

        parent -> child (stdin):  JSON {path, memory, limit, has_data, table_fd} line, then the upload's bytes
        child -> parent (stdout): b"R" + JSON {headers, sha256, format, notes, findings}, the table as an Arrow
                                  IPC file in `table_fd` (an anonymous in-memory file the parent reads back), or
                                  b"E" + JSON {code, message}
    """
    path = Path(path)
    limit = settings.max_upload_bytes()
    size = len(data) if data is not None else (path.stat().st_size if path.is_file() else -1)
    if size > limit or size < 0:
        return read_in_process(path, data)  # refused (too large, missing) before anything is parsed
    if size <= SMALL_TEXT_BYTES and memory_bytes is None and timeout_s is None:
        small = data if data is not None else path.read_bytes()[:SMALL_TEXT_BYTES + 1]
        if _plain_small_text(small):
            try:
                return read_in_process(path, small)
            except (Unreadable, KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # failing in a way the reader does not name (a polars panic): as the child says
                pass
    memory_bytes = memory_bytes or settings.read_memory_bytes()
    timeout_s = timeout_s or settings.read_timeout_s()
    table_fd = _anonymous_file()
    try:
        request = json.dumps({"path": str(path.absolute()), "memory": memory_bytes, "limit": limit,
                              "has_data": data is not None, "table_fd": table_fd}).encode() + b"\n" + (data or b"")
        try:
            done = subprocess.run([sys.executable, "-m", "pipelines.bounded_read"], input=request,
                                  capture_output=True, timeout=timeout_s, cwd=settings.ROOT, env=_child_env(),
                                  pass_fds=(table_fd,))
        except subprocess.TimeoutExpired:
            raise Unreadable("file-too-large", f"'{path.name}' took longer than {timeout_s:g} s to read and was "
                             f"stopped. {SAVE_AGAIN}") from None
        out = done.stdout
        if done.returncode == 0 and out[:1] == b"R":
            meta = json.loads(out[1:])
            frame = pl.read_ipc(f"/dev/fd/{table_fd}")
            return RawTable(frame, meta["headers"], meta["sha256"], meta["format"], meta["notes"],
                            [Finding(**f) for f in meta["findings"]])
    finally:
        os.close(table_fd)
    if done.returncode == 0 and out[:1] == b"E":
        refusal = json.loads(out[1:])
        raise Unreadable(refusal["code"], refusal["message"])
    raise Unreadable("file-too-large", f"'{path.name}' needs more memory to read than an upload may use "
                     f"({memory_bytes / MB:,.0f} MB) and was refused. {SAVE_AGAIN}")


def _anonymous_file() -> int:
    """A file for the child's answer that lives only in memory and vanishes with its last descriptor (no
    temp file to leave behind, no disk to fill); where memfd is missing, an unlinked temp file."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("peer-upload-table", os.MFD_CLOEXEC)
    import tempfile
    with tempfile.TemporaryFile() as fh:
        return os.dup(fh.fileno())


def _plain_small_text(data: bytes) -> bool:
    """Small enough, not a workbook (zip or the old binary format), and no line of more than MAX_COLUMNS
    cells whichever delimiter it uses (quoted ones counted too: a doubt sends the file to the child)."""
    if len(data) > SMALL_TEXT_BYTES or data.startswith((b"PK", b"\xd0\xcf\x11\xe0")):
        return False
    return all(line.count(d) < MAX_COLUMNS for line in data.splitlines() for d in DELIMITERS)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["POLARS_MAX_THREADS"] = env.get("POLARS_MAX_THREADS") or "4"  # each thread reserves address space
    return env


def _serve() -> None:
    """The child: one request on stdin, the answer on stdout; a reader that aborts prints nothing."""
    import resource

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    stdin = sys.stdin.buffer
    request = json.loads(stdin.readline())
    data = stdin.read() if request["has_data"] else None
    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    path = Path(request["path"])
    try:
        head = data[:4] if data is not None else path.open("rb").read(4)
        if head in (b"PK\x03\x04", b"PK\x05\x06"):
            check_workbook(data if data is not None else path.read_bytes(), path.name, request["limit"])
        table = read_in_process(path, data)
        with open(request["table_fd"], "wb", closefd=False) as answer:
            table.frame.write_ipc(answer)
        meta = {"headers": table.headers, "sha256": table.sha256, "format": table.format, "notes": table.notes,
                "findings": [dataclasses.asdict(f) for f in table.findings]}
        sys.stdout.buffer.write(b"R" + json.dumps(meta, default=str).encode())
    except Unreadable as exc:
        sys.stdout.buffer.write(b"E" + json.dumps({"code": exc.finding.code, "message": exc.finding.message}).encode())
    except MemoryError:
        sys.exit(3)


def check_workbook(data: bytes, name: str, limit: int | None = None) -> None:
    """Refuse a workbook that would unpack too far, or whose first sheet declares or holds absurdly many cells.
    Anything that is not a well-formed workbook is left to the reader, which says what it is."""
    limit = settings.max_upload_bytes() if limit is None else limit
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        return
    with archive:
        members = {m.filename: m for m in archive.infolist()}
        if "xl/workbook.xml" not in members:
            return
        unpacked = sum(m.file_size for m in members.values())
        if unpacked > UNPACKED_CAP * limit:
            raise Unreadable("file-too-large", f"'{name}' is an Excel workbook that unpacks to {unpacked / MB:,.1f} "
                             f"MB, more than {UNPACKED_CAP * limit / MB:g} MB ({UNPACKED_CAP} times the upload "
                             f"limit). Save it again from Excel, or split it by quarter or by agency and upload "
                             "the parts.")
        sheet = _first_sheet(archive, members)
        if sheet is None:
            return
        try:
            _check_sheet(archive, members[sheet], name)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error):
            return  # damaged: the reader refuses it with its own message


def _first_sheet(archive: zipfile.ZipFile, members: dict) -> str | None:
    """The first visible sheet's member, as the reader picks it (workbook order, through the relationships)."""
    try:
        with archive.open("xl/workbook.xml") as fh:
            workbook = fh.read(1 << 20)
        rels = b""
        if "xl/_rels/workbook.xml.rels" in members:
            with archive.open("xl/_rels/workbook.xml.rels") as fh:
                rels = fh.read(1 << 20)
    except Exception:
        return None
    tag = next((m.group(0) for m in _SHEET.finditer(workbook) if not _HIDDEN.search(m.group(0))), b"")
    found = _SHEET_ID.search(tag)
    if found and rels:
        rid = re.escape(found.group(1))
        target = re.search(rb"<(?:\w+:)?Relationship\b[^>]*?\bId=\"" + rid + rb"\"[^>]*?\bTarget=\"([^\"]+)\"", rels) \
            or re.search(rb"<(?:\w+:)?Relationship\b[^>]*?\bTarget=\"([^\"]+)\"[^>]*?\bId=\"" + rid + rb"\"", rels)
        if target:
            where = target.group(1).decode("utf-8", "replace")
            where = where.lstrip("/") if where.startswith("/") else "xl/" + where
            if where in members:
                return where
    sheets = sorted(n for n in members if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    return sheets[0] if sheets else None


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _check_sheet(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> None:
    """The declared dimension first (before the cells), then one streaming pass counting cells and rows."""
    cells = 0
    last_row = 0
    tail = b""
    declared_checked = False
    with archive.open(member) as fh:
        while chunk := fh.read(1 << 20):
            window = tail + chunk
            if not declared_checked:
                found = _DIMENSION.search(window)
                if found or b"<sheetData" in window or len(window) > (1 << 20):
                    declared_checked = True
                    if found:
                        _check_dimension(found, name)
            cells += window.count(b"<c ") + window.count(b"<c>") - tail.count(b"<c ") - tail.count(b"<c>")
            rows = _ROW.findall(window[-65536:]) if b"<row" in window else []
            if rows:
                last_row = max(last_row, int(rows[-1]))
            if cells > MAX_CELLS or last_row > 1_048_576:
                raise Unreadable("file-too-large", f"'{name}' holds more than {MAX_CELLS:,} cells on its first "
                                 f"sheet; a report has far fewer. {SAVE_AGAIN}")
            tail = chunk[-8:]


def _check_dimension(found: re.Match, name: str) -> None:
    first_col, first_row = _column_number(found.group(1)), int(found.group(2))
    last_col = _column_number(found.group(3)) if found.group(3) else first_col
    last_row = int(found.group(4)) if found.group(4) else first_row
    columns = abs(last_col - first_col) + 1
    rows = abs(last_row - first_row) + 1
    ref = found.group(0).split(b'"')[1].decode("ascii", "replace")
    if columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise Unreadable("file-too-large", f"'{name}' declares its first sheet as {ref}: {rows:,} rows by "
                         f"{columns:,} columns ({rows * columns:,} cells), more than an upload may hold "
                         f"({MAX_CELLS:,} cells, {MAX_COLUMNS:,} columns). {SAVE_AGAIN}")


if __name__ == "__main__":
    _serve()
