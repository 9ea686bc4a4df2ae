"""What analysts can query: the snapshot's tables and views with described columns, and the canned queries.

Descriptions come from the report contracts (tables) and the metric registry (views), so the schema
browser, the export README and the analyst guide never drift from the definitions; a table or column
known to neither falls back to its DuckDB comment (COMMENT ON ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import metrics, publication, sandbox, settings, snapshot
from pipelines.contracts import REFERENCE, REPORTS

QUERIES_DIR = settings.ROOT / "queries"
TABLES = {
    "submissions": "One row per upload, accepted or rejected, per agency, quarter and report; superseded_by "
                   "points to the submission that replaced it.",
    "submission_findings": "Validation findings (errors and warnings) recorded with each submission.",
    "warehouse_settings": "Warehouse-wide settings (e.g. the as-of date of the demo).",
    "schema_version": "Version of the warehouse schema.",
    "original_files": "Each uploaded file kept on disk, by sha256, so any submission can be traced to its bytes.",
}
COLUMNS = {
    "submission_id": "Submission that delivered the row (submissions.submission_id).",
    "source_row": "Row number in the agency's file (header = 1).",
    "level": "agency, region or state.",
    "entity_id": "The agency_id, the region_id, or STATE, depending on level.",
    "quarter": "Reporting quarter, written YYYY-Qn.",
    "quarter_ordinal": "Quarter as a running number, for window math.",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # table | view | materialized view (a table recomputed from its view SQL on every load)
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)


def _column_descriptions() -> dict[str, dict[str, str]]:
    described: dict[str, dict[str, str]] = {}
    for contract in (*REPORTS.values(), *REFERENCE.values()):
        described[contract.name] = {c.name: c.description for c in contract.columns}
    for m in metrics.METRICS:
        unit = f" ({m.unit})" if m.unit else ""
        for view in m.views:
            described.setdefault(view, {}).setdefault(m.column, f"{m.label}{unit}: {m.description}")
    return described


def _table_descriptions() -> dict[str, str]:
    return {**TABLES, **{c.name: c.description for c in (*REPORTS.values(), *REFERENCE.values())},
            **metrics.view_descriptions(), **publication.descriptions()}


def schema(con: duckdb.DuckDBPyConnection) -> list[Relation]:
    """Every table and view of the connected database with column types and descriptions (tables first)."""
    cur = snapshot.cursor(con)
    try:
        objects = cur.execute("select table_name, table_type, table_comment from information_schema.tables "
                              "where table_schema = 'main' order by table_type, table_name").fetchall()
        columns = cur.execute("select table_name, column_name, data_type, column_comment from "
                              "information_schema.columns where table_schema = 'main' "
                              "order by table_name, ordinal_position").fetchall()
    finally:
        cur.close()
    tables, described = _table_descriptions(), _column_descriptions()
    by_table: dict[str, list[Column]] = {}
    for table, column, dtype, comment in columns:
        text = described.get(table, {}).get(column) or comment or COLUMNS.get(column, "")
        by_table.setdefault(table, []).append(Column(column, dtype, text))
    materialized = {v.name for v in metrics.VIEWS if v.materialized}
    return [Relation(name, "materialized view" if name in materialized else "view" if kind == "VIEW" else "table",
                     tables.get(name) or comment or "", tuple(by_table.get(name, ())))
            for name, kind, comment in objects]


@dataclass(frozen=True)
class CannedQuery:
    """A saved query from queries/NAME.sql: a title, a description, the SQL and example parameter values."""

    name: str
    title: str
    description: str
    sql: str
    defaults: dict[str, str]

    @property
    def parameters(self) -> list[str]:
        return sandbox.parameters(self.sql)


def read_query(path: Path) -> CannedQuery:
    """Parse the leading `-- key: value` comment lines (title, description, `default NAME`)."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        key, _, value = line[2:].partition(":")
        meta[key.strip().lower()] = value.strip()
    defaults = {k.split(" ", 1)[1]: v for k, v in meta.items() if k.startswith("default ")}
    return CannedQuery(path.stem, meta.get("title", path.stem), meta.get("description", ""), text.strip(), defaults)


def canned_queries(folder: Path | None = None) -> list[CannedQuery]:
    """Every canned query, ordered by title."""
    return sorted((read_query(p) for p in Path(folder or QUERIES_DIR).glob("*.sql")), key=lambda q: q.title)
