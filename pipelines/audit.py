"""The audit trail: who did what, when. Rows are only ever appended (no code path updates or deletes them).

Actions: sign_in, upload_accepted, upload_rejected, upload_unchanged, replacement, original_download,
sql_query, access_denied, publication_failed (a load committed but the snapshot could not be replaced). The log is its own DuckDB file (PEER_AUDIT), attached to every read-write
warehouse connection as `audit`: it never reaches the analysts' snapshot, which copies the warehouse file.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.warehouse import WRITE_LOCK

ACTIONS = ("sign_in", "upload_accepted", "upload_rejected", "upload_unchanged", "replacement",
           "original_download", "sql_query", "access_denied", "publication_failed")

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


def record(con: duckdb.DuckDBPyConnection, actor: str, role: str, action: str, target: str | None = None,
           detail: str | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with WRITE_LOCK:
        cur = con.cursor()
        try:
            cur.execute("insert into audit.audit_log (actor, role, action, target, detail) values (?, ?, ?, ?, ?)",
                        [actor, role, action, target, detail])
        finally:
            cur.close()


def events(con: duckdb.DuckDBPyConnection, *, actions: list[str] | None = None, actor: str = "",
           since: str | None = None, limit: int | None = 5000) -> pl.DataFrame:
    """Newest first; `actor` matches a substring, case-insensitively."""
    cur = con.cursor()
    try:
        return cur.sql(
            "select event_id, strftime(occurred_at, '%Y-%m-%d %H:%M:%S') as occurred_at, actor, role, action, target, detail "
            "from audit.audit_log where (? is null or action in (select unnest(?::varchar[]))) "
            "and actor ilike '%' || ? || '%' and (? is null or occurred_at >= ?::timestamp) "
            "order by event_id desc limit ?",
            params=[actions, actions, actor, since, since, limit or 2**62]).pl()
    finally:
        cur.close()
