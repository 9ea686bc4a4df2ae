"""Validate-then-load for one file: the path shared by the CLI, the demo loader and the upload page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.loading import LoadResult, load, record_rejection
from pipelines.validation import Validated, validate


@dataclass
class Outcome:
    validated: Validated
    load: LoadResult

    @property
    def status(self) -> str:
        return self.load.status


def ingest(con: duckdb.DuckDBPyConnection, path: Path | str, data: bytes | None = None, *, kind: str | None = None,
           agency: str | None = None, quarter: str | None = None, submitted_by: str | None = None,
           submitted_at: dt.datetime | None = None, publish: bool = True,
           on_stage: Callable[[str], None] | None = None) -> Outcome:
    """Validate a file against the warehouse and load it, or record it as rejected (writing no facts)."""
    validated = validate(path, data, kind=kind, agency=agency, quarter=quarter, con=con, on_stage=on_stage)
    report = validated.report
    if not report.valid or validated.typed is None:
        group = validated.groups[0] if len(validated.groups) == 1 else (agency, quarter)
        sid = record_rejection(con, report, agency=group[0], quarter=group[1], submitted_by=submitted_by,
                               submitted_at=submitted_at)
        return Outcome(validated, LoadResult("rejected", [sid]))
    if on_stage:
        on_stage("loading")
    result = load(con, report, validated.typed, validated.groups, submitted_by=submitted_by,
                  submitted_at=submitted_at, publish=publish)
    return Outcome(validated, result)
