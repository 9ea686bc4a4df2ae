"""Read-only, sandboxed SQL on the published snapshot (for `query` and the SQL workbench).

Four layers, after Datasette:
1. the connection: the snapshot opened read-only, file and network access off, Python replacement
   scans off, no spill files, memory and thread limits, configuration locked;
2. the statement: exactly one, and only a read statement, as DuckDB's own parser classifies it, with
   its parse tree checked for file readers and SQL hidden in strings (`query('...')`);
3. a time limit, enforced by interrupting the query;
4. a row cap (one more row is fetched to know it was hit).
The workbench and `query` run it in a child process (`pipelines.sandbox_process`), where the operating
system also bounds the query's memory and kills it one second after the time limit.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines import settings

ST = duckdb.StatementType
READ_STATEMENTS = {ST.SELECT, ST.EXPLAIN}
MEMORY_LIMIT = "2GB"
SANDBOX_CONFIG = {
    "enable_external_access": "false",
    "python_enable_replacements": "false",
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "allow_community_extensions": "false",
    "allow_persistent_secrets": "false",
    "temp_directory": "",  # no spill files beside the snapshot: the memory limit is a hard limit
    "memory_limit": MEMORY_LIMIT,
    "threads": "2",
    "lock_configuration": "true",
}
ONLY_READS = "The workbench only reads the warehouse; data changes arrive through validated agency reports."
REFUSALS = {
    ST.CREATE: "Creating tables, views, macros or other objects is not allowed. " + ONLY_READS,
    ST.ALTER: "Altering tables or views is not allowed. " + ONLY_READS,
    ST.DROP: "Dropping or removing objects is not allowed. " + ONLY_READS,
    ST.INSERT: "Changing data (INSERT) is not allowed. " + ONLY_READS,
    ST.UPDATE: "Changing data (UPDATE) is not allowed. " + ONLY_READS,
    ST.DELETE: "Changing data (DELETE) is not allowed. " + ONLY_READS,
    ST.MERGE_INTO: "Changing data (MERGE) is not allowed. " + ONLY_READS,
    ST.COPY_DATABASE: "Copying databases is not allowed: the workbench reads only the published warehouse.",
    ST.ANALYZE: "Maintenance statements (VACUUM, ANALYZE) are not allowed here.",
    ST.COPY: "COPY reads or writes files, which is not allowed here. Download results as CSV or Parquet "
             "instead, or use `python -m pipelines export DIR`.",
    ST.EXPORT: "EXPORT DATABASE writes files, which is not allowed here. `python -m pipelines export DIR` "
               "writes every table and view as Parquet.",
    ST.ATTACH: "Attaching another database is not allowed: the workbench reads only the published warehouse.",
    ST.DETACH: "Detaching databases is not allowed: the workbench reads only the published warehouse.",
    ST.LOAD: "Installing or loading extensions is not allowed here.",
    ST.SET: "Changing settings or variables (SET, RESET, USE) is not allowed: the limits are the same for "
            "everyone. Use named parameters such as $agency for values.",
    ST.VARIABLE_SET: "Setting variables is not allowed here. Use named parameters such as $agency instead.",
    ST.PRAGMA: "PRAGMA statements are not allowed. Many have a read-only form you can SELECT from, e.g. "
               "`select * from pragma_table_info('headcount')`.",
    ST.CALL: "CALL (and CHECKPOINT) is not allowed. Table functions can be read with SELECT, e.g. "
             "`select * from pragma_version()`.",
    ST.TRANSACTION: "Transactions are not needed here: each query runs on its own, read-only.",
    ST.PREPARE: "Prepared statements are not available. Use named parameters such as $agency instead.",
    ST.EXECUTE: "Prepared statements are not available. Use named parameters such as $agency instead.",
    ST.VACUUM: "Maintenance statements (VACUUM, ANALYZE) are not allowed here.",
    ST.MULTI: "This statement runs several statements behind the scenes (for example PIVOT without an IN "
              "list). Name the values instead: `PIVOT ... ON role IN ('FAMILY_PEER', 'YOUTH_PEER') USING ...`.",
}
FILE_FUNCTIONS = {"glob", "sniff_csv", "read_duckdb", "parquet_scan", "sqlite_scan", "iceberg_scan", "delta_scan"}
SQL_TEXT_FUNCTIONS = {"query", "query_table"}
READS_FILES = ("Reading files is not allowed here: the workbench reads only the warehouse's own tables and "
               "views. The schema browser lists them.")


class Refused(Exception):
    """The statement is not allowed or did not finish; the message says why in plain words."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.code = code  # refused | timeout | memory | error


@dataclass
class QueryResult:
    frame: pl.DataFrame
    truncated: bool
    seconds: float

    @property
    def columns(self) -> list[str]:
        return self.frame.columns

    @property
    def rows(self) -> list[tuple]:
        return self.frame.rows()


