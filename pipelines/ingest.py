"""Validate-then-load for one file: the path shared by the CLI, the demo loader and the upload page."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines import audit
from pipelines.contracts import plural
from pipelines.loading import LoadResult, load, publish_after, record_rejection
from pipelines.validation import Validated, validate
from pipelines.warehouse import WRITE_LOCK


REFUSED = {"file-too-large", "unsupported-format", "binary-file", "encoding-error", "empty-file"}
"""File-level refusals whose reason the audit trail repeats (a file that could not, or must not, be read)."""


class Stale(RuntimeError):
    """The warehouse changed for the file's agencies after it was validated: validate it again."""


@dataclass
class Upload:
    """One file's trip: what validation found (against the snapshot, for the agency and quarter it was sent
    for) and, once written, what the write did. The upload page shows it between its check and its submit;
    `ingest` returns it written."""

    validated: Validated
    load: LoadResult | None = None
    """None until written: a rejection is recorded at once, a valid file when it is submitted."""
    file_name: str = ""
    data: bytes = b""
    agency: str | None = None
    quarter: str | None = None
    based_on: int | None = None
    """agency_version() when validated: the write refuses (Stale) if the agency's data moved since."""
    current: pl.DataFrame = field(default_factory=pl.DataFrame)
    """The accepted submissions this file would replace."""
    changes: pl.DataFrame | None = None
    """Before and after of a replacement, for the reader to confirm."""

    @property
    def report(self):
        return self.validated.report

    @property
    def kind(self) -> str | None:
        return self.validated.kind

    @property
    def status(self) -> str:
        """checked (not written yet) | loaded | unchanged | rejected | retry (nothing written: check again)."""
        return self.load.status if self.load else "checked"

    @property
    def valid(self) -> bool:
        return self.report.valid and self.validated.typed is not None

    @property
    def rejection_id(self) -> int | None:
        return self.load.submission_ids[0] if self.load and self.load.status == "rejected" else None

    @property
    def identical(self) -> bool:
        """Every group's current submission is this very file: submitting would change nothing."""
        return (self.valid and self.current.height == len(self.validated.groups) and self.current.height > 0
                and set(self.current["sha256"]) == {self.report.sha256})

    @property
    def replaces(self) -> bool:
        return self.valid and self.current.height > 0 and not self.identical


def ingest(con: duckdb.DuckDBPyConnection, path: Path | str, data: bytes | None = None, *, kind: str | None = None,
           agency: str | None = None, quarter: str | None = None, submitted_by: str | None = None,
           submitted_at: dt.datetime | None = None, publish: bool = True, refresh: bool = True,
           role: str | None = "cli", on_stage: Callable[[str], None] | None = None) -> Upload:
    """Validate a file against the warehouse and load it, or record it as rejected (writing no facts)."""
    validated = validate(path, data, kind=kind, agency=agency, quarter=quarter, con=con, on_stage=on_stage)
    return Upload(validated, submit(con, validated, agency=agency, quarter=quarter, submitted_by=submitted_by,
                                    submitted_at=submitted_at, publish=publish, refresh=refresh, role=role,
                                    on_stage=on_stage), Path(path).name, agency=agency, quarter=quarter)


