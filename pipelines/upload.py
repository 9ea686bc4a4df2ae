"""The upload flow without widgets: check a file (validate once; a rejection is recorded), then submit it.

The page renders what `check` returns and calls `submit` with the same validated rows, so a file is read and
validated once and loaded through pipelines.ingest.submit, the path the command line uses. Checking reads
the published snapshot (the caller's connection); recording a rejection and submitting take the writer's
turn (writer.session) for that moment only, and the write re-checks that no other load for the agency
landed in between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines import ingest, originals, upload_changes, writer
from pipelines.ingest import Upload
from pipelines.findings import Finding
from pipelines.loading import LoadResult
from pipelines.validation import Validated, validate
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


# --- small helpers for the upload page (read only; nothing here writes) ------------------------------------------

WRONG_TYPE = {"unsupported-format", "binary-file"}
"""Refusals that mean the file is not a CSV or a workbook at all (a PDF, an image, a zip): nothing to check."""
ACCEPTED_TYPES = "CSV (.csv) or an Excel workbook (.xlsx)"


@dataclass
class Named:
    """What a file says about itself before it is checked: the report it looks like, the distinct agency_id and
    quarter values in its rows, or why it cannot be read at all."""

    kind: str | None = None
    agencies: list[str] = field(default_factory=list)
    quarters: list[str] = field(default_factory=list)
    refused: Finding | None = None

    @property
    def wrong_type(self) -> bool:
        return self.refused is not None and self.refused.code in WRONG_TYPE

    @property
    def agency(self) -> str | None:
        return self.agencies[0] if len(self.agencies) == 1 else None

    @property
    def quarter(self) -> str | None:
        return self.quarters[0] if len(self.quarters) == 1 else None


def named_in(file_name: str, data: bytes, kind: str | None = None) -> Named:
    """Read a file (in the bounded child, as the check does) for the agency and quarter its rows name."""
    from pipelines.bounded_read import read_file
    from pipelines.contracts import REPORTS
    from pipelines.reading import Unreadable
    from pipelines.structure import infer_report, map_columns

    try:
        raw = read_file(file_name, data)
    except Unreadable as exc:
        return Named(refused=exc.finding)
    kind = kind or infer_report(raw.headers)
    if kind is None:
        return Named()
    positions = map_columns(raw.headers, REPORTS[kind], set()).positions
    values = {}
    for column in ("agency_id", "quarter"):
        where = positions.get(column)
        if where is None or where not in raw.frame.columns:
            values[column] = []
            continue
        cells = raw.frame.get_column(where).cast(pl.String).str.strip_chars()
        values[column] = sorted({v for v in cells.drop_nulls().to_list() if v})
    return Named(kind, values["agency_id"], values["quarter"])


HEADCOUNT_MORE = [("Peer full-time headcount", "headcount_fulltime"), ("Peer vacancies", "vacancies")]
"""Totals a headcount replacement also shows, besides upload_changes.MEASURES (peers only, as those are)."""


def more_changes(con: duckdb.DuckDBPyConnection, checked: Upload) -> pl.DataFrame | None:
    """Extra before/after rows for a replacement (full-time headcount and vacancies of a headcount report), in
    the shape of checked.changes; None when there are none for the report."""
    from pipelines import snapshot
    from pipelines.contracts import PEER_ROLES

    if checked.kind != "headcount" or not checked.replaces or checked.validated.typed is None:
        return None
    peers = "role in (" + ", ".join(f"'{r}'" for r in PEER_ROLES) + ")"
    select = ", ".join(f"coalesce(sum({col}) filter (where {peers}), 0)" for _, col in HEADCOUNT_MORE)
    cur = snapshot.cursor(con)
    try:
        cur.register("incoming_rows", checked.validated.typed)
        before = cur.execute(f"select {select} from headcount where submission_id in (select unnest(?::bigint[]))",
                             [checked.current["submission_id"].to_list()]).fetchall()[0]
        after = cur.execute(f"select {select} from incoming_rows").fetchall()[0]
    finally:
        cur.unregister("incoming_rows")
        cur.close()
    return pl.DataFrame({"measure": [label for label, _ in HEADCOUNT_MORE],
                         "before": [float(v) for v in before], "after": [float(v) for v in after]},
                        schema={"measure": pl.String, "before": pl.Float64, "after": pl.Float64}
                        ).with_columns((pl.col("after") - pl.col("before")).alias("change"))


def receipt(checked: Upload, result: LoadResult, *, submitted_by: str | None,
            submitted_at: dt.datetime) -> dict[str, str]:
    """What a person keeps after a submission: field -> value, in the order shown (and written to the receipt)."""
    warnings = sum(n for code, n in checked.report.counts().items() if checked.report.severity_of(code) == "warning")
    return {
        "Submission": ", ".join(f"#{i}" for i in result.submission_ids),
        "Status": result.status,
        "Submitted at": submitted_at.strftime("%Y-%m-%d %H:%M:%S"),
        "Submitted by": submitted_by or "",
        "Agency": checked.agency or "",
        "Quarter": checked.quarter or "",
        "Report": checked.kind or "",
        "Rows": f"{result.rows}" if result.rows else "0 (nothing to report)",
        "Replaces": ", ".join(f"#{i}" for i in result.superseded_ids) or "nothing",
        "Warnings acknowledged": f"{warnings}",
        "File name": checked.file_name,
        "SHA-256": checked.report.sha256,
    }


def receipt_text(fields: dict[str, str]) -> str:
    """The receipt as a small text file."""
    width = max(len(k) for k in fields)
    lines = ["Peer workforce report: submission receipt", ""]
    lines += [f"{k + ':':<{width + 1}} {' '.join(str(v).split())}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"
