"""The SQL workbench page through the real app (AppTest) on the demo warehouse's published snapshot."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import workbench
from pipelines import settings, snapshot
from pipelines.contracts import REPORTS
from pipelines.metrics import view_descriptions
from tests.conftest import audit_events

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
    assert workbench.decode_query(at.query_params["q"]).startswith("-- title: Denial rate by billing code")
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
    assert workbench.decode_query(at.query_params["q"]) == sql and at.query_params["p_agency"] == "AG0002"
    name = facts("select name from agencies where agency_id = 'AG0002'")[0][0]
    assert at.dataframe[0].value.values.tolist() == [["AG0002", name]]

    shared = sql_page({"q": at.query_params["q"], "p_agency": "AG0003"})  # someone opens the shared link
    assert shared.text_area(key="sql_text").value == sql
    assert shared.text_input(key="sql_param_agency").value == "AG0003"
    labels = [b.label for b in shared.get("download_button")]
    assert "Download query-result (Parquet)" not in labels and "press Run" in shared.info[0].value  # not run
    assert not shared.dataframe  # the schema's tables are sent only when opened: no table at all yet
    shared.button(key="sql_run").click().run()
    assert shared.dataframe[0].value["agency_id"].tolist() == ["AG0003"]
    assert not shared.info  # the link's notice goes once it ran


def link_in(at: AppTest) -> str:
    [link] = [c.value for c in at.code if "?q=" in c.value]
    return link


def test_copy_link_round_trip_fills_the_editor_and_runs_nothing(demo_env):
    sql = "select agency_id, name\nfrom agencies\nwhere agency_id = $agency  -- ünïcode, 'quotes' & ?=#"
    at = sql_page()
    at.text_area(key="sql_text").input(sql).run()
    at.text_input(key="sql_param_agency").input("AG0002").run()
    link = link_in(at)  # the Copy link popover holds the editor's query, before it ever ran
    query = parse_qs(urlsplit(link).query, strict_parsing=True)
    assert set(query) == {"q", "p_agency"} and query["p_agency"] == ["AG0002"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", query["q"][0])  # URL-safe as it stands
    assert len(link) < 200 and not at.dataframe and not at.error

    shared = sql_page({k: v[0] for k, v in query.items()})
    assert shared.text_area(key="sql_text").value == sql
    assert shared.text_input(key="sql_param_agency").value == "AG0002"
    assert "press Run" in shared.info[0].value and not shared.dataframe
    assert not audit_events(demo_env, "sql_query")  # opening a link runs nothing
    shared.button(key="sql_run").click().run()
    assert shared.dataframe[0].value["agency_id"].tolist() == ["AG0002"]
    assert link_in(shared) == link


def test_a_query_too_long_for_a_link_says_so(demo_env):
    sql = "select 1 as x -- " + "y" * workbench.MAX_LINK_BYTES
    at = run_sql(sql_page(), sql)
    assert "q" not in at.query_params  # the address holds no query rather than a cut one
    assert any("a link carries at most" in w.value for w in at.warning)
    assert at.dataframe[0].value["x"].tolist() == [1]


HOSTILE_LINKS = {
    "not base64": "select 1; drop table x",
    "padding": "c2VsZWN0IDE=",
    "non-canonical bits": "c2VsZWN0IDF",
    "standard alphabet": "c2VsZWN0ICc/Pz8n+/",
    "too long": "A" * (workbench.MAX_LINK_CHARS + 4),
    "not UTF-8": base64.urlsafe_b64encode(b"select '\xff'").decode().rstrip("="),
    "control character": base64.urlsafe_b64encode(b"select 1 \x1b[2J").decode().rstrip("="),
    "bidi override": base64.urlsafe_b64encode("select 1 -- \u202e )x(dne".encode()).decode().rstrip("="),
    "markdown": base64.urlsafe_b64encode(b"\x00**Expired** [Sign in](http://127.0.0.1:9/)").decode().rstrip("="),
    "empty": "",
}


@pytest.mark.parametrize("value", HOSTILE_LINKS.values(), ids=HOSTILE_LINKS.keys())
def test_a_damaged_link_is_refused_in_fixed_words(demo_env, value):
    at = sql_page({"q": value, "p_agency": "AG0001"})
    assert not at.exception
    assert at.text_area(key="sql_text").value in ("", None)
    assert any("could not be read" in w.value for w in at.warning)
    shown = " ".join(str(e.value) for kind in ("markdown", "caption", "warning", "info", "error", "code", "text")
                     for e in at.get(kind))
    assert "Sign in" not in shown and (len(value) < 4 or value not in shown)
    assert not audit_events(demo_env, "sql_query")


@pytest.mark.parametrize("params", [{"p_x y": "1"}, {"p_agency": "A" * 201}, {"p_agency": "AG1\nAG2"},
                                    {"p_agency": "AG\u202e1"}])
def test_parameters_of_a_link_are_parsed_strictly(demo_env, params):
    sql = "select $agency as a"
    at = sql_page({"q": workbench.encode_query(sql), **params})
    assert at.text_area(key="sql_text").value == sql
    assert at.text_input(key="sql_param_agency").value in ("", None)
    assert any("could not be read" in w.value for w in at.warning)


def test_a_link_from_before_still_opens(demo_env):
    sql = "select agency_id from agencies where agency_id = $agency"
    at = sql_page({"sql": sql, "p_agency": "AG0003"})
    assert at.text_area(key="sql_text").value == sql and "press Run" in at.info[0].value
    at.button(key="sql_run").click().run()
    assert at.dataframe[0].value["agency_id"].tolist() == ["AG0003"]
    assert "sql" not in at.query_params and workbench.decode_query(at.query_params["q"]) == sql


def test_history_lists_runs_newest_first_and_loads_without_running(demo_env):
    at = sql_page()
    assert not history(at)
    run_sql(at, "select count(*) as n from agencies")
    run_sql(at, "drop table headcount")
    run_sql(at, "select agency_id from agencies order by 1 limit 3")
    run_sql(at, "select agency_id from agencies order by 1 limit 3")  # again: one entry, updated
    entries = history(at)
    assert [e["sql"] for e in entries] == ["select agency_id from agencies order by 1 limit 3",
                                           "drop table headcount", "select count(*) as n from agencies"]
    assert [e["rows"] for e in entries] == [3, None, 1] and entries[1]["code"] == "refused"
    captions = [c.value for c in at.caption]
    assert any(re.fullmatch(r"3 rows · \d+\.\d\d s · \d\d:\d\d:\d\d", c) for c in captions), captions
    assert any(re.fullmatch(r"refused · \d\d:\d\d:\d\d", c) for c in captions), captions
    assert any(re.fullmatch(r"1 row · \d+\.\d\d s · \d\d:\d\d:\d\d", c) for c in captions), captions
    codes = [c.value for c in at.code if c.language == "sql"]
    assert codes[:3] == [e["sql"] for e in entries]  # shown newest first

    ran = len(audit_events(demo_env, "sql_query"))
    at.button(key=f"sql_history_{entries[2]['id']}").click().run()  # load the oldest back
    assert at.text_area(key="sql_text").value == "select count(*) as n from agencies"
    assert len(audit_events(demo_env, "sql_query")) == ran and len(history(at)) == 3  # loaded, not run
    shown = [r[0] for r in facts("select agency_id from agencies order by 1 limit 3")]
    assert at.dataframe[0].value["agency_id"].tolist() == shown  # the results stay those of the last run


def history(at: AppTest) -> list[dict]:
    return list(at.session_state["_sql_history"]) if "_sql_history" in at.session_state else []


def test_history_keeps_parameter_values_and_loads_them_back(demo_env):
    sql = "select agency_id from agencies where agency_id = $agency"
    at = sql_page()
    at.text_area(key="sql_text").input(sql).run()
    at.text_input(key="sql_param_agency").input("AG0002").run()
    at.button(key="sql_run").click().run()
    at = run_sql(at, "select 1 as one")
    [_, older] = history(at)
    assert older["params"] == {"agency": "AG0002"}
    assert "$agency = AG0002" in [t.value for t in at.text]
    at.button(key=f"sql_history_{older['id']}").click().run()
    assert at.text_area(key="sql_text").value == sql
    assert at.text_input(key="sql_param_agency").value == "AG0002"


def test_results_are_full_width_with_the_schema_below(demo_env):
    at = run_sql(sql_page(), "select * from agencies")
    top = [node.type for node in at.main.children.values()]  # the page's own level, in order
    assert top.index("text_area") < top.index("dataframe") < top.index("subheader")  # not in a column
    assert not any(column.get("dataframe") for column in at.columns)
    assert at.subheader[0].value == "Schema" and len(at.dataframe) == 1  # the schema's tables wait to be opened
    assert "headcount · table" in [e.label for e in at.expander]


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


def test_a_newly_published_snapshot_is_seen_on_the_next_run(demo_env):
    sql = "select count(*) as n from duckdb_tables() where table_name = 'extra'"
    at = run_sql(sql_page(), sql)
    assert at.dataframe[0].value["n"].tolist() == [0]
    con = duckdb.connect(str(demo_env))
    try:
        con.execute("create table extra as select range as i from range(42)")
        snapshot.publish(con)  # publish again: a new file replaces the one the warm worker holds open
    finally:
        con.close()
    at.button(key="sql_run").click().run()
    assert at.dataframe[0].value["n"].tolist() == [1]
    assert run_sql(at, "select count(*) as n from extra").dataframe[0].value["n"].tolist() == [42]


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
