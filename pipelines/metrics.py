"""Metric registry and the kpi_* views (SQL files in pipelines/sql/)."""

from __future__ import annotations

import duckdb


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every metric view."""
