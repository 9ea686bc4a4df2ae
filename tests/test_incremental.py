"""Incremental refresh gives what a full refresh gives, table by table, after any sequence of loads.

Random sequences (seeded) of loads, replacements and rejections of real report files (the demo backfill's
rows for a few agencies and quarters) go through ingest(), then the refresh publication does (only the
quarters the loads can change); after each step every materialized KPI table and the protected layer's
tables are compared with a full refresh of the same warehouse.
"""

from __future__ import annotations

import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import metrics, settings, warehouse
from pipelines.ingest import ingest

QUARTERS = ("2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4")
KINDS = ("headcount", "certification", "billing", "retention", "practices")
PROTECTED = ("pub_agency_cells", "pub_cells")


def tables(con) -> list[str]:
    return [v.name for v in metrics.VIEWS if v.materialized] + list(PROTECTED)


def frame(con, table: str) -> pl.DataFrame:
    found = con.sql(f"select * from {table}").pl()
    return found.sort(found.columns, nulls_last=True)


def backfill(kind: str, quarter: str) -> pl.DataFrame:
    path = settings.SAMPLE_DIR / quarter / f"{kind}.csv"
    return pl.read_csv(path, infer_schema=False) if path.exists() else pl.DataFrame()


@pytest.fixture(scope="module")
def agencies() -> list[str]:
    """Twelve agencies of the demo, in two regions, so that places have several agencies to suppress among."""
    reference = pl.read_csv(settings.REFERENCE_DIR / "agencies.csv", infer_schema=False)
    regions = sorted(reference["region_id"].unique())[:2]
    chosen = reference.filter(pl.col("region_id").is_in(regions)).sort("agency_id")
    return chosen.group_by("region_id", maintain_order=True).head(6)["agency_id"].to_list()


def step(rng: random.Random, agencies: list[str], tmp_path, n: int):
    """One random operation: a file for some agencies and one quarter, maybe altered (a replacement differs
    from what is loaded; a broken one is rejected)."""
    quarter = rng.choice(QUARTERS)
    kind = rng.choice([k for k in KINDS if (settings.SAMPLE_DIR / quarter / f"{k}.csv").exists()])
    rows = backfill(kind, quarter).filter(pl.col("agency_id").is_in(rng.sample(agencies, rng.randint(1, 4))))
    action = rng.choice(("load", "load", "drop-a-row", "break"))
    if action == "drop-a-row" and rows.height > 1:
        rows = rows.with_row_index("i").filter(pl.col("i") != rng.randrange(rows.height)).drop("i")
    elif action == "break" and rows.height:
        column = rng.choice([c for c in rows.columns if c not in ("agency_id", "quarter")])
        rows = rows.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("not a value"))
                                 .otherwise(pl.col(column)).alias(column))
    path = tmp_path / f"{n:02d}-{kind}-{quarter}.csv"
    rows.write_csv(path)
    return path, kind, f"{action} {kind} {quarter} ({rows.height} rows)"


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_refresh_equals_a_full_refresh(env, tmp_path, agencies, seed):
    rng = random.Random(seed)
    con = warehouse.connect(env / "warehouse.duckdb")
    try:
        warehouse.init(con)
        statuses = []
        for n in range(8):
            path, kind, what = step(rng, agencies, tmp_path, n)
            outcome = ingest(con, path, kind=kind, publish=False, role=None)
            statuses.append(outcome.status)
            metrics.refresh_pending(con)  # what the next publication does first
            incremental = {t: frame(con, t) for t in tables(con)}
            metrics.refresh(con)
            for table, found in incremental.items():
                try:
                    assert_frame_equal(found, frame(con, table), check_exact=False, rel_tol=1e-9)
                except AssertionError as exc:
                    raise AssertionError(f"{table} after step {n} ({what}, {outcome.status}): {exc}") from None
        assert "loaded" in statuses  # the sequence did change the warehouse
    finally:
        con.close()


def test_a_late_quarter_leaves_earlier_rows_alone(env, tmp_path, agencies):
    """The point of it: a load of the latest quarter rewrites only that quarter's rows."""
    con = warehouse.connect(env / "warehouse.duckdb")
    try:
        warehouse.init(con)
        for quarter in QUARTERS[:3]:
            path = tmp_path / f"h-{quarter}.csv"
            backfill("headcount", quarter).filter(pl.col("agency_id").is_in(agencies)).write_csv(path)
            assert ingest(con, path, publish=False, role=None).status == "loaded"
        metrics.refresh_pending(con)
        con.execute("update int_agency_quarter set peer_fte = -1 where quarter < ?", [QUARTERS[2]])  # a marker
        path = tmp_path / "h-late.csv"
        backfill("headcount", QUARTERS[2]).filter(pl.col("agency_id") == agencies[0]).write_csv(path)
        assert ingest(con, path, publish=False, role=None).status == "loaded"
        assert metrics.refresh_pending(con) == QUARTERS[2]
        marked = con.execute("select count(*) from int_agency_quarter where peer_fte = -1").fetchall()[0][0]
        assert marked == con.execute("select count(*) from int_agency_quarter where quarter < ?",
                                     [QUARTERS[2]]).fetchall()[0][0] > 0
    finally:
        con.close()


def test_loads_that_land_together_are_refreshed_once_from_the_earliest(env, tmp_path, agencies):
    con = warehouse.connect(env / "warehouse.duckdb")
    try:
        warehouse.init(con)
        for quarter in (QUARTERS[3], QUARTERS[1], QUARTERS[4]):
            path = tmp_path / f"h-{quarter}.csv"
            backfill("headcount", quarter).filter(pl.col("agency_id").is_in(agencies)).write_csv(path)
            assert ingest(con, path, publish=False, role=None).status == "loaded"
        assert con.execute("select count(*) from int_agency_quarter").fetchall() == [(0,)]  # not yet
        assert metrics.refresh_pending(con) == QUARTERS[1]
        assert metrics.refresh_pending(con) is None  # nothing left
        assert con.execute("select count(distinct quarter) from int_agency_quarter where headcount_reported"
                           ).fetchall() == [(3,)]
    finally:
        con.close()