def ingest_file(path: Path | str, *, reading: duckdb.DuckDBPyConnection, kind: str | None = None,
                agency: str | None = None, quarter: str | None = None, submitted_by: str | None = None,
                role: str | None = "cli", on_stage: Callable[[str], None] | None = None,
                on_wait: Callable[[float, str], None] | None = None,
                prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> Upload:
    """Validate a file against `reading` (the snapshot), then take the writer's turn to load it. If a load for
    the file's agencies landed since the snapshot was published, the file is checked again under the turn, so
    its cross-report checks always see the data it joins. `prepare` runs first under the turn (upgrades)."""
    from pipelines import writer

    validated = validate(path, kind=kind, agency=agency, quarter=quarter, con=reading, on_stage=on_stage)
    agencies = sorted({a for a, _ in validated.groups})
    based_on = agency_version(reading, agencies) if agencies else None
    if on_stage:
        on_stage("waiting for the warehouse")
    with writer.session(what=f"ingest {Path(path).name}", on_wait=on_wait) as con:
        if prepare:
            prepare(con)
        if based_on is not None and agency_version(con, agencies) != based_on:
            validated = validate(path, kind=kind, agency=agency, quarter=quarter, con=con, on_stage=on_stage)
        return Upload(validated, submit(con, validated, agency=agency, quarter=quarter, submitted_by=submitted_by,
                                        role=role, on_stage=on_stage), Path(path).name, agency=agency,
                      quarter=quarter)


def agency_version(con: duckdb.DuckDBPyConnection, agencies: list[str]) -> int:
    """Latest accepted submission id of these agencies: it changes whenever one of their reports loads."""
    return con.execute("select coalesce(max(submission_id), 0) from submissions where status = 'accepted' "
                       "and agency_id in (select unnest(?::varchar[]))", [agencies]).fetchall()[0][0]


def submit(con: duckdb.DuckDBPyConnection, validated: Validated, *, agency: str | None = None,
           quarter: str | None = None, submitted_by: str | None = None, submitted_at: dt.datetime | None = None,
           publish: bool = True, refresh: bool = True, based_on: int | None = None, role: str | None = "cli",
           on_stage: Callable[[str], None] | None = None) -> LoadResult:
    """Load an already validated file, or record it as rejected (writing no facts).

    `based_on` is agency_version() when the file was validated: if another load for those agencies
    happened since, the cross-report checks are out of date and Stale is raised (nothing written).
    The outcome goes to the audit trail as `submitted_by` acting in `role` (None: not audited, for the
    demo loader's synthetic history).
    """
    report = validated.report
    groups = validated.groups
    if not report.valid or validated.typed is None:
        groups = [rejection_group(validated, agency, quarter)]
        sid = record_rejection(con, report, agency=groups[0][0], quarter=groups[0][1], submitted_by=submitted_by,
                               submitted_at=submitted_at)
        result = LoadResult("rejected", [sid])
        if publish:  # readers see rejections (and their findings) in the snapshot too
            publish_after(con, result)
    else:
        if on_stage:
            on_stage("loading")
        with WRITE_LOCK:
            if based_on is not None and agency_version(con, sorted({a for a, _ in validated.groups})) != based_on:
                raise Stale("Another report for this agency was loaded while this file was being checked. "
                            "Check the file again, then submit.")
            result = load(con, report, validated.typed, validated.groups, submitted_by=submitted_by,
                          submitted_at=submitted_at, publish=publish, refresh=refresh)
    if role is not None:
        _audit(con, validated, result, groups, submitted_by, role)
    return result


def rejection_group(validated: Validated, agency: str | None, quarter: str | None) -> tuple[str | None, str | None]:
    """Where a rejected file is recorded: the agency and quarter it was uploaded for, never ones named in
    its rows; without a choice (a state backfill), the file's one agency and quarter, if it has only one."""
    only = validated.groups[0] if len(validated.groups) == 1 else (None, None)
    return agency or only[0], quarter or only[1]


def _audit(con: duckdb.DuckDBPyConnection, validated: Validated, result: LoadResult, groups: list[tuple],
           actor: str | None, role: str) -> None:
    report = validated.report
    what = f"{report.report or 'unknown report'} · {report.file} · " + ", ".join(
        f"{a} {q}" for a, q in groups[:5]) + (" …" if len(groups) > 5 else "")
    ids = ", ".join(f"#{i}" for i in result.submission_ids) or None
    actor = actor or (f"cli:{getpass.getuser()}" if role == "cli" else "unknown")
    if result.status == "rejected":
        refused = next((f for f in report.errors if f.row is None and f.code in REFUSED), None)
        audit.record(con, actor, role, "upload_rejected", ids,
                     f"{what} · {plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}"
                     + (f" · refused ({refused.code}): {refused.message}" if refused else ""))
    elif result.status == "unchanged":
        audit.record(con, actor, role, "upload_unchanged", None, f"{what} · identical to the current submission")
    else:
        audit.record(con, actor, role, "upload_accepted", ids, f"{what} · {plural(result.rows, 'row')}")
        if result.superseded_ids:
            audit.record(con, actor, role, "replacement", ids, "replaces " + ", ".join(
                f"#{i}" for i in result.superseded_ids))
        if result.publish_error:
            audit.record(con, actor, role, "publication_failed", ids, f"{what} · loaded; the snapshot was not "
                         f"replaced and is stale until the next publication: {result.publish_error}")
