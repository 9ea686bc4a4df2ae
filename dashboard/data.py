"""Cached data access: one warehouse connection per process, a cursor per query, caches keyed by data version."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from pipelines import settings, snapshot, warehouse
from pipelines import targets as state_targets


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    con = warehouse.connect(Path(path))
    warehouse.init(con)  # migrations, reference data and views always match this version of the code
    snapshot.repair(con)  # a publication interrupted or failed since: analysts' copy catches up
    return con


def connection():
    """The process's read-write warehouse connection (pages read through cursors of it)."""
    return _connection(str(settings.db_path()))


def data_version() -> tuple:
    """Changes whenever a submission is recorded; cached query results are keyed by it."""
    cur = connection().cursor()
    try:
        return tuple(cur.execute("select count(*), coalesce(max(submission_id), 0) from submissions").fetchall()[0])
    finally:
        cur.close()


@st.cache_data(show_spinner=False, max_entries=512)
def _query(sql: str, params: tuple, version: tuple, path: str) -> pl.DataFrame:
    cur = _connection(path).cursor()
    try:
        return cur.sql(sql, params=list(params)).pl() if params else cur.sql(sql).pl()
    finally:
        cur.close()


def query(sql: str, params: list | tuple | None = None) -> pl.DataFrame:
    """Run an aggregate query on the warehouse; results are cached until the next submission."""
    return _query(sql, tuple(params or ()), data_version(), str(settings.db_path()))


def as_of() -> str:
    frame = query("select strftime(as_of_date, '%Y-%m-%d') as d from dim_as_of")
    return frame["d"][0] if frame.height else ""


def targets() -> dict[str, state_targets.Target]:
    """The state's targets as loaded in the warehouse (targets.csv): floors, targets, stretches, bands, stages."""
    return state_targets.from_rows(query("select * from targets").to_dicts())
