"""AppTest on the demo warehouse: the numbers shown equal independent SQL over the fact tables."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PEERS = "('PEER_SPECIALIST_MH','PEER_RECOVERY_SUD','FAMILY_PEER','YOUTH_PEER','FORENSIC_PEER')"


def run_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def chart_data(element) -> pl.DataFrame:
    """The data Streamlit ships with an Altair chart (Arrow IPC in the proto)."""
    return pl.from_arrow(pa.ipc.open_stream(element.proto.datasets[0].data.data).read_all())


def facts(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_navigation_lists_only_declared_pages(demo_env):
    at = run_app()
    declared = {"pages/overview.py", "pages/definitions.py"}
    pages_on_disk = {f"pages/{p.name}" for p in (Path(APP).parent / "pages").glob("*.py")}
    assert pages_on_disk == declared  # every page file is routed by app.py, none auto-discovered
    assert at.title[0].value == "Peer workforce integration: state overview"


def test_overview_cards_match_independent_sql(demo_env):
    at = run_app()
    # app.py's own connection holds the file; read the facts through the published snapshot instead
    snap = Path(demo_env).parent / "published" / "warehouse.duckdb"
    latest = facts(snap, "select max(quarter) from headcount")[0][0]
    fte, pop = facts(snap, f"select sum(fte) filter (where role in {PEERS}), "
                           "(select sum(population) from regions) from headcount "
                           f"where quarter = '{latest}'")[0]
    certified = facts(snap, f"select 100.0 * count(*) filter (where status = 'CERTIFIED_ACTIVE') / count(*) "
                            f"from certification where role in {PEERS} and quarter = '{latest}'")[0][0]
    denial = facts(snap, "select 100.0 * sum(units_denied) / (sum(units_paid) + sum(units_denied)) "
                         f"from billing where quarter = '{latest}'")[0][0]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Peer FTE per 100k population"] == f"{fte / pop * 100_000:.1f}"
    assert shown["% certified"] == f"{certified:.1f}%"
    assert shown["Denial rate"] == f"{denial:.1f}%"
    assert latest in at.caption[0].value


def test_overview_charts_carry_the_data(demo_env):
    at = run_app()
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(charts) == 2
    assert charts[0]["title"]["text"].startswith("Integration index")
    snap = Path(demo_env).parent / "published" / "warehouse.duckdb"
    agencies = facts(snap, "select count(distinct agency_id) from headcount where quarter = "
                           "(select max(quarter) from headcount)")[0][0]
    stages = chart_data(at.get("vega_lite_chart")[1])
    assert stages["agencies"].sum() == agencies  # every agency that reported is placed in exactly one stage
    assert set(stages["stage"]) <= {"Emerging", "Developing", "Integrated"}
    regions = chart_data(at.get("vega_lite_chart")[0])
    assert regions["region"].n_unique() == facts(snap, "select count(*) from regions")[0][0]


def test_definitions_page_lists_every_registered_metric(demo_env):
    from pipelines.metrics import METRICS

    at = run_app("pages/definitions.py")
    table = at.dataframe[0].value
    assert list(table["metric"]) == [m.label for m in METRICS]


def test_empty_warehouse_shows_what_to_do(env):
    at = run_app()
    assert "make demo" in at.info[0].value
    assert len(at.metric) == 0
