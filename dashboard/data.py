"""Cached data access: the published snapshot, read-only; a new one is picked up on the next rerun.

The dashboard never holds the warehouse: any number of dashboard processes (replicas) read the snapshot
while one writer at a time loads. Query results are cached per snapshot generation.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from pipelines import settings, snapshot, warehouse, writer
from pipelines import targets as state_targets


class NoData(RuntimeError):
    """There is no snapshot to read yet (and none could be published)."""


@st.cache_resource(show_spinner=False)
def _prepared(db: str, target: str) -> None:
    """Once per process: bring the warehouse to this build (migrations, reference data, views) and publish
    it when the snapshot is missing or behind. Waits briefly for a writer; when the warehouse stays busy and
    a snapshot exists, the dashboard serves that one (the writer publishes its own load)."""
    from pathlib import Path

    try:
        with writer.session(Path(db), what="dashboard start", wait=5) as con:
            warehouse.init(con)
            snapshot.repair(con, Path(target))
    except warehouse.WarehouseBusy:
        if snapshot.generation(Path(target)) is None:
            raise


@st.cache_resource(show_spinner=False, max_entries=2)
def _reader(target: str, generation: tuple):
    from pathlib import Path

    return snapshot.reader(Path(target))


def connection():
    """A read-only connection to the snapshot now published (take cursors with snapshot.cursor)."""
    target = settings.snapshot_path()
    _prepared(str(settings.db_path()), str(target))
    generation = snapshot.generation(target)
    if generation is None:
        raise NoData(f"No published data at {target} yet. Load a report, or run `python -m pipelines init`.")
    return _reader(str(target), generation)


def data_version() -> tuple:
    """Changes with every publication; cached query results are keyed by it."""
    return snapshot.generation(settings.snapshot_path()) or ()


@st.cache_data(show_spinner=False, max_entries=512)
def _query(sql: str, params: tuple, version: tuple, target: str) -> pl.DataFrame:
    cur = snapshot.cursor(_reader(target, version))
    try:
        return cur.sql(sql, params=list(params)).pl() if params else cur.sql(sql).pl()
    finally:
        cur.close()


def query(sql: str, params: list | tuple | None = None) -> pl.DataFrame:
    """Run an aggregate query on the snapshot; results are cached until the next publication."""
    connection()
    return _query(sql, tuple(params or ()), data_version(), str(settings.snapshot_path()))


def as_of() -> str:
    frame = query("select strftime(as_of_date, '%Y-%m-%d') as d from dim_as_of")
    return frame["d"][0] if frame.height else ""


def targets() -> dict[str, state_targets.Target]:
    """The state's targets as loaded in the warehouse (targets.csv): floors, targets, stretches, bands, stages."""
    return state_targets.from_rows(query("select * from targets").to_dicts())
