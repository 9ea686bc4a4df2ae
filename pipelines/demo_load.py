"""Build the demo warehouse from data/sample/ through the same validate-and-load path as any upload."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path

from rich.progress import Progress

from pipelines import metrics, settings, snapshot, warehouse, writer
from pipelines.ingest import ingest


def manifest(sample_dir: Path | None = None) -> list[dict[str, str]]:
    """The demo submissions in load order: file (relative to data/sample), submitted_by, submitted_at."""
    sample_dir = sample_dir or settings.SAMPLE_DIR
    with open(sample_dir / "manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


NOTHING_TO_REPORT = """
insert into submissions (agency_id, quarter, report, file_name, sha256, rows, status, submitted_by, submitted_at,
                         error_count, warning_count)
with backfill as (
    select quarter, report, any_value(file_name) as file_name, any_value(sha256) as sha256,
           any_value(submitted_by) as submitted_by, min(submitted_at) as submitted_at
    from submissions where status = 'accepted' and list_contains(?, submitted_by) group by quarter, report
),
covered as (
    select distinct agency_id, quarter from submissions
    where status = 'accepted' and list_contains(?, submitted_by)
)
select c.agency_id, c.quarter, b.report, b.file_name, b.sha256, 0, 'accepted', b.submitted_by, b.submitted_at, 0, 0
from covered as c
inner join backfill as b using (quarter)
where not exists (select 1 from submissions as s
                  where s.agency_id = c.agency_id and s.quarter = c.quarter and s.report = b.report)
order by c.quarter, c.agency_id, b.report
"""


def _record_nothing_to_report(con, backfill_users: set[str]) -> int:
    """The state's backfill files hold rows only for agencies that had some. An agency covered by a
    quarter's backfill with no rows in one of its reports (say, a grant-funded RCO with no Medicaid billing)
    is recorded as having filed that report with nothing to report (0 rows), as a header-only upload is."""
    users = sorted(backfill_users)
    before = con.execute("select count(*) from submissions").fetchone()[0]
    con.execute(NOTHING_TO_REPORT, [users, users])
    return con.execute("select count(*) from submissions").fetchone()[0] - before


def build_demo(db: Path | None = None, progress: Progress | None = None, sample_dir: Path | None = None,
               on_wait=None) -> dict:
    """Replace the warehouse with a fresh one holding the demo submissions (holding the writer's turn
    throughout); returns counts."""
    db = Path(db or settings.db_path())
    sample_dir = sample_dir or settings.SAMPLE_DIR
    started = time.perf_counter()
    with writer.turn(db, what="rebuilding the demo warehouse", on_wait=on_wait):
        warehouse.connect(db).close()  # fails with WarehouseBusy before anything is removed
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        con = warehouse.connect(db)
        try:
            warehouse.init(con)
            demo_as_of = warehouse.policy(con, "demo_as_of", "")
            if demo_as_of and not settings.get("PEER_AS_OF"):  # the demo's fixed "today", unless overridden
                warehouse.set_setting(con, "as_of", demo_as_of)
            entries = manifest(sample_dir)
            summary = {"loaded": 0, "rejected": 0, "unchanged": 0, "submissions": 0, "rows": 0}
            task = progress.add_task("Loading demo submissions", total=len(entries)) if progress else None
            if progress:
                progress.start()
            for entry in entries:
                outcome = ingest(con, sample_dir / entry["file"], submitted_by=entry["submitted_by"],
                                 submitted_at=dt.datetime.fromisoformat(entry["submitted_at"]), publish=False,
                                 refresh=False, role=None)  # the synthetic history is not audited
                summary[outcome.status] += 1
                summary["submissions"] += len(outcome.load.submission_ids) if outcome.status == "loaded" else 0
                summary["rows"] += outcome.load.rows
                if progress:
                    progress.advance(task)
            if progress:
                progress.stop()
            summary["nothing_to_report"] = _record_nothing_to_report(con, {e["submitted_by"] for e in entries
                                                                           if e["file"][:4].isdigit()})
            metrics.refresh(con)  # once for the whole batch
            snapshot.publish(con)
        finally:
            con.close()
    summary["seconds"] = time.perf_counter() - started
    return summary
