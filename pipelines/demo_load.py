"""Build the demo warehouse from data/sample/ through the same validate-and-load path as any upload."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path

from rich.progress import Progress

from pipelines import settings, snapshot, warehouse
from pipelines.ingest import ingest


def manifest(sample_dir: Path | None = None) -> list[dict[str, str]]:
    """The demo submissions in load order: file (relative to data/sample), submitted_by, submitted_at."""
    sample_dir = sample_dir or settings.SAMPLE_DIR
    with open(sample_dir / "manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def build_demo(db: Path | None = None, progress: Progress | None = None, sample_dir: Path | None = None) -> dict:
    """Replace the warehouse with a fresh one holding the demo submissions; returns counts."""
    db = Path(db or settings.db_path())
    sample_dir = sample_dir or settings.SAMPLE_DIR
    started = time.perf_counter()
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
                             submitted_at=dt.datetime.fromisoformat(entry["submitted_at"]), publish=False)
            summary[outcome.status] += 1
            summary["submissions"] += len(outcome.load.submission_ids) if outcome.status == "loaded" else 0
            summary["rows"] += outcome.load.rows
            if progress:
                progress.advance(task)
        if progress:
            progress.stop()
        snapshot.publish(con)
    finally:
        con.close()
    summary["seconds"] = time.perf_counter() - started
    return summary
