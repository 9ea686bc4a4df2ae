"""Parquet export of every table and view in the snapshot, with a README describing the schema."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.progress import Progress

from pipelines import catalog, settings


def export_parquet(directory: Path, snapshot: Path | None = None, progress: Progress | None = None) -> list[Path]:
    """Materialise each table and view of the snapshot into DIR/<name>.parquet, plus DIR/README.md."""
    snapshot = Path(snapshot or settings.snapshot_path())
    if not snapshot.exists():
        raise FileNotFoundError(f"No published snapshot at {snapshot}: run `python -m pipelines demo` or ingest "
                                "a file first.")
    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        relations = catalog.schema(con)
        written, counts = [], {}
        task = progress.add_task("Exporting", total=len(relations)) if progress else None
        if progress:
            progress.start()
        for relation in relations:
            target = directory / f"{relation.name}.parquet"
            con.table(relation.name).write_parquet(str(target))
            counts[relation.name] = con.execute(f'select count(*) from "{relation.name}"').fetchall()[0][0]
            written.append(target)
            if progress:
                progress.advance(task)
        if progress:
            progress.stop()
        (directory / "README.md").write_text(readme(relations, counts, snapshot), encoding="utf-8")
    finally:
        con.close()
    return written


def readme(relations: list[catalog.Relation], counts: dict[str, int], snapshot: Path) -> str:
    """The schema of the export: one section per table or view, with column types and descriptions."""
    lines = ["# Warehouse export", "",
             f"One Parquet file per table and view of the published snapshot `{snapshot.name}` (views "
             "materialised at export time). Read them with any Parquet reader, e.g. "
             "`duckdb -c \"select * from 'kpi_state_quarter.parquet'\"` or `polars.read_parquet(...)`.", ""]
    for r in relations:
        lines += [f"## {r.name} ({r.kind}, {counts.get(r.name, 0):,} rows)", "", r.description or "", "",
                  "| column | type | description |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type} | {c.description.replace('|', '/')} |" for c in r.columns]
        lines.append("")
    return "\n".join(lines)
