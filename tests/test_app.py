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


def snapshot(db: Path) -> Path:
    """The published copy of the demo warehouse (the app's own connection holds the live file)."""
    return Path(db).parent / "published" / "warehouse.duckdb"


def test_navigation_lists_only_declared_pages(demo_env):
    at = run_app()
    declared = {str(Path(info["script_path"]).relative_to(Path(APP).parent)) for info in at._registered_pages.values()}
    pages_on_disk = {f"pages/{p.name}" for p in (Path(APP).parent / "pages").glob("*.py")}
    assert declared == pages_on_disk  # demo mode opens as the state administrator: every page, none auto-discovered
    assert len(declared) == 13
    assert at.title[0].value == "Peer workforce integration: state overview"
    assert [w.label for w in at.sidebar.selectbox] == ["View the dashboard as", "Region", "Agency type"]


def test_url_filters_round_trip_and_survive_page_switches(demo_env):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"region": "R3", "type": "RCO", "from": "2025-Q1", "to": "2025-Q4"})
    at.run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="filter_region").value == "R3"
    assert at.select_slider(key="filter_quarters").value == ("2025-Q1", "2025-Q4")
    assert at.title[0].value == "Peer workforce integration: River Valley"
    at.switch_page("pages/organizations.py").run()
    assert dict(at.query_params) == {"region": "R3", "type": "RCO", "from": "2025-Q1", "to": "2025-Q4"}
    shown = at.dataframe[0].value
    assert set(shown["region_id"]) == {"R3"} and set(shown["agency_type"]) == {"Recovery community organization"}
    expected = facts(snapshot(demo_env), "select count(distinct s.agency_id) from submissions s join agencies a "
                     "using (agency_id) where a.region_id = 'R3' and a.agency_type = 'RCO' and s.quarter = '2025-Q4' "
                     "and s.report = 'headcount' and s.status = 'accepted'")  # staff or none: "No peer workforce"
    assert len(shown) == expected[0][0]
    # widening the filters in the sidebar rewrites the link
    at.sidebar.selectbox(key="filter_type").set_value(None)
    at.select_slider(key="filter_quarters").set_value(("2023-Q4", "2026-Q3")).run()
    assert dict(at.query_params) == {"region": "R3"}


def test_unknown_filter_values_in_a_link_are_ignored_with_a_notice(demo_env):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"region": "R9", "type": "SPACESHIP"})
    at.run()
    assert not at.exception
    notice = at.sidebar.warning[0].value
    assert "'region'" in notice and "'type'" in notice and "R9" not in notice and "SPACESHIP" not in notice
    assert at.title[0].value == "Peer workforce integration: state overview"
    assert "region" not in at.query_params


def test_overview_cards_match_independent_sql(demo_env):
    at = run_app()
    snap = snapshot(demo_env)
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
    assert len(charts) == 3
    assert charts[0]["title"]["text"].startswith("Integration index")
    snap = snapshot(demo_env)
    agencies = facts(snap, "select count(distinct agency_id) from submissions where report = 'headcount' and "
                           "status = 'accepted' and quarter = (select max(quarter) from headcount)")[0][0]
    stages = chart_data(at.get("vega_lite_chart")[1])
    assert stages["agencies"].sum() == agencies  # every agency that reported is placed in exactly one stage
    assert set(stages["stage"]) == {"No peer workforce", "Emerging", "Developing", "Integrated"}
    places = chart_data(at.get("vega_lite_chart")[0])
    assert places["place"].n_unique() == facts(snap, "select count(*) from regions")[0][0] + 1  # + Statewide
    roles = chart_data(at.get("vega_lite_chart")[2])
    expected = dict(facts(snap, "select d.role_label, round(sum(h.fte), 1) from headcount h join dim_role d "
                                "using (role) where d.is_peer and h.quarter = '2026-Q3' group by 1"))
    assert dict(zip(roles["role"], roles["fte"])) == pytest.approx(expected)


