"""Validate one agency file: read, structure, types, GX value rules, reference and cross-report checks."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines import bounded_read, checks, gx_runner, settings, warehouse
from pipelines.coercion import type_cells
from pipelines.contracts import REPORTS
from pipelines.findings import ERROR, Finding, Report
from pipelines.reading import ROW, Unreadable
from pipelines.structure import infer_report, map_columns
from pipelines.suites import DERIVED, QUARTER_END, QUARTER_START, ROWS_WITH_SAME_KEY, helper_columns

STOP_CODES = {"missing-column", "misspelled-column", "duplicate-column", "blank-header"}
MISMATCH_LISTED = 20
"""Rows listed per agency-mismatch or quarter-mismatch (the rest are counted)."""


@dataclass
class Validated:
    """The report plus, when the file could be typed, the rows ready to load."""

    report: Report
    typed: pl.DataFrame | None = None
    groups: list[tuple[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage (read, types, rules, checks), for progress reports and benchmarks."""

    @property
    def kind(self) -> str | None:
        return self.report.report


def resolve_as_of(con: duckdb.DuckDBPyConnection | None) -> dt.date:
    """PEER_AS_OF if set, else the warehouse's recorded as-of date (the demo pins one), else today."""
    if settings.get("PEER_AS_OF") or con is None:
        return settings.as_of()
    stored = warehouse.get_setting(con, "as_of")
    return dt.date.fromisoformat(stored) if stored else settings.as_of()


def quarter_bounds(quarters: pl.Series) -> pl.DataFrame:
    """First and last day of each distinct 'YYYY-Qn' value (null for anything else)."""
    distinct = quarters.unique().to_frame("quarter")
    parts = pl.col("quarter").str.extract_groups(r"^(\d{4})-Q([1-4])$")
    start = pl.date(parts.struct.field("1").cast(pl.Int32), parts.struct.field("2").cast(pl.Int32) * 3 - 2, 1)
    return distinct.with_columns(start.alias(QUARTER_START),
                                 start.dt.offset_by("3mo").dt.offset_by("-1d").alias(QUARTER_END))


