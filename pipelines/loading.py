"""Loading validated rows: one transaction per file, one submission per (agency, quarter, report).

A newer accepted submission supersedes the current one for its group (its facts are deleted, its
record kept); an identical file (same sha256 as every group's current submission) changes nothing;
a rejected file is recorded with its findings and writes no facts.

A load that cannot be written (a full disk) is rolled back and raises warehouse.DiskFull saying what to
free. Publication comes after the commit (or is left to the next writer in line, snapshot.publish_due): if it
fails, the load stands (status "loaded") and the result carries `publish_error`; the snapshot stays stale until the next publish (any writing command repairs it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines import metrics, snapshot
from pipelines.contracts import REPORTS
from pipelines.findings import Finding, Report
from pipelines.reading import ROW
from pipelines.warehouse import WRITE_LOCK, disk_full, is_disk_full

STORED_FINDINGS_CAP = 5000
"""Findings kept with a submission (the counts are always complete)."""


@dataclass
class LoadResult:
    """What a write did (or, for `retry`, why nothing was written)."""

    status: str  # loaded | unchanged | rejected | retry (another load got in first: check the file again)
    submission_ids: list[int] = field(default_factory=list)
    superseded_ids: list[int] = field(default_factory=list)
    rows: int = 0
    publish_error: str | None = None
    """Why the snapshot could not be replaced after this load committed (None: published, or not asked to)."""
    message: str = ""
    """What to tell the person who sent it, where the status alone does not say it."""


def _now(submitted_at: dt.datetime | None) -> dt.datetime:
    return submitted_at or dt.datetime.now().replace(microsecond=0)


def _findings_frame(findings: list[Finding]) -> pl.DataFrame:
    return pl.DataFrame(
        {"severity": [f.severity for f in findings], "code": [f.code for f in findings],
         "row": [f.row for f in findings], "column": [f.column for f in findings],
         "value": [None if f.value is None else str(f.value) for f in findings],
         "message": [f.message for f in findings]},
        schema={"severity": pl.String, "code": pl.String, "row": pl.Int64, "column": pl.String,
                "value": pl.String, "message": pl.String})


def record_rejection(con: duckdb.DuckDBPyConnection, report: Report, *, agency: str | None, quarter: str | None,
                     submitted_by: str | None, submitted_at: dt.datetime | None = None) -> int:
    """Store a rejected upload and its findings; no fact table is touched."""
    with WRITE_LOCK:
        con.execute("begin")
        try:
            sid = con.execute(
                "insert into submissions (agency_id, quarter, report, file_name, sha256, rows, status, "
                "submitted_by, submitted_at, error_count, warning_count) values (?, ?, ?, ?, ?, ?, 'rejected', "
                "?, ?, ?, ?) returning submission_id",
                [agency, quarter, report.report or "unknown", report.file, report.sha256, report.rows,
                 submitted_by, _now(submitted_at), _count(report, "error"), _count(report, "warning")],
            ).fetchall()[0][0]
            _store_findings(con, {sid: report.findings[:STORED_FINDINGS_CAP]})
            con.execute("commit")
        except Exception as exc:
            _rollback(con, exc)
            raise
    return sid


def _rollback(con: duckdb.DuckDBPyConnection, exc: Exception) -> None:
    """Roll back after `exc`; a transaction DuckDB already ended (a failed commit) is not a second error. A full
    disk becomes DiskFull, saying nothing was written."""
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass
    if is_disk_full(exc):
        raise disk_full(_folder(con), "nothing was written (the load was rolled back).") from exc


def _folder(con: duckdb.DuckDBPyConnection):
    try:
        return snapshot.database_file(con).parent
    except Exception:
        from pipelines import settings

        return settings.db_path().parent


def _count(report: Report, severity: str) -> int:
    listed = [f for f in report.findings if f.severity == severity]
    extra = sum(n for code, n in report.truncated.items() if report.severity_of(code) == severity)
    return len(listed) + extra


def _store_findings(con: duckdb.DuckDBPyConnection, by_submission: dict[int, list[Finding]]) -> None:
    frames = [_findings_frame(fs).with_columns(pl.lit(sid, dtype=pl.Int64).alias("submission_id"))
              for sid, fs in by_submission.items() if fs]
    if not frames:
        return
    con.register("new_findings", pl.concat(frames))
    try:
        con.execute('insert into submission_findings by name select * from new_findings')
    finally:
        con.unregister("new_findings")


def load(con: duckdb.DuckDBPyConnection, report: Report, typed: pl.DataFrame, groups: list[tuple[str, str]], *,
         submitted_by: str | None, submitted_at: dt.datetime | None = None, publish: bool = True,
         refresh: bool = True) -> LoadResult:
    """Load a valid file's rows in one transaction and publish the snapshot; see the module docstring.
    `refresh` notes, in the same transaction, which quarters the materialized KPI tables must be refreshed
    from; the next publication refreshes them before it copies (metrics.refresh_pending), so loads that land
    together are refreshed once. A batch may pass False and refresh everything once at its end."""
    kind = report.report
    assert kind is not None and report.valid
    with WRITE_LOCK:
        if _is_identical(con, kind, report.sha256, groups):
            return LoadResult("unchanged")
        con.execute("begin")
        try:
            group_frame = _group_frame(typed, groups)
            con.register("new_groups", group_frame)
            new = con.execute(
                "insert into submissions (agency_id, quarter, report, file_name, sha256, rows, status, "
                "submitted_by, submitted_at, error_count, warning_count) "
                "select agency_id, quarter, ?, ?, ?, rows, 'accepted', ?, ?, 0, 0 from new_groups "
                "order by agency_id, quarter returning submission_id, agency_id, quarter",
                [kind, report.file, report.sha256, submitted_by, _now(submitted_at)]).fetchall()
            ids = pl.DataFrame(new, schema={"submission_id": pl.Int64, "agency_id": pl.String,
                                            "quarter": pl.String}, orient="row")
            con.register("new_ids", ids)
            superseded = _supersede(con, kind)
            _insert_facts(con, kind, typed)
            _store_warnings(con, report, typed, ids)
            if refresh:  # the quarters this load can change (its earliest and later), by the next publication
                metrics.mark_pending(con, min(q for _, q in groups))
            con.execute("commit")
        except Exception as exc:
            _rollback(con, exc)
            raise
        finally:
            for name in ("new_groups", "new_ids"):
                try:
                    con.unregister(name)
                except Exception:
                    pass
        result = LoadResult("loaded", ids["submission_id"].to_list(), superseded, typed.height)
        if publish:
            publish_after(con, result)
    return result


def publish_after(con: duckdb.DuckDBPyConnection, result: LoadResult) -> None:
    """Publish (or leave to the next writer in line, snapshot.publish_due) what a committed write changed; a
    failure is kept in the result: the write stands, the snapshot is stale until the next publication."""
    try:
        snapshot.publish_due(con)
    except Exception as exc:
        result.publish_error = str(exc) or type(exc).__name__


def _group_frame(typed: pl.DataFrame, groups: list[tuple[str, str]]) -> pl.DataFrame:
    counts = typed.group_by("agency_id", "quarter").agg(pl.len().cast(pl.Int64).alias("rows"))
    listed = pl.DataFrame(groups, schema={"agency_id": pl.String, "quarter": pl.String}, orient="row")
    return listed.join(counts, on=["agency_id", "quarter"], how="left").with_columns(pl.col("rows").fill_null(0))


def _is_identical(con: duckdb.DuckDBPyConnection, kind: str, sha: str, groups: list[tuple[str, str]]) -> bool:
    frame = pl.DataFrame(groups, schema={"agency_id": pl.String, "quarter": pl.String}, orient="row")
    con.register("check_groups", frame)
    try:
        same = con.execute(
            "select count(*) from check_groups g join submissions s using (agency_id, quarter) "
            "where s.report = ? and s.status = 'accepted' and s.superseded_by is null and s.sha256 = ?",
            [kind, sha]).fetchall()[0][0]
    finally:
        con.unregister("check_groups")
    return same == frame.height and same > 0


def _supersede(con: duckdb.DuckDBPyConnection, kind: str) -> list[int]:
    old = con.execute(
        "update submissions s set superseded_by = n.submission_id from new_ids n "
        "where s.agency_id = n.agency_id and s.quarter = n.quarter and s.report = ? and s.status = 'accepted' "
        "and s.superseded_by is null and s.submission_id <> n.submission_id returning s.submission_id",
        [kind]).fetchall()
    old_ids = [r[0] for r in old]
    if old_ids:
        con.execute(f"delete from {kind} where submission_id in (select unnest(?::bigint[]))", [old_ids])
    return old_ids


def _insert_facts(con: duckdb.DuckDBPyConnection, kind: str, typed: pl.DataFrame) -> None:
    names = ", ".join(f"u.{c}" for c in REPORTS[kind].names)
    con.register("new_rows", typed)
    try:
        con.execute(f"insert into {kind} (submission_id, source_row, {', '.join(REPORTS[kind].names)}) "
                    f"select n.submission_id, u.{ROW}, {names} from new_rows u join new_ids n "
                    "using (agency_id, quarter)")
    finally:
        con.unregister("new_rows")


def _store_warnings(con: duckdb.DuckDBPyConnection, report: Report, typed: pl.DataFrame, ids: pl.DataFrame) -> None:
    """Warnings go with the submission of the row they point at; file-level ones with every submission."""
    if not report.warnings:
        return
    rows = [f.row for f in report.warnings[:STORED_FINDINGS_CAP] if f.row]
    pointed = typed.filter(pl.col(ROW).is_in(rows)).select(ROW, "agency_id", "quarter")
    row_group = {r: (a, q) for r, a, q in pointed.iter_rows()}
    sid = {(a, q): s for s, a, q in ids.iter_rows()}
    by_submission: dict[int, list[Finding]] = {s: [] for s in sid.values()}
    for f in report.warnings[:STORED_FINDINGS_CAP]:
        group = row_group.get(f.row) if f.row else None
        targets = [sid[group]] if group in sid else list(sid.values())
        for s in targets:
            by_submission[s].append(f)
    _store_findings(con, by_submission)
    con.execute("update submissions set warning_count = (select count(*) from submission_findings f "
                "where f.submission_id = submissions.submission_id) "
                "where submission_id in (select submission_id from new_ids)")
