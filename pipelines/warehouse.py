"""The DuckDB warehouse: opening it (one writer), its schema, migrations and reference data."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.contracts import REFERENCE, REPORTS, Contract

SCHEMA_VERSION = 5
WRITE_LOCK = threading.RLock()
"""Serialises writers inside one process (DuckDB serialises nothing across our cursors for us)."""


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file open for writing."""


class WarehouseTooNew(RuntimeError):
    """The file was made by a newer version of this code, which an older one must not rewrite."""


class DiskFull(OSError):
    """A write failed for lack of space; the message says where, and what was (not) written."""


NOTICES: list[str] = []
"""Things repaired on the way (a missing audit file started again), for the caller to show."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error (DuckDB's or the operating system's) comes from a full disk or quota."""
    import errno

    while exc is not None:
        if isinstance(exc, DiskFull) or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if "no space left" in text or "disk quota exceeded" in text or "disk is full" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disk_full(folder: Path, what: str) -> DiskFull:
    """A DiskFull saying which disk is full, how much is free and what happened."""
    import shutil

    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = f" ({shutil.disk_usage(folder).free / 2**20:,.1f} MB free)"
    except OSError:
        free = ""
    return DiskFull(f"The disk holding {folder} is full{free}: {what} Free space there (old exports, copies of "
                    f"the warehouse, files no longer needed), then run the command again.")


def connect(path: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file itself; a file held by another process raises WarehouseBusy, never waits.
    Writers open it through writer.session (their turn in line); readers open the snapshot (snapshot.reader)."""
    path = Path(path or settings.db_path())
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            holder = re.search(r"PID (\d+)", str(exc))
            who = f" (process {holder.group(1)})" if holder else ""
            raise WarehouseBusy(
                f"Warehouse busy: {path.name} is open for writing in another program{who}. "
                "Wait for it to finish and try again.") from exc
        raise


def attach_audit(con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
    """Attach the audit log (its own file, next to the warehouse) as `audit`; in memory when there is no file."""
    if con.execute("select count(*) from duckdb_databases() where database_name = 'audit'").fetchall()[0][0]:
        return
    target = path.as_posix().replace("'", "''") if path else ":memory:"
    con.execute(f"attach '{target}' as audit")


def _fact_ddl(contract: Contract) -> str:
    cols = ",\n  ".join(f"{c.name} {c.sql_type}" for c in contract.columns)
    return (f"create table if not exists {contract.name} (\n  submission_id bigint not null,\n"
            f"  source_row bigint,\n  {cols}\n)")


def _reference_ddl(contract: Contract) -> str:
    cols = ",\n  ".join(f"{c.name} {c.sql_type}" for c in contract.columns)
    return f"create table if not exists {contract.name} (\n  {cols}\n)"


SUBMISSIONS_DDL = """
create sequence if not exists submission_seq start 1;
create table if not exists submissions (
  submission_id bigint primary key default nextval('submission_seq'),
  agency_id varchar,
  quarter varchar,
  report varchar not null,
  file_name varchar,
  sha256 varchar not null,
  rows bigint not null,
  status varchar not null,           -- accepted | rejected
  submitted_by varchar,
  submitted_at timestamp not null default current_timestamp,
  superseded_by bigint,
  error_count integer not null default 0,
  warning_count integer not null default 0
);
create table if not exists submission_findings (
  submission_id bigint not null,
  severity varchar not null,
  code varchar not null,
  row bigint,
  "column" varchar,
  value varchar,
  message varchar not null
);
create table if not exists warehouse_settings (name varchar primary key, value varchar);
create table if not exists original_files (
  sha256 varchar primary key,        -- the file is kept as <PEER_ORIGINALS>/<sha256>
  file_name varchar,                 -- name it was first uploaded under
  bytes bigint not null,
  stored_at timestamp not null default current_timestamp
);
"""


def _migrate_1_to_2(con: duckdb.DuckDBPyConnection) -> None:
    """Version 2 added warning counts to submissions and the findings table."""
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = 'submissions'").fetchall()}
    if "warning_count" not in cols:
        con.execute("alter table submissions add column error_count integer default 0")
        con.execute("alter table submissions add column warning_count integer default 0")


def _migrate_2_to_3(con: duckdb.DuckDBPyConnection) -> None:
    """Version 3 keeps uploaded files: original_files records each one kept on disk by sha256."""
    con.execute("create table if not exists original_files (sha256 varchar primary key, file_name varchar, "
                "bytes bigint not null, stored_at timestamp not null default current_timestamp)")


def _migrate_4_to_5(con: duckdb.DuckDBPyConnection) -> None:
    """Version 5 added the practices self-assessment (its fact table is created with the others) and reshaped
    the reference tables (targets gained pillar, floor, stretch...): a reference table whose columns differ
    from its contract is dropped and created again, then reloaded from its CSV like every init does."""
    rebuild_changed_reference_tables(con)


MIGRATIONS = {2: _migrate_1_to_2, 3: _migrate_2_to_3, 5: _migrate_4_to_5}


def rebuild_changed_reference_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop the reference tables whose columns are not their contract's (they are reloaded from CSV anyway)."""
    dropped = []
    for contract in REFERENCE.values():
        found = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'main' and table_name = ? "
            "order by ordinal_position", [contract.name]).fetchall()]
        if found and found != contract.names:
            con.execute(f"drop table {contract.name}")
            dropped.append(contract.name)
    return dropped


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'schema_version'").fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from schema_version").fetchall()[0][0]


