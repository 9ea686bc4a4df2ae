"""The upload flow without widgets: check a file (validate once; a rejection is recorded), then submit it.

The page renders what `check` returns and calls `submit` with the same validated rows, so a file is read and
validated once and loaded through pipelines.ingest.submit, the path the command line uses. Checking reads
the published snapshot (the caller's connection); recording a rejection and submitting take the writer's
turn (writer.session) for that moment only, and the write re-checks that no other load for the agency
landed in between.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipelines import ingest, originals, upload_changes, writer
from pipelines.ingest import Upload
from pipelines.loading import LoadResult
from pipelines.validation import validate
from pipelines.warehouse import WarehouseBusy

Wait = Callable[[float, str], None] | None
"""Told how long a write has waited for another load, and who holds the warehouse (see writer.turn)."""


def check(con: duckdb.DuckDBPyConnection, file_name: str, data: bytes, *, agency: str, quarter: str,
          kind: str | None = None, submitted_by: str | None = None, role: str = "unknown",
          on_stage: Callable[[str], None] | None = None, on_wait: Wait = None) -> Upload:
    """Validate an upload for one agency and quarter against `con` (the snapshot); a rejected file is
    recorded, and kept, right away."""
    validated = validate(file_name, data, kind=kind, agency=agency, quarter=quarter, con=con, on_stage=on_stage)
    agencies = sorted({a for a, _ in validated.groups}) or [agency]
    checked = Upload(validated, None, file_name, data, agency, quarter, ingest.agency_version(con, agencies))
    if not checked.valid:
        with writer.session(what=f"recording the rejected upload {file_name}", on_wait=on_wait) as wcon:
            originals.keep(wcon, data, file_name)
            checked.load = ingest.submit(wcon, validated, agency=agency, quarter=quarter, submitted_by=submitted_by,
                                         role=role)
        return checked
    checked.current = upload_changes.current_submissions(con, checked.kind, validated.groups)
    if checked.replaces:
        checked.changes = upload_changes.before_after(con, checked.kind, checked.current, validated.typed)
    return checked


def submit(checked: Upload, *, submitted_by: str | None, role: str = "unknown", acknowledged: bool = False,
           confirmed: bool = False, on_wait: Wait = None) -> LoadResult:
    """Load a checked file, waiting in line for the writer's turn. Warnings need `acknowledged`, a replacement
    needs `confirmed`.

    The check read the snapshot, which may not yet hold a load that landed since (another of the agency's
    reports, not yet published): under the turn the file is then checked again against the warehouse, and
    loads if the reader would agree to it still (no finding they have not seen, the same submissions replaced).
    Returns status "retry" (nothing written) when it does, or when the warehouse stayed busy past the wait.
    """
    if not checked.valid:
        raise ValueError("A file with errors cannot be submitted.")
    if checked.report.warnings and not acknowledged:
        raise ValueError("Acknowledge the warnings before submitting.")
    if checked.replaces and not confirmed:
        raise ValueError("Confirm the replacement before submitting.")
    try:
        with writer.session(what=f"loading the upload {checked.file_name}", on_wait=on_wait) as con:
            validated = _still_valid(con, checked)
            originals.keep(con, checked.data, checked.file_name)
            result = ingest.submit(con, validated, agency=checked.agency, quarter=checked.quarter,
                                   submitted_by=submitted_by, role=role)
    except ingest.Stale as exc:
        return LoadResult("retry", message=str(exc))
    except (duckdb.TransactionException, WarehouseBusy) as exc:
        return LoadResult("retry", message=f"{exc} Submit again.")
    if result.status == "unchanged":
        result.message = "This exact file is already the current submission; nothing changed."
    checked.load = result
    return result


def _still_valid(con: duckdb.DuckDBPyConnection, checked: Upload) -> Validated:
    """The validation to load under the writer's turn: the check's own when no load for the file's agencies
    landed since; else the file checked again, if it finds nothing the reader has not seen (raises ingest.Stale if
    it does)."""
    agencies = sorted({a for a, _ in checked.validated.groups}) or [checked.agency]
    if ingest.agency_version(con, agencies) == checked.based_on:
        return checked.validated
    stale = ingest.Stale("Another report for this agency was loaded while this file was being checked, and it "
                         "changes what the check found. Check the file again, then submit.")
    current = upload_changes.current_submissions(con, checked.kind, checked.validated.groups)
    confirmed = checked.current["submission_id"].to_list() if checked.current.height else []
    if current["submission_id"].to_list() != confirmed:
        raise stale  # it would now replace other submissions than the reader confirmed
    again = validate(checked.file_name, checked.data, kind=checked.kind, agency=checked.agency,
                     quarter=checked.quarter, con=con)
    if not again.report.valid or not set(_seen(again)) <= set(_seen(checked.validated)):
        raise stale  # a new error or warning the reader has not seen: fewer is fine
    return again


def _seen(validated: Validated) -> list[tuple]:
    return [(f.severity, f.code, f.row, f.column) for f in validated.report.findings]
