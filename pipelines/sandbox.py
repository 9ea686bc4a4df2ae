"""Read-only, sandboxed SQL on the published snapshot (for `query` and the SQL console).

Four layers, after Datasette: a read-only connection with file/network access off and configuration
locked; exactly one statement, and only a read statement, as DuckDB's own parser classifies it; a
time limit enforced by interrupting the query; a row cap (fetch one more row to know it was hit).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import settings

READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
SANDBOX_CONFIG = {
    "enable_external_access": "false",
    "python_enable_replacements": "false",
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "memory_limit": "2GB",
    "threads": "2",
    "lock_configuration": "true",
}


class Refused(Exception):
    """The statement is not allowed or did not finish; the message says why in plain words."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool


def open_snapshot(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    path = Path(path or settings.snapshot_path())
    if not path.exists():
        raise Refused(f"No published snapshot at {path}. Load data first (python -m pipelines demo or ingest).")
    return duckdb.connect(str(path), read_only=True, config=SANDBOX_CONFIG)


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but exactly one read statement."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise Refused(f"The query could not be parsed: {exc}") from exc
    if len(statements) != 1:
        raise Refused(f"Enter exactly one statement (found {len(statements)}).")
    kind = statements[0].type
    if kind not in READ_STATEMENTS:
        raise Refused(f"{kind.name} statements are not allowed: this is a read-only workbench. Use SELECT "
                      "(or WITH ... SELECT, DESCRIBE, SHOW, SUMMARIZE).")


def run(sql: str, *, con: duckdb.DuckDBPyConnection | None = None, max_rows: int = 10_000,
        timeout_s: float = 5.0, params: dict | None = None) -> QueryResult:
    """Run one read statement on the snapshot within the time limit and row cap."""
    own = con is None
    con = con or open_snapshot()
    try:
        check_statement(con, sql)
        cur = con.cursor()
        timer = threading.Timer(timeout_s, cur.interrupt)
        timer.start()
        try:
            rel = cur.sql(sql, params=params) if params else cur.sql(sql)
            if rel is None:
                return QueryResult([], [], False)
            rows = rel.limit(max_rows + 1).fetchall()
            columns = list(rel.columns)
        except duckdb.InterruptException as exc:
            raise Refused(f"The query was stopped after the {timeout_s:g} s time limit. Narrow it (filters, "
                          "LIMIT) or aggregate first.") from exc
        except duckdb.PermissionException as exc:
            raise Refused(f"Not allowed here: {exc}. The workbench reads only the warehouse's own tables and "
                          "views; files, network and settings are off.") from exc
        except duckdb.Error as exc:
            message = str(exc)
            if "read-only" in message or "read only" in message:
                raise Refused("The warehouse is read-only here: statements that change data are not allowed.") \
                    from exc
            if "configuration has been locked" in message:
                raise Refused("Settings cannot be changed in the workbench.") from exc
            raise Refused(message) from exc
        finally:
            timer.cancel()
            cur.close()
        return QueryResult(columns, rows[:max_rows], len(rows) > max_rows)
    finally:
        if own:
            con.close()
