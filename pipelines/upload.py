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

    Returns status "retry" (nothing written) when another load got in first: the agency's data changed
    since the check, or the warehouse stayed busy past the wait.
    """
    if not checked.valid:
        raise ValueError("A file with errors cannot be submitted.")
    if checked.report.warnings and not acknowledged:
        raise ValueError("Acknowledge the warnings before submitting.")
    if checked.replaces and not confirmed:
        raise ValueError("Confirm the replacement before submitting.")
    try:
        with writer.session(what=f"loading the upload {checked.file_name}", on_wait=on_wait) as con:
            originals.keep(con, checked.data, checked.file_name)
            result = ingest.submit(con, checked.validated, agency=checked.agency, quarter=checked.quarter,
                                   submitted_by=submitted_by, based_on=checked.based_on, role=role)
    except ingest.Stale as exc:
        return LoadResult("retry", message=str(exc))
    except (duckdb.TransactionException, WarehouseBusy) as exc:
        return LoadResult("retry", message=f"{exc} Submit again.")
    if result.status == "unchanged":
        result.message = "This exact file is already the current submission; nothing changed."
    checked.load = result
    return result
