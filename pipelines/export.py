"""Parquet export of every table and view in the snapshot, with a README describing the schema."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.progress import Progress

from pipelines import settings


def export_parquet(directory: Path, snapshot: Path | None = None, progress: Progress | None = None) -> list[Path]:
    """Materialise each table and view of the snapshot into DIR/<name>.parquet."""
    snapshot = Path(snapshot or settings.snapshot_path())
    if not snapshot.exists():
        raise FileNotFoundError(f"No published snapshot at {snapshot}: run `python -m pipelines demo` or ingest "
                                "a file first.")
    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        objects = con.execute(
            "select table_name, table_type from information_schema.tables where table_schema = 'main' "
            "order by table_type, table_name").fetchall()
        written, lines = [], ["# Warehouse export", "", "One Parquet file per table and view of the published "
                              "snapshot (views materialised at export time).", ""]
        task = progress.add_task("Exporting", total=len(objects)) if progress else None
        if progress:
            progress.start()
        for name, kind in objects:
            target = directory / f"{name}.parquet"
            con.execute(f"copy (select * from \"{name}\") to '{target}' (format parquet)")
            columns = con.execute("select column_name, data_type from information_schema.columns "
                                  "where table_name = ? order by ordinal_position", [name]).fetchall()
            lines += [f"## {name} ({'view' if kind == 'VIEW' else 'table'})", "",
                      ", ".join(f"`{c}` {t}" for c, t in columns), ""]
            written.append(target)
            if progress:
                progress.advance(task)
        if progress:
            progress.stop()
        (directory / "README.md").write_text("\n".join(lines))
    finally:
        con.close()
    return written