def test_needs_attention_counts_match_the_facts(demo_env):
    at = run_app()
    snap = snapshot(demo_env)
    shown = {m.label: m.value for m in at.metric}
    silent = facts(snap, f"""
        with peers as (select agency_id from headcount where quarter = '2026-Q3' and role in {PEERS}
                       group by 1 having sum(headcount) > 0),
             billed as (select agency_id, sum(units_billed) as units from billing where quarter = '2026-Q3'
                        group by 1)
        select count(*) from peers left join billed using (agency_id) where coalesce(units, 0) = 0""")[0][0]
    assert shown["2026-Q3: agencies with peers billing nothing"] == str(silent)
    # denial spike: >= 20% and up >= 10 points on the previous billing quarter, >= 100 adjudicated units
    rates = facts(snap, "select agency_id, quarter, sum(units_denied), sum(units_paid) + sum(units_denied) "
                        "from billing group by 1, 2 having sum(units_paid) + sum(units_denied) > 0 order by 1, 2")
    spikes, prior = set(), {}
    for agency, quarter, denied, adjudicated in rates:
        rate = 100 * denied / adjudicated
        if agency in prior and rate >= 20 and rate - prior[agency] >= 10 and adjudicated >= 100:
            spikes.add((agency, quarter))
        prior[agency] = rate
    assert ("AG0101", "2025-Q1") in spikes  # the demo's code-change story
    assert shown["Denial spikes in the period"] == str(len(spikes))
    table = at.dataframe[1].value
    assert set(zip(table["agency_id"], table["quarter"])) == spikes
    expiring = facts(snap, "select count(distinct c.agency_id) from certification c join (select agency_id, "
                           "max(quarter) q from certification group by 1) l on l.agency_id = c.agency_id and "
                           "l.q = c.quarter where status = 'CERTIFIED_ACTIVE' and expiration_date between "
                           "date '2026-11-15' and date '2026-11-15' + 90")[0][0]
    assert shown["Agencies with certifications expiring in 90 days"] == str(expiring)
    # late or missing for 2026-Q3 (due 2026-10-30): first accepted file after the due date, or none at all
    overdue = facts(snap, """
        with expected as (select a.agency_id, r.report from agencies a, (values ('headcount'), ('certification'),
                              ('billing'), ('retention')) r(report)
                          where a.active_from <= date '2026-09-30'
                            and (a.active_to is null or a.active_to >= date '2026-07-01')),
             first as (select agency_id, report, min(submitted_at) as first_at from submissions
                       where quarter = '2026-Q3' and status = 'accepted' group by 1, 2)
        select distinct e.agency_id from expected e left join first f using (agency_id, report)
        where f.first_at is null or f.first_at >= date '2026-10-31'""")
    assert {"AG0067", "AG0082"} <= {a for (a,) in overdue}  # the demo's late and missing submitters
    assert shown["2026-Q3: agencies late or missing"] == str(len(overdue))


def test_definitions_page_lists_every_registered_metric(demo_env):
    from pipelines.metrics import METRICS

    at = run_app("pages/definitions.py")
    table = at.dataframe[0].value
    assert list(table["metric"]) == [m.label for m in METRICS]


def test_empty_warehouse_shows_what_to_do(env):
    at = run_app()
    assert "make demo" in at.info[0].value
    assert len(at.metric) == 0


def test_a_warehouse_held_by_another_program_gets_a_message_not_a_traceback(env):
    """With nothing published yet, the dashboard needs the warehouse once, to publish it."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.readline()", str(env / "warehouse.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        at = AppTest.from_file(APP, default_timeout=90).run()
    finally:
        holder.communicate("\n", timeout=30)
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"The dashboard cannot open its data. Warehouse busy: warehouse.duckdb is open for writing in another "
        f"program (process {holder.pid}). Wait for it to finish and try again."]
    assert len(at.metric) == 0
    assert run_app().info[0].value  # released, the next visit opens the (empty) warehouse
