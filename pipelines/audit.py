"""The audit trail: who did what, when. Rows are only ever appended (no code path updates or deletes them).

Actions: sign_in, upload_accepted, upload_rejected, upload_unchanged, replacement, original_download,
sql_query, access_denied, publication_failed (a load committed but the snapshot could not be replaced).
The log is its own DuckDB file (PEER_AUDIT, by default <warehouse>.audit.duckdb), so it never reaches the
analysts' snapshot, which copies the warehouse file. Every process that records or reads an event opens the
file for that moment only, taking its turn on `<audit file>.lock`: dashboard replicas and writers share it
without any of them holding it.
"""

from __future__ import annotations

import duckdb
import polars as pl

import contextlib
from collections.abc import Iterator
from pathlib import Path

from pipelines import settings
from pipelines.warehouse import NOTICES, WRITE_LOCK, attach_audit

WAIT_S = 10.0
"""How long recording an event waits for another process's turn on the log (each takes milliseconds)."""

ACTION_LABELS = {"sign_in": "Sign-in", "upload_accepted": "Upload accepted", "upload_rejected": "Upload rejected",
                 "upload_unchanged": "Upload unchanged", "replacement": "Replacement",
                 "original_download": "Original file downloaded", "sql_query": "SQL query",
                 "access_denied": "Access denied", "publication_failed": "Publication failed"}
"""Each action in words, as the audit trail page shows it."""
ACTIONS = tuple(ACTION_LABELS)

DDL = """
create sequence if not exists audit.audit_seq start 1;
create table if not exists audit.audit_log (
  event_id bigint primary key default nextval('audit.audit_seq'),
  occurred_at timestamp not null default current_timestamp,
  actor varchar not null,            -- email or OIDC subject; 'public' when signed out; cli:<user> from the CLI
  role varchar not null,
  action varchar not null,
  target varchar,                    -- what it was done to: a submission, a file, a page, an agency
  detail varchar                     -- the rest: the SQL text, counts, the reason access was refused
);
"""


Where = duckdb.DuckDBPyConnection | Path | None
"""The warehouse whose log is meant: a connection to it, its file, or None for PEER_DB."""


def _warehouse_file(where: Where) -> Path | None:
    """The warehouse file; None for a warehouse in memory (whose log is attached to it, in memory)."""
    if isinstance(where, duckdb.DuckDBPyConnection):
        path = where.execute("select path from duckdb_databases() where database_name = current_database()"
                             ).fetchall()[0][0]
        return Path(path) if path and path != ":memory:" else None
    return Path(where or settings.db_path())


@contextlib.contextmanager
def log(where: Where = None, *, starting: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the log attached as `audit`, for one event or one read. A log missing beside an
    existing warehouse (one restored or copied without it) is started again, and NOTICES says so, unless
    the warehouse is `starting` (being created)."""
    from pipelines import writer

    db = _warehouse_file(where)
    if db is None:
        attach_audit(where, None)
        where.execute(DDL)
        yield where
        return
    path = settings.audit_path(db)
    with writer.turn(path, what="audit", wait=WAIT_S):
        missing = not path.exists()
        con = duckdb.connect(":memory:")
        try:
            attach_audit(con, path)
            con.execute(DDL)
            if missing and not starting and db.exists():
                NOTICES.append(f"The audit trail {path} was missing (a warehouse restored or copied without it?): "
                               "started a new, empty one. Earlier events are only in the old file, if it still "
                               "exists.")
            yield con
        finally:
            con.close()


def create(where: Where = None) -> None:
    """Start the log of a warehouse being created (so a log missing later means one restored without it)."""
    with log(where, starting=True):
        pass


def record(con: Where, actor: str, role: str, action: str, target: str | None = None,
           detail: str | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with WRITE_LOCK, log(con) as log_con:
        log_con.execute("insert into audit.audit_log (actor, role, action, target, detail) values (?, ?, ?, ?, ?)",
                        [actor, role, action, target, detail])


def events(con: Where = None, *, actions: list[str] | None = None, actor: str = "",
           since: str | None = None, limit: int | None = 5000) -> pl.DataFrame:
    """Newest first; `actor` matches a substring, case-insensitively."""
    with log(con) as cur:
        return cur.sql(
            "select event_id, strftime(occurred_at, '%Y-%m-%d %H:%M:%S') as occurred_at, actor, role, action, target, detail "
            "from audit.audit_log where (? is null or action in (select unnest(?::varchar[]))) "
            "and actor ilike '%' || ? || '%' and (? is null or occurred_at >= ?::timestamp) "
            "order by event_id desc limit ?",
            params=[actions, actions, actor, since, since, limit or 2**62]).pl()