def init(con: duckdb.DuckDBPyConnection) -> int:
    """Create or upgrade the schema, reload reference data and recreate the metric views.

    Returns the schema version found before the upgrade (0 for a new file).
    """
    from pipelines import audit, metrics  # views depend on tables created here; audit on WRITE_LOCK

    with WRITE_LOCK:
        found = schema_version(con)
        if found > SCHEMA_VERSION:
            raise WarehouseTooNew(f"The warehouse has schema version {found}, newer than this version's "
                                  f"{SCHEMA_VERSION}. Update the software; it was not changed.")
        con.execute("begin")
        try:
            con.execute("create table if not exists schema_version (version integer, applied_at timestamp "
                        "default current_timestamp)")
            for version in range(max(found, 1) + 1, SCHEMA_VERSION + 1):
                if found and version in MIGRATIONS:
                    MIGRATIONS[version](con)
            con.execute(SUBMISSIONS_DDL)
            for contract in REPORTS.values():
                con.execute(_fact_ddl(contract))
            for contract in REFERENCE.values():
                con.execute(_reference_ddl(contract))
            load_reference(con)
            metrics.create_views(con)
            if found < SCHEMA_VERSION:
                con.execute("insert into schema_version (version) values (?)", [SCHEMA_VERSION])
            set_setting(con, "build", build_id())
            if settings.get("PEER_AS_OF"):
                set_setting(con, "as_of", settings.get("PEER_AS_OF"))
            con.execute("commit")
        except Exception as exc:
            try:
                con.execute("rollback")
            except duckdb.Error:
                pass  # DuckDB already ended the transaction (a failed commit): the first error is the one to tell
            if is_disk_full(exc):
                raise disk_full(settings.db_path().parent, "the warehouse was not changed.") from exc
            raise
        if found == 0:
            audit.create(con)  # its own file (or, for a warehouse in memory, attached in memory)
    return found


def build_id() -> str:
    """Changes with the schema, the view definitions and the reference data: a snapshot of another build is
    published again (snapshot.repair) even when no submission came in."""
    import hashlib

    from pipelines import metrics, publication

    digest = hashlib.sha256(f"{SCHEMA_VERSION}".encode())
    for source in (Path(metrics.__file__), Path(publication.__file__), *sorted(Path(metrics.__file__).parent.glob(
            "sql/*.sql")), *sorted(settings.reference_dir().glob("*.csv"))):
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()[:16]


def load_reference(con: duckdb.DuckDBPyConnection, folder: Path | None = None) -> None:
    """Replace the reference tables with the CSV files in PEER_REFERENCE (default data/reference)."""
    folder = folder or settings.reference_dir()
    for contract in REFERENCE.values():
        path = folder / f"{contract.name}.csv"
        if not path.exists():
            continue
        types = {c.name: c.sql_type for c in contract.columns}
        con.execute(f"delete from {contract.name}")
        con.execute(
            f"insert into {contract.name} by name select * from read_csv(?, header = true, columns = ?, "
            "nullstr = '')", [str(path), types])


def get_setting(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = con.execute("select value from warehouse_settings where name = ?", [name]).fetchall()
    return rows[0][0] if rows else None


def set_setting(con: duckdb.DuckDBPyConnection, name: str, value: str | None) -> None:
    con.execute("insert or replace into warehouse_settings values (?, ?)", [name, value])


def policy(con: duckdb.DuckDBPyConnection, name: str, default: str) -> str:
    rows = con.execute("select value from policy where setting = ?", [name]).fetchall()
    return rows[0][0] if rows else default