def open_snapshot(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh sandboxed, read-only connection to the published snapshot (close it after use)."""
    path = Path(path or settings.snapshot_path())
    if not path.exists():
        raise Refused(f"No published snapshot at {path}. Load data first (python -m pipelines demo or ingest).",
                      "error")
    return duckdb.connect(str(path), read_only=True, config=SANDBOX_CONFIG)


def _statement(con: duckdb.DuckDBPyConnection, sql: str):
    if not sql.strip():
        raise Refused("Enter a SQL statement.")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise Refused(f"The query could not be parsed: {_first_line(exc)}", "error") from exc
    if len(statements) != 1:
        raise Refused(f"Enter exactly one statement (found {len(statements)}). Remove the extra ones, or the "
                      "semicolon between them.")
    return statements[0]


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """Refuse anything but exactly one read statement; return its named parameters in order of appearance."""
    statement = _statement(con, sql)
    try:
        kind = statement.type
    except ValueError:  # a statement type the Python client cannot name (e.g. UPDATE EXTENSIONS)
        kind = None
    if kind not in READ_STATEMENTS:
        name = kind.name if kind else "This"
        raise Refused(REFUSALS.get(kind, f"{name} statements are not allowed: the workbench runs one read "
                                         "statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN)."))
    if kind == ST.SELECT:
        _check_tree(con, sql)
    names = sorted(statement.named_parameters, key=lambda n: sql.find(f"${n}"))
    if any(n.isdigit() for n in names):
        raise Refused("Use named parameters such as $agency (not ? or $1), so the page can ask for each value.")
    return names


def parameters(sql: str) -> list[str]:
    """Named parameters ($name) of one statement, in order of appearance; empty when it does not parse."""
    con = duckdb.connect(":memory:")
    try:
        return sorted(con.extract_statements(sql)[0].named_parameters, key=lambda n: sql.find(f"${n}"))
    except (duckdb.Error, IndexError):
        return []
    finally:
        con.close()


def _check_tree(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Walk DuckDB's own parse tree: refuse file readers, file paths used as tables, and SQL inside strings."""
    cur = con.cursor()
    try:
        tree = json.loads(cur.execute("select json_serialize_sql(?)", [sql]).fetchall()[0][0])
    finally:
        cur.close()
    if tree.get("error"):
        raise Refused(f"The query could not be checked: {tree.get('error_message')}", "error")
    for node in _nodes(tree):
        function = str(node.get("function_name") or "").lower()
        if function in FILE_FUNCTIONS or function.startswith(("read_", "parquet_")):
            raise Refused(f"{function}() reads files. " + READS_FILES)
        if function in SQL_TEXT_FUNCTIONS:
            raise Refused(f"{function}() runs SQL written inside a string, which is not allowed here. Write the "
                          "statement itself instead.")
        table = str(node.get("table_name") or "") if node.get("type") == "BASE_TABLE" else ""
        if any(ch in table for ch in "/\\.*?:"):
            raise Refused(f"'{table}' looks like a file. " + READS_FILES)


def _nodes(value):
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _explain(exc: duckdb.Error, timeout_s: float) -> Refused:
    """A DuckDB error in plain words."""
    message = _first_line(exc)
    if isinstance(exc, duckdb.InterruptException):
        return Refused(f"The query was stopped after the {timeout_s:g} s time limit. Narrow it (filters, LIMIT) "
                       "or aggregate first.", "timeout")
    if isinstance(exc, duckdb.PermissionException) or "disabled by configuration" in message:
        return Refused(f"{READS_FILES} Files, network and extensions are switched off. ({message})")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return Refused(f"The query needed more memory than the workbench allows ({MEMORY_LIMIT}). Filter or "
                       "aggregate first.", "memory")
    if "read-only" in message or "read only" in message:
        return Refused("The warehouse is read-only here: statements that change data are not allowed.")
    if "configuration has been locked" in message:
        return Refused(REFUSALS[ST.SET])
    if "Values were not provided" in message:
        return Refused(f"Give a value for every parameter. ({message})", "error")
    return Refused(f"DuckDB could not run the query: {message}", "error")


def run(sql: str, *, con: duckdb.DuckDBPyConnection | None = None, max_rows: int | None = None,
        timeout_s: float | None = None, params: dict | None = None) -> QueryResult:
    """Run one read statement on the snapshot within the time limit and row cap (defaults: the settings)."""
    max_rows = settings.sql_max_rows() if max_rows is None else max_rows
    timeout_s = settings.sql_timeout_s() if timeout_s is None else timeout_s
    own = con is None
    con = con or open_snapshot()
    try:
        names = check_statement(con, sql)
        values = {n: (params or {}).get(n) for n in names}
        missing = [f"${n}" for n, v in values.items() if v is None]
        if missing:
            raise Refused(f"Give a value for {', '.join(missing)}.", "error")
        cur = con.cursor()
        timer = threading.Timer(timeout_s, cur.interrupt)
        started = time.perf_counter()
        timer.start()
        try:
            rel = cur.sql(sql, params=values) if values else cur.sql(sql)
            frame = rel.limit(max_rows + 1).pl() if rel is not None else pl.DataFrame()
        except duckdb.Error as exc:
            raise _explain(exc, timeout_s) from exc
        finally:
            timer.cancel()
            cur.close()
        return QueryResult(frame.head(max_rows), frame.height > max_rows, time.perf_counter() - started)
    finally:
        if own:
            con.close()