def derive_columns(typed: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Quarter bounds, paid+denied sums and rows per key: what the GX rules compare against."""
    key = ["agency_id", "quarter", *REPORTS[kind].key]
    typed = typed.join(quarter_bounds(typed["quarter"]), on="quarter", how="left", nulls_equal=True,
                       maintain_order="left")
    exprs = [pl.len().over(key).cast(pl.Int64).alias(ROWS_WITH_SAME_KEY)]
    for name, (a, b) in DERIVED.get(kind, {}).items():
        exprs.append((pl.col(a) + pl.col(b)).alias(name))
    return typed.with_columns(exprs)


def validate(path: Path | str, data: bytes | None = None, *, kind: str | None = None, agency: str | None = None,
             quarter: str | None = None, con: duckdb.DuckDBPyConnection | None = None,
             on_stage: Callable[[str], None] | None = None) -> Validated:
    """Validate a file; `con` (a warehouse cursor) enables reference and cross-report checks.

    With `agency`, the file is that agency's alone: rows naming another agency are rejected before anything
    reads the warehouse, and the checks read only that agency's data. Without it (a state backfill), rows of
    any number of agencies are checked.

    `on_stage` is told what is about to run ("reading", "typing", "rules", "checks"), for progress displays.
    """
    report = Report(file=Path(path).name)
    cap = settings.findings_detail_cap()
    clock = _Clock(on_stage)
    try:
        raw = bounded_read.read_file(path, data)  # parsed in a child with bounded memory and time
        clock.lap("read")
    except Unreadable as exc:
        report.add(exc.finding)
        if data is not None or Path(path).exists():
            from pipelines.reading import sha256_of
            report.sha256 = sha256_of(data if data is not None else Path(path).read_bytes())
        return Validated(report)
    report.sha256, report.notes = raw.sha256, list(raw.notes)
    report.rows = raw.frame.height
    guessed = infer_report(raw.headers)
    if kind is None:
        kind = guessed
        if kind is None:
            report.add(Finding("unknown-report", "Could not tell which report this is from its header row ("
                               + ", ".join(raw.headers[:8]) + "). Use the template's header, or choose the "
                               "report kind (--report)."))
            return Validated(report)
        report.notes.append(f"Recognised as the {kind} report from its header.")
    elif guessed and guessed != kind:
        report.add(Finding("wrong-report", f"This file looks like the {guessed} report, not the {kind} report. "
                           "Choose the right report kind or upload the right file."))
        report.report = kind
        return Validated(report)
    report.report = kind
    contract = REPORTS[kind]
    fixed = {k: v for k, v in (("agency_id", agency), ("quarter", quarter)) if v}
    mapping = map_columns(raw.headers, contract, provided=set(fixed))
    for f in raw.findings + mapping.findings:
        report.add(f)
    if any(f.code in STOP_CODES and f.severity == ERROR for f in report.findings):
        return Validated(report)
    typed, type_findings, overflow = type_cells(raw.frame, contract, mapping.positions, fixed, cap)
    del raw  # the text cells are no longer needed; a big file's memory goes down by their size
    clock.lap("types")
    for f in type_findings:
        report.add(f)
    if agency and _rows_of_other_agencies(report, typed, agency, mapping.positions):
        report.notes.append(f"Rows name an agency other than {agency}: nothing else was checked. Upload only "
                            f"{agency}'s rows.")
        _merge(report.truncated, overflow)
        return Validated(report)
    if quarter:
        _check_quarter(report, typed, quarter, mapping.positions)
    if typed.is_empty():
        if not (agency and quarter):
            if report.errors:  # e.g. an unclosed quote swallowed every row: "no rows" would mislead
                return Validated(report)
            report.add(Finding("no-rows", "The file has a header but no rows. To report that there is nothing "
                               "for a quarter, upload it with the agency and quarter chosen."))
            return Validated(report)
        report.notes.append(f"No rows: recorded as 'nothing to report' for {agency} {quarter}.")
    typed = derive_columns(typed, kind)
    gx_findings, gx_overflow = gx_runner.run(kind, typed, cap)
    clock.lap("rules")
    typed_cells = {(f.row, f.column) for f in type_findings}
    for f in gx_findings:
        if (f.row, f.column) not in typed_cells:
            report.add(f)
    _merge(overflow, gx_overflow)
    if con is not None:
        ref, ref_overflow = checks.run(
            con, typed, kind, resolve_as_of(con), cap, cross=True, agencies=[agency] if agency else None,
            billing_requires_certification=warehouse.policy(
                con, "certification_required_for_billing", "true").lower() == "true",
            ceiling=float(warehouse.policy(con, "units_per_fte_ceiling", "1400")))
        for f in ref:
            report.add(f)
        _merge(overflow, ref_overflow)
    else:
        report.notes.append("No warehouse available: reference and cross-report checks were not run.")
    clock.lap("checks")
    _merge(report.truncated, overflow)
    groups = typed.select("agency_id", "quarter").unique().sort("agency_id", "quarter").rows()
    if typed.is_empty():
        groups = [(agency, quarter)]
    return Validated(report, typed.drop(helper_columns(kind)), groups, clock.laps)


class _Clock:
    """Times each stage and announces the next one."""

    NEXT = {"read": "checking types", "types": "applying the rules", "rules": "cross-checking", "checks": "done"}

    def __init__(self, on_stage: Callable[[str], None] | None) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()
        self._announce = on_stage or (lambda stage: None)
        self._announce("reading")

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now
        self._announce(self.NEXT[name])


def _rows_of_other_agencies(report: Report, typed: pl.DataFrame, agency: str, positions: dict) -> bool:
    """Flag rows naming an agency other than the one the upload is for; True when there are any.

    Checked before anything reads the warehouse: another agency's rows are never compared with its data.
    """
    bad = _disagreeing(typed, "agency_id", agency, positions)
    for row, value in bad.head(MISMATCH_LISTED).iter_rows():
        report.add(Finding("agency-mismatch", f"Row {row}: agency_id is {value}, but this upload is for {agency}. "
                           f"A file may hold only the rows of the agency it is uploaded for: remove this row or "
                           f"correct the agency id.", row=row, column="agency_id", value=value))
    _count_unlisted(report, "agency-mismatch", bad.height)
    return bad.height > 0


def _check_quarter(report: Report, typed: pl.DataFrame, quarter: str, positions: dict) -> None:
    """When the upload names a quarter, every row in the file must agree with it."""
    bad = _disagreeing(typed, "quarter", quarter, positions)
    for row, value in bad.head(MISMATCH_LISTED).iter_rows():
        report.add(Finding("quarter-mismatch", f"Row {row}: quarter is {value} but this upload is for {quarter}. "
                           "Upload each quarter's rows separately, or correct the value.",
                           row=row, column="quarter", value=value))
    _count_unlisted(report, "quarter-mismatch", bad.height)


def _disagreeing(typed: pl.DataFrame, column: str, expected: str, positions: dict) -> pl.DataFrame:
    """(row, value) of rows whose column is filled in and differs from the upload's choice."""
    if positions.get(column) is None:
        return typed.clear().select(ROW, column)
    return typed.filter(pl.col(column).is_not_null() & (pl.col(column) != expected)).select(ROW, column)


def _count_unlisted(report: Report, code: str, found: int) -> None:
    if found > MISMATCH_LISTED:
        report.truncated[code] = found - MISMATCH_LISTED


def _merge(into: dict[str, int], more: dict[str, int]) -> None:
    for code, n in more.items():
        into[code] = into.get(code, 0) + n
