"""The one writer's turn: take the warehouse for one load, then give it back.

Readers never open the warehouse (they read the published snapshot), so a writer (upload submit, `ingest`,
`init`, `demo`) only meets other writers. They queue on a lock file beside the warehouse (`<db>.lock`,
flock: released by the kernel when the holder exits, however it ends). A writer that finds it taken waits,
calling `on_wait(seconds, holder)` about every half second so the caller can show the wait, and gives up
with WarehouseBusy after `wait` seconds (PEER_WRITE_WAIT_S). While it waits it holds a ticket in `<db>.queue/`
named by its arrival time: the oldest live ticket goes next (first come, first served), and the holder can see
that others wait and leave publication to the last of them (snapshot.publish_due). Every turn of `session`
ends by publishing what was left to it, so a left publication is never stranded by a writer that then had
nothing to write; only one killed in line leaves it to the next writer or the next start (snapshot.repair).

flock locks belong to an open file description, so two threads of one process that each open the lock
file exclude each other like two processes do.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from pipelines import settings, warehouse
from pipelines.snapshot import process_alive

POLL_S = 0.1
_sequence = iter(range(1, 2**62))


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def queue_dir(db: Path) -> Path:
    return db.with_name(db.name + ".queue")


def holder(db: Path) -> str:
    """Who holds the warehouse, as the holder wrote it ('' when nobody says)."""
    try:
        return lock_path(db).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def waiting(db: Path) -> int:
    """Writers of live processes waiting in line for the warehouse."""
    try:
        entries = list(queue_dir(db).iterdir())
    except OSError:
        return 0
    live = 0
    for entry in entries:
        pid = entry.name.split("-")[1] if entry.name.count("-") >= 3 else ""
        if pid.isdigit() and process_alive(int(pid)):
            live += 1
        else:
            entry.unlink(missing_ok=True)  # a writer killed while it waited
    return live


@contextlib.contextmanager
def turn(db: Path | None = None, *, what: str = "", wait: float | None = None,
         on_wait: Callable[[float, str], None] | None = None) -> Iterator[None]:
    """Hold the writer lock of the warehouse `db` for the duration of the block, first come, first served."""
    db = Path(db or settings.db_path())
    db.parent.mkdir(parents=True, exist_ok=True)
    wait = settings.write_wait_s() if wait is None else wait
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o644)
    ticket = None
    try:
        start = time.monotonic()
        last_told = -1.0
        while True:
            if ticket is None and not waiting(db) and _try_lock(fd):
                break  # nobody in line: straight in
            if ticket is None:
                ticket = _join_queue(db)
            if _first_in_line(db, ticket) and _try_lock(fd):
                break
            waited = time.monotonic() - start
            if waited >= wait:
                who = holder(db)
                raise warehouse.WarehouseBusy(
                    f"Warehouse busy: waited {waited:.0f} s in line for {db.name}"
                    + (f", held by {who}" if who else "") + ". Nothing was written; try again in a few minutes.")
            if on_wait and waited - last_told >= 0.5:
                last_told = waited
                on_wait(waited, holder(db))
            time.sleep(POLL_S)
        _leave_queue(ticket)
        ticket = None
        waited = time.monotonic() - start
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()}{': ' + what if what else ''}, since "
                      f"{time.strftime('%H:%M:%S')}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            _log_turn(what, waited, time.monotonic() - start - waited)
    finally:
        _leave_queue(ticket)
        os.close(fd)  # releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _first_in_line(db: Path, ticket: Path) -> bool:
    """Tickets are named by the time they were taken: the oldest live one goes next."""
    waiting(db)  # clears tickets of processes that died in line
    try:
        return min(p.name for p in queue_dir(db).iterdir()) == ticket.name
    except (OSError, ValueError):
        return True


def _log_turn(what: str, waited: float, held: float) -> None:
    """With PEER_WRITER_LOG set (benchmarks), append one line per turn: time, waited s, held s, what."""
    target = os.environ.get("PEER_WRITER_LOG")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.3f}\t{waited:.4f}\t{held:.4f}\t{what}\n")


def _join_queue(db: Path) -> Path:
    folder = queue_dir(db)
    folder.mkdir(exist_ok=True)
    ticket = folder / f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}-{next(_sequence)}"
    ticket.touch()
    return ticket


def _leave_queue(ticket: Path | None) -> None:
    if ticket is not None:
        ticket.unlink(missing_ok=True)


@contextlib.contextmanager
def session(db: Path | None = None, *, what: str = "", wait: float | None = None,
            on_wait: Callable[[float, str], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse open for writing, for one load: waits its turn, opens, yields, closes, gives back.

    Another program holding the file itself (an analyst's DuckDB CLI opened on the live file by mistake) is
    waited for within the same bound."""
    db = Path(db or settings.db_path())
    wait = settings.write_wait_s() if wait is None else wait
    start = time.monotonic()
    with turn(db, what=what, wait=wait, on_wait=on_wait):
        while True:
            try:
                con = warehouse.connect(db)
                break
            except warehouse.WarehouseBusy:
                waited = time.monotonic() - start
                if waited >= wait:
                    raise
                if on_wait:
                    on_wait(waited, "another program has the warehouse file open")
                time.sleep(0.5)
        try:
            yield con
            _publish_left(con)
        finally:
            con.close()


def _publish_left(con: duckdb.DuckDBPyConnection) -> None:
    """A turn ends by publishing what an earlier writer left to it (snapshot.publish_due), whatever this turn
    did (a load, an identical file, a stale check), unless others still wait and the bound allows."""
    from pipelines import snapshot

    try:
        left = con.execute("select count(*) from warehouse_settings where name = 'unpublished_since'"
                           ).fetchall()[0][0]
    except duckdb.Error:
        return  # not initialised
    if left:
        try:
            snapshot.publish_due(con)
        except Exception:
            pass  # the snapshot stays stale; the next writer, or repair at the next start, publishes
