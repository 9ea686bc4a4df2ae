"""Read-only, sandboxed SQL on the published snapshot (for `query` and the SQL workbench).

Four layers, after Datasette:
1. the connection: the snapshot opened read-only, file and network access off, Python replacement
   scans off, no spill files, memory and thread limits, configuration locked;
2. the statement: exactly one, and only a read statement, as DuckDB's own parser classifies it, with
   its parse tree checked for file readers and SQL hidden in strings (`query('...')`). EXPLAIN and
   EXPLAIN ANALYZE are checked like the statement they wrap: EXPLAIN ANALYZE runs that statement, so
   `EXPLAIN ANALYZE COPY ...`, `EXPLAIN CREATE ...` and the like are refused like the bare statement;
   EXPLAIN (ANALYZE) of a read statement that passes the check is allowed;
3. a time limit, enforced by interrupting the query;
4. a row cap (one more row is fetched to know it was hit) and a cap on the result's size in bytes
   (MAX_RESULT_BYTES): a result is cut to the rows that fit, and says so.
The workbench and `query` run it in a child process (`pipelines.sandbox_process`), where the operating
system also bounds the query's memory, kills it one second after the time limit, and refuses to open any
file for writing (DuckDB's own file sandbox still lets a connection write to the database file it has
open, read-only or not).
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
MAX_RESULT_BYTES = 32 << 20  # a result larger than this (in memory) is cut to the rows that fit
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
    "access_mode": "read_only",
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
    truncated: bool  # cut: more rows than the row cap, or more bytes than MAX_RESULT_BYTES
    seconds: float
    too_big: bool = False  # cut because of its size in bytes

    @property
    def notice(self) -> str | None:
        return cut_notice(self.frame.height, self.truncated, self.too_big)

    @property
    def columns(self) -> list[str]:
        return self.frame.columns

    @property
    def rows(self) -> list[tuple]:
        return self.frame.rows()


def cut_notice(rows: int, truncated: bool, too_big: bool) -> str | None:
    """What the reader is told when a result was cut (None when it is complete)."""
    if too_big:
        return (f"Showing the first {rows:,} rows: the result is larger than {MAX_RESULT_BYTES >> 20} MB, the most "
                "the workbench returns. Select fewer or shorter columns, or aggregate first.")
    if truncated:
        return f"Showing the first {rows:,} rows. Add filters or aggregate to see everything."
    return None


def open_snapshot(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh sandboxed, read-only connection to the published snapshot (close it after use)."""
    path = Path(path or settings.snapshot_path())
    if not path.exists():
        raise Refused(f"No published snapshot at {path}. Load data first (python -m pipelines demo or ingest).",
                      "error")
    try:
        return duckdb.connect(str(path), read_only=True, config=SANDBOX_CONFIG)
    except duckdb.OutOfMemoryException as exc:
        raise _explain(exc, 0) from exc
    except duckdb.Error as exc:
        raise Refused(f"The published snapshot at {path} could not be opened ({_first_line(exc)}). Ask the "
                      "warehouse's administrator to publish it again (any accepted load does).", "error") from exc


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
    """Refuse anything but exactly one read statement; return its named parameters in order of appearance.
    EXPLAIN [ANALYZE] is checked like the statement it wraps (EXPLAIN ANALYZE runs it)."""
    statement = _statement(con, sql)
    _check_kind(con, statement)
    names = sorted(statement.named_parameters, key=lambda n: sql.find(f"${n}"))
    if any(n.isdigit() for n in names):
        raise Refused("Use named parameters such as $agency (not ? or $1), so the page can ask for each value.")
    return names


def _kind(statement):
    try:
        return statement.type
    except ValueError:  # a statement type the Python client cannot name (e.g. UPDATE EXTENSIONS)
        return None


def _check_kind(con: duckdb.DuckDBPyConnection, statement, wrapped: bool = False) -> None:
    kind = _kind(statement)
    if kind not in READ_STATEMENTS or (wrapped and kind == ST.EXPLAIN):
        name = kind.name if kind else "This"
        reason = REFUSALS.get(kind, f"{name} statements are not allowed: the workbench runs one read "
                                    "statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN).")
        raise Refused(f"EXPLAIN runs or plans the statement it wraps, so the same rule applies: {reason}"
                      if wrapped else reason)
    if kind == ST.EXPLAIN:
        inner = _explained(statement.query)
        statements = _inner_statements(con, inner)
        _check_kind(con, statements[0], wrapped=True)
    else:
        _check_tree(con, statement.query)


EXPLAIN_OPTIONS = {"analyze", "analyse", "format", "verbose"}
NOT_UNWRAPPED = ("This EXPLAIN could not be checked: write `EXPLAIN statement`, `EXPLAIN ANALYZE statement` or "
                 "`EXPLAIN (FORMAT json) statement`, where the statement is one read statement.")


def _explained(sql: str) -> str:
    """The statement an EXPLAIN wraps: the text after `EXPLAIN`, an optional `ANALYZE` and an optional
    option list such as `(ANALYZE, FORMAT json)`. Anything else is refused, never guessed."""
    every = duckdb.tokenize(sql)
    tokens, text = [], []
    for i, (pos, kind) in enumerate(every):
        if kind != duckdb.token_type.comment:
            end = every[i + 1][0] if i + 1 < len(every) else len(sql)
            tokens.append(pos)
            text.append(sql[pos:end].strip().lower())
    if not text or text[0] != "explain":
        raise Refused(NOT_UNWRAPPED)
    i = 1
    if i < len(text) and text[i] in ("analyze", "analyse"):
        i += 1
    if i + 1 < len(text) and text[i] == "(" and text[i + 1] in EXPLAIN_OPTIONS:
        close = next((j for j in range(i + 1, len(text)) if text[j] == ")"), None)
        if close is None or any(t == "(" for t in text[i + 1:close]):
            raise Refused(NOT_UNWRAPPED)
        i = close + 1
    if i >= len(tokens):
        raise Refused(NOT_UNWRAPPED)
    return sql[tokens[i]:]


def _inner_statements(con: duckdb.DuckDBPyConnection, inner: str) -> list:
    try:
        statements = con.extract_statements(inner)
    except duckdb.Error as exc:
        raise Refused(NOT_UNWRAPPED) from exc
    if len(statements) != 1:
        raise Refused(NOT_UNWRAPPED)
    return statements


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
        frame, too_big = fit(frame.head(max_rows + 1), MAX_RESULT_BYTES)
        return QueryResult(frame.head(max_rows), too_big or frame.height > max_rows, time.perf_counter() - started,
                           too_big)
    finally:
        if own:
            con.close()


def fit(frame: pl.DataFrame, max_bytes: int) -> tuple[pl.DataFrame, bool]:
    """The first rows of `frame` that fit in `max_bytes` (as polars counts them), and whether any were cut."""
    if frame.estimated_size() <= max_bytes:
        return frame, False
    low, high = 0, frame.height  # head(low) fits, head(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if frame.head(middle).estimated_size() <= max_bytes:
            low = middle
        else:
            high = middle
    return frame.head(low), True
