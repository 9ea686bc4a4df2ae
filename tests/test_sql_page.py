"""The SQL workbench page through the real app (AppTest) on the demo warehouse's published snapshot."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import workbench
from pipelines import settings
from pipelines.contracts import REPORTS
from pipelines.metrics import view_descriptions

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def sql_page(query_params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.query_params.update(query_params or {})
    at.switch_page("pages/sql.py").run()
    assert not at.exception, at.exception
    return at


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_text").input(sql).run()
    at.button(key="sql_run").click().run()
    assert not at.exception, at.exception
    return at


def facts(sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.snapshot_path()), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_canned_query_runs_and_matches_independent_sql(demo_env):
    at = sql_page()
    at.button(key="sql_canned_denial_rates_by_code").click().run()
    assert not at.exception and not at.error
    shown = at.dataframe[0].value
    expected = facts("""
        select hcpcs, coalesce(modifier, ''), sum(units_billed), sum(units_denied),
               round(100.0 * sum(units_denied) / nullif(sum(units_paid) + sum(units_denied), 0), 1)
        from billing where quarter = (select max(quarter) from billing) group by 1, 2""")
    assert len(shown) == len(expected) > 0
    got = {(r.hcpcs, r.modifier, r.units_billed_count, r.units_denied_count, r.denial_rate_pct)
           for r in shown.itertuples()}
    assert got == set(expected)
    assert at.query_params["sql"].startswith("-- title: Denial rate by billing code")
    labels = [b.label for b in at.get("download_button")]
    assert {"Download query-result (CSV)", "Download query-result (Parquet)"} <= set(labels)


def test_a_refused_statement_shows_the_reason_and_changes_nothing(demo_env):
    snap = settings.snapshot_path()
    before = hashlib.sha256(snap.read_bytes()).hexdigest(), snap.stat().st_mtime_ns
    at = run_sql(sql_page(), "drop table headcount")
    assert "Dropping or removing objects is not allowed" in at.error[0].value
    at = run_sql(at, "select * from read_csv('/etc/passwd')")
    assert "Reading files is not allowed" in at.error[0].value and "root:" not in at.error[0].value
    at = run_sql(at, "select 1; delete from headcount")
    assert "exactly one statement" in at.error[0].value
    assert (hashlib.sha256(snap.read_bytes()).hexdigest(), snap.stat().st_mtime_ns) == before
    assert facts("select count(*) from headcount")[0][0] > 0


def test_the_url_round_trips_the_query_and_its_parameters(demo_env):
    sql = "select agency_id, name from agencies where agency_id = $agency"
    at = sql_page()
    at.text_area(key="sql_text").input(sql).run()
    at.text_input(key="sql_param_agency").input("AG0002").run()
    at.button(key="sql_run").click().run()
    assert at.query_params["sql"] == sql and at.query_params["p_agency"] == "AG0002"
    name = facts("select name from agencies where agency_id = 'AG0002'")[0][0]
    assert at.dataframe[0].value.values.tolist() == [["AG0002", name]]

    shared = sql_page({"sql": sql, "p_agency": "AG0003"})  # someone opens the shared link
    assert shared.text_area(key="sql_text").value == sql
    assert shared.text_input(key="sql_param_agency").value == "AG0003"
    labels = [b.label for b in shared.get("download_button")]
    assert "Download query-result (Parquet)" not in labels and "press Run" in shared.info[0].value  # not run
    shared.button(key="sql_run").click().run()
    assert shared.dataframe[0].value["agency_id"].tolist() == ["AG0003"]


def test_a_runaway_query_is_stopped_and_the_user_told(demo_env, monkeypatch):
    monkeypatch.setenv("PEER_SQL_TIMEOUT_S", "1")
    at = run_sql(sql_page(), "select count(*) from range(100000000) a, range(100000000) b")
    assert "stopped after the 1 s time limit" in at.error[0].value


def test_a_huge_result_is_capped_with_a_notice(demo_env, monkeypatch):
    monkeypatch.setenv("PEER_SQL_MAX_ROWS", "100")
    at = run_sql(sql_page(), "select * from range(100000000)")
    assert len(at.dataframe[0].value) == 100
    assert "Showing the first 100 rows" in at.warning[0].value


def test_schema_browser_lists_and_inserts_names(demo_env):
    at = sql_page()
    expanders = [e.label for e in at.expander]
    assert "headcount · table" in expanders and "kpi_state_quarter · view" in expanders
    captions = [c.value for c in at.caption]
    assert view_descriptions()["kpi_state_quarter"] in captions
    assert REPORTS["headcount"].description in captions
    at.button(key="sql_insert_regions").click().run()
    assert at.text_area(key="sql_text").value == "select * from regions limit 100"
    at.button(key="sql_insert_agencies").click().run()
    assert at.text_area(key="sql_text").value == "select * from regions limit 100 agencies"


def test_a_newly_published_snapshot_is_seen_on_the_next_run(demo_env, tmp_path):
    at = run_sql(sql_page(), "select count(*) as n from regions")
    assert at.dataframe[0].value["n"].tolist() == [facts("select count(*) from regions")[0][0]]
    replacement = tmp_path / "new.duckdb"
    con = duckdb.connect(str(replacement))
    con.execute("create table regions as select 'R1' as region_id from range(42)")
    con.close()
    os.replace(replacement, settings.snapshot_path())
    at.button(key="sql_run").click().run()
    assert at.dataframe[0].value["n"].tolist() == [42]


@pytest.mark.parametrize("name", ["turnover_by_wage_band", "agency_profile", "expiring_certifications"])
def test_canned_queries_with_and_without_parameters_run_on_the_page(demo_env, name):
    at = sql_page()
    at.button(key=f"sql_canned_{name}").click().run()
    assert not at.error and len(at.dataframe[0].value) > 0


def test_parquet_download_holds_the_result():
    import polars as pl

    frame = pl.DataFrame({"agency_id": ["AG0001", "AG0002"], "fte": [1.5, None]})
    assert pl.read_parquet(workbench.parquet_bytes(frame)).equals(frame)


def test_a_refusal_quoting_the_statement_renders_it_as_plain_text(demo_env):
    """The reason may quote the SQL: markdown in it must not become a link, an image or emphasis."""
    at = run_sql(sql_page(), 'select * from "**Expired** [Sign in](http://127.0.0.1:9/login)"')
    [error] = at.error
    assert "Sign in" in error.value  # DuckDB quotes the name it could not find...
    assert "\\[Sign in\\]\\(http" in error.value and "\\*\\*Expired\\*\\*" in error.value  # ...escaped
