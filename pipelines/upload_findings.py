"""Findings in the terms of the user's file: row as numbered there, column name and spreadsheet letter."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import polars as pl

from pipelines.contracts import REPORTS, plural
from pipelines.findings import Finding, Report, column_letter
from pipelines.bounded_read import read_file
from pipelines.reading import ROW, Unreadable
from pipelines.structure import map_columns

PER_CODE = 20
GROUP_CODES = {"headcount-flow-mismatch", "certification-headcount-mismatch", "billing-without-certified-peer",
               "units-per-fte-high", "peer-rating-without-peers"}
"""Cross-report checks about a whole agency-quarter: pipelines.checks pins them to the group's first row, but they
say nothing about that row, so the page shows them as file-level (no row, no coloured cell)."""
_ROW_PREFIX = re.compile(r"^Row \d+: ")


@dataclass
class FileView:
    """The file's rows as read (text cells under their own headers) and where each column sits."""

    rows: pl.DataFrame
    letters: dict[str, str]
    """Column name (contract or header) -> spreadsheet letter."""
    names: dict[str, str]
    """Column name (contract or header) -> the header shown in `rows`."""


def file_view(file_name: str, data: bytes, kind: str | None, provided: set[str]) -> FileView | None:
    """Re-read the upload for display; None when it cannot be read at all."""
    try:
        raw = read_file(file_name, data)
    except Unreadable:
        return None
    shown: list[str] = []
    for i, header in enumerate(raw.headers):
        label = header or column_letter(i)
        shown.append(label if label not in shown and label != "row" else f"{label} ({column_letter(i)})")
    rows = raw.frame.rename({f"c{i}": name for i, name in enumerate(shown)}).rename({ROW: "row"})
    letters = {column_letter(i): column_letter(i) for i in range(len(shown))}
    names = {column_letter(i): shown[i] for i in range(len(shown))}
    for i, header in enumerate(raw.headers):
        letters.setdefault(header, column_letter(i))
        names.setdefault(header, shown[i])
    if kind:
        for column, position in map_columns(raw.headers, REPORTS[kind], provided).positions.items():
            if position is not None:
                i = int(position[1:])
                letters[column], names[column] = column_letter(i), shown[i]
    return FileView(rows, letters, names)


def findings_frame(report: Report, view: FileView | None) -> pl.DataFrame:
    """Every listed finding, errors first, in file order."""
    letters = view.letters if view else {}
    items = sorted(report.findings, key=lambda f: (f.severity != "error", f.code, f.row or 0, f.column or ""))
    return pl.DataFrame({
        "severity": [f.severity for f in items],
        "code": [f.code for f in items],
        "row": [f.row for f in items],
        "column": [f.column for f in items],
        "letter": [letters.get(f.column or "", "") for f in items],
        "value": [None if f.value is None else str(f.value) for f in items],
        "how to fix": [f.message for f in items],
    }, schema={"severity": pl.String, "code": pl.String, "row": pl.Int64, "column": pl.String,
               "letter": pl.String, "value": pl.String, "how to fix": pl.String})


def counts_frame(report: Report) -> pl.DataFrame:
    """Findings per code (past the listing cap too), errors first."""
    counts = report.counts()
    frame = pl.DataFrame({"code": list(counts), "severity": [report.severity_of(c) for c in counts],
                          "count": list(counts.values())},
                         schema={"code": pl.String, "severity": pl.String, "count": pl.Int64})
    return frame.sort(pl.col("severity") != "error", -pl.col("count"), "code")


def first_of_each(findings: pl.DataFrame, n: int = PER_CODE) -> dict[str, pl.DataFrame]:
    """The first `n` findings of each code, in the order of counts_frame."""
    return {code: group.head(n).drop("code", "severity")
            for (code,), group in findings.group_by("code", maintain_order=True)}


def bad_cells(findings: pl.DataFrame, view: FileView) -> dict[int, dict[str, str]]:
    """Row -> {shown column: severity} for findings that point at one cell (errors win over warnings)."""
    cells: dict[int, dict[str, str]] = {}
    for severity, row, column in findings.select("severity", "row", "column").iter_rows():
        name = view.names.get(column or "")
        if row is None or name is None:
            continue
        if cells.setdefault(row, {}).get(name) != "error":
            cells[row][name] = severity
    return cells


def for_display(report: Report, quarter: str | None, file_quarters: list[str] | None = None) -> Report:
    """The report as the page shows it: group checks file-level (row None, no "Row N:" prefix), and the
    per-row quarter-mismatch said once, file-level, with the count of rows and the fix. Counts are unchanged."""
    shown = Report(report.file, report.sha256, report.report, report.rows, [], list(report.notes),
                   dict(report.truncated))
    mismatched = [f for f in report.findings if f.code == "quarter-mismatch"]
    for f in report.findings:
        if f.code in GROUP_CODES:
            shown.add(replace(f, row=None, message=_ROW_PREFIX.sub("", f.message)))
        elif f.code != "quarter-mismatch":
            shown.add(f)
    if mismatched:
        n = len(mismatched) + report.truncated.get("quarter-mismatch", 0)
        named = sorted({str(f.value) for f in mismatched if f.value is not None} | set(file_quarters or []))
        named = [q for q in named if q != quarter]
        rows = plural(n, "row")
        if len(named) == 1:
            message = (f"{rows} of the file name quarter {named[0]}, but this upload is for {quarter}: choose "
                       f"{named[0]} above, or correct the file.")
        else:
            message = (f"{rows} of the file name other quarters ({', '.join(named)}) than {quarter}, the quarter "
                       "this upload is for: upload each quarter's rows as a file of its own, or correct the file.")
        shown.add(Finding("quarter-mismatch", message, None, "quarter", named[0] if len(named) == 1 else None,
                          mismatched[0].severity))
        shown.truncated["quarter-mismatch"] = n - 1
    return shown


def file_level(report: Report) -> list[Finding]:
    """Findings about the whole file (no row), errors first: said once, above the per-row lists."""
    return sorted((f for f in report.findings if f.row is None), key=lambda f: (f.severity != "error", f.code))
