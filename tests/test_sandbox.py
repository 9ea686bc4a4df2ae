"""The analysts' sandbox on the published snapshot: what is refused (and that nothing changes), limits,
parameters, canned queries, `query` and `export`."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import catalog, sandbox, sandbox_process, settings

ROOT = Path(__file__).resolve().parent.parent
secret_frame = pl.DataFrame({"password": ["hunter2"]})  # a Python variable a replacement scan could reach


def fingerprint(db: Path) -> dict:
    """Hash and mtime of the snapshot, row counts of every table of the live warehouse."""
    snap = settings.snapshot_path()
    live = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in live.execute("select table_name from information_schema.tables "
                                             "where table_type = 'BASE TABLE'").fetchall()]
        counts = {t: live.execute(f'select count(*) from "{t}"').fetchall()[0][0] for t in tables}
    finally:
        live.close()
    return {"sha256": hashlib.sha256(snap.read_bytes()).hexdigest(), "mtime": snap.stat().st_mtime_ns,
            "counts": counts, "files": sorted(p.name for p in snap.parent.iterdir())}


@pytest.fixture
def snap(demo_env):
    return settings.snapshot_path()


REFUSED = [
    # reading files, directly and hidden in subqueries, lambdas, EXISTS, table references
    ("select * from read_csv('/etc/passwd')", "reads files"),
    ("select * from read_csv_auto(['/etc/passwd'])", "reads files"),
    ("select * from read_text('/etc/passwd')", "reads files"),
    ("select content from read_blob('/etc/hostname')", "reads files"),
    ("select * from read_parquet('data/*.parquet')", "reads files"),
    ("select * from read_json('/etc/passwd')", "reads files"),
    ("select * from glob('*')", "reads files"),
    ("select * from sniff_csv('/etc/passwd')", "reads files"),
    ("from '/etc/passwd'", "looks like a file"),
    ("select * from 'data/sample/manifest.csv'", "looks like a file"),
    ('select * from "/etc/passwd"', "looks like a file"),
    ("select (select count(*) from read_text('/etc/passwd')) as n", "reads files"),
    ("select * from range(3) where exists (from read_csv('/etc/passwd'))", "reads files"),
    ("select list_transform([1], x -> (select count(*) from glob('/*')))", "reads files"),
    ("with t as (select * from READ_CSV('/etc/passwd')) select * from t", "reads files"),
    # a statement hidden inside a function call
    ("select * from query('drop table headcount')", "inside a string"),
    ("select * from query('select * from read_text(''/etc/passwd'')')", "inside a string"),
    ("select * from query_table('headcount')", "inside a string"),
    # writing files, other databases, extensions
    ("copy (select 1) to '{tmp}/out.csv'", "COPY"),
    ("copy headcount to '{tmp}/out.parquet' (format parquet)", "COPY"),
    ("copy headcount from '/etc/passwd'", "COPY"),
    ("export database '{tmp}/export'", "EXPORT DATABASE"),
    ("attach '{tmp}/other.duckdb' as other", "Attaching"),
    ("detach system", "Detaching"),
    ("install httpfs", "extensions"),
    ("load httpfs", "extensions"),
    ("update extensions", "not allowed"),
    # settings
    ("set memory_limit = '20GB'", "Changing settings"),
    ("set enable_external_access = true", "Changing settings"),
    ("reset threads", "Changing settings"),
    ("use system", "Changing settings"),
    ("set variable x = 1", "Changing settings"),
    ("pragma database_list", "PRAGMA"),
    ("pragma enable_profiling", "PRAGMA"),
    ("call pragma_version()", "CALL"),
    ("checkpoint", "CALL"),
    # changing data or the schema
    ("create table t as select 1", "Creating"),
    ("create temp table t as select 1", "Creating"),
    ("create view v as select 1", "Creating"),
    ("create macro m(x) as x", "Creating"),
    ("create secret (type s3, key_id 'a', secret 'b')", "Creating"),
    ("drop table headcount", "Dropping"),
    ("insert into regions values ('RX', 'X', 1, 0)", "INSERT"),
    ("update headcount set fte = 0", "UPDATE"),
    ("delete from headcount", "DELETE"),
    ("merge into regions using (select 1 as x) s on false when not matched then insert values (1, 2, 3, 4)", "MERGE"),
    ("copy from database memory to other", "not allowed"),
    ("alter table headcount add column x int", "Altering"),
    ("begin transaction", "Transactions"),
    ("vacuum", "Maintenance"),
    ("prepare p as select 1", "Prepared"),
    # more than one statement
    ("select 1; drop table headcount", "exactly one statement"),
    ("select 1; select 2", "exactly one statement"),
    # DuckDB's own sandbox catches what the parse-tree check cannot see (EXPLAIN is not serialisable)
    ("explain analyze select * from read_csv('/etc/passwd')", "Reading files is not allowed"),
    # Python variables are not reachable (replacement scans are off)
    ("select * from secret_frame", "does not exist"),
    ("select * from pivot headcount on role using sum(fte)", "could not"),
    ("pivot headcount on role using sum(fte)", "several statements"),
]


@pytest.mark.parametrize("sql,reason", REFUSED, ids=[s for s, _ in REFUSED])
def test_refused_with_a_clear_reason_and_nothing_changes(snap, demo_env, tmp_path, sql, reason):
    before = fingerprint(demo_env)
    sql = sql.replace("{tmp}", str(tmp_path))
    with pytest.raises(sandbox.Refused) as refused:
        sandbox.run(sql)
    message = str(refused.value)
    assert reason in message
    assert "hunter2" not in message and "root:" not in message
    assert fingerprint(demo_env) == before
    assert not [p for p in tmp_path.iterdir() if p.name != "warehouse.duckdb" and p.name != "published"]


def test_the_connection_layer_holds_without_the_statement_check(snap):
    """Each engine-level guard works on its own, even for a statement the parser check would stop."""
    con = sandbox.open_snapshot()
    try:
        with pytest.raises(duckdb.PermissionException):
            con.execute("select * from read_csv('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("create table t (a int)")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("set enable_external_access = true")
        with pytest.raises(duckdb.CatalogException):
            con.execute("select * from secret_frame").fetchall()
        settings_now = dict(con.execute("select name, value from duckdb_settings() where name in "
                                        "('enable_external_access', 'lock_configuration', 'temp_directory', "
                                        "'threads', 'access_mode', 'python_enable_replacements')").fetchall())
    finally:
        con.close()
    assert settings_now == {"enable_external_access": "false", "lock_configuration": "true", "temp_directory": "",
                            "threads": "2", "access_mode": "read_only", "python_enable_replacements": "false"}


ALLOWED = ["select count(*) from headcount", "with t as (select 1 as x) select x from t", "from regions",
           "describe headcount", "show tables", "summarize regions", "explain select * from headcount",
           "select current_setting('memory_limit')", "select * from pragma_table_info('headcount')",
           "select name from duckdb_settings() limit 1"]


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_statements_run(snap, sql):
    result = sandbox.run(sql)
    assert result.frame.height >= 1 and not result.truncated


def test_results_match_independent_sql(snap):
    sql = "select region_id, count(*) as agencies from agencies group by 1 order by 1"
    shown = sandbox.run(sql).rows
    con = duckdb.connect(str(snap), read_only=True)
    try:
        assert shown == con.execute(sql).fetchall() and len(shown) >= 2
    finally:
        con.close()


def test_runaway_query_is_interrupted_within_the_limit(snap):
    started = time.perf_counter()
    with pytest.raises(sandbox.Refused) as refused:
        sandbox.run("select count(*) from range(100000000) a, range(100000000) b", timeout_s=1.0)
    elapsed = time.perf_counter() - started
    assert refused.value.code == "timeout" and "1 s time limit" in str(refused.value)
    assert elapsed < 1.0 + 4.0, elapsed  # unstopped, it runs for hours; the slack is for a loaded machine


def test_time_limit_comes_from_the_setting(snap, monkeypatch):
    monkeypatch.setenv("PEER_SQL_TIMEOUT_S", "0.5")
    started = time.perf_counter()
    with pytest.raises(sandbox.Refused, match="0.5 s time limit"):
        sandbox.run("with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r")
    assert time.perf_counter() - started < 0.5 + 4.0  # unstopped, it runs until memory runs out


def test_a_huge_result_is_capped(snap, monkeypatch):
    monkeypatch.setenv("PEER_SQL_MAX_ROWS", "1000")
    capped = sandbox.run("select * from range(100000000) a, range(1000) b")
    assert capped.frame.height == 1000 and capped.truncated
    exact = sandbox.run("select * from range(1000)")
    assert exact.frame.height == 1000 and not exact.truncated
    assert sandbox.run("select * from range(10)", max_rows=10_000).frame["range"].to_list() == list(range(10))


def test_default_limits():
    assert settings.sql_timeout_s() == 5.0 and settings.sql_max_rows() == 10_000


def test_named_parameters_are_bound_not_pasted(snap):
    sql = "select agency_id from agencies where agency_id = $agency"
    assert sandbox.parameters(sql) == ["agency"]
    assert sandbox.run(sql, params={"agency": "AG0001"}).rows == [("AG0001",)]
    assert sandbox.run(sql, params={"agency": "AG0001' or '1'='1"}).rows == []
    with pytest.raises(sandbox.Refused, match=r"Give a value for \$agency"):
        sandbox.run(sql)
    with pytest.raises(sandbox.Refused, match="named parameters"):
        sandbox.run("select * from agencies where agency_id = ?", params={"1": "AG0001"})
    assert sandbox.parameters("select $b, $a, $b") == ["b", "a"]


def test_no_snapshot_is_explained(env):
    with pytest.raises(sandbox.Refused, match="No published snapshot"):
        sandbox.run("select 1")


def test_each_run_closes_its_connection(snap):
    sandbox.run("select 1")
    # a connection with another configuration can only open the file once the sandbox's is gone
    duckdb.connect(str(snap), read_only=True).close()


def test_canned_queries_have_titles_and_all_return_rows(snap):
    queries = catalog.canned_queries()
    assert len(queries) >= 8
    for q in queries:
        assert q.title != q.name and len(q.description) > 20, q.name
        assert set(q.parameters) <= set(q.defaults), q.name
        result = sandbox.run(q.sql, params=q.defaults)
        assert result.frame.height > 0, q.name


def test_turnover_by_wage_band_matches_the_fact_table(snap):
    query = next(q for q in catalog.canned_queries() if q.name == "turnover_by_wage_band")
    shown = sandbox.run(query.sql).frame
    con = duckdb.connect(str(snap), read_only=True)
    try:
        facts = con.execute("select hourly_wage_band, count(*) filter (where event = 'HIRE'), "
                            "count(*) filter (where event = 'SEPARATION') from retention "
                            "where hourly_wage_band is not null and quarter in (select distinct quarter "
                            "from retention order by quarter desc limit 4) group by 1").fetchall()
    finally:
        con.close()
    assert {(r["hourly_wage_band"], r["hires_count"], r["separations_count"]) for r in shown.iter_rows(named=True)} \
        == set(facts)


def test_certification_falling_matches_independent_sql(snap):
    query = next(q for q in catalog.canned_queries() if q.name == "certification_falling")
    shown = {(r["agency_id"], r["quarter"]) for r in sandbox.run(query.sql).frame.iter_rows(named=True)}
    con = duckdb.connect(str(snap), read_only=True)
    try:
        rates = con.execute(
            "select c.agency_id, c.quarter, 100.0 * count(*) filter (where status = 'CERTIFIED_ACTIVE') / count(*) "
            "from certification c where role in ('PEER_SPECIALIST_MH','PEER_RECOVERY_SUD','FAMILY_PEER',"
            "'YOUTH_PEER','FORENSIC_PEER') group by 1, 2 order by 1, 2").fetchall()
    finally:
        con.close()
    expected, series = set(), {}
    for agency, quarter, pct in rates:
        series.setdefault(agency, []).append((quarter, pct))
    for agency, points in series.items():
        for (_, a), (_, b), (q, c) in zip(points, points[1:], points[2:]):
            if c < b < a:
                expected.add((agency, q))
    assert shown == expected and shown


def test_schema_describes_tables_and_views(snap):
    con = sandbox.open_snapshot()
    try:
        relations = {r.name: r for r in catalog.schema(con)}
    finally:
        con.close()
    assert relations["headcount"].kind == "table" and relations["kpi_state_quarter"].kind == "view"
    fte = next(c for c in relations["headcount"].columns if c.name == "fte")
    assert fte.type == "DOUBLE" and fte.description
    certified = next(c for c in relations["kpi_agency_quarter"].columns if c.name == "certified_pct")
    assert "certified" in certified.description.lower()
    assert all(r.description for r in relations.values()), [n for n, r in relations.items() if not r.description]


# `query` and `export` run in this process (the `cli` fixture); `query` starts the query process as always.

def test_query_command_refuses_and_limits(demo_env, tmp_path, cli, monkeypatch):
    refused = cli("query", f"copy (select 1) to '{tmp_path / 'x.csv'}'")
    assert refused.returncode == 1 and "COPY" in refused.stderr and not (tmp_path / "x.csv").exists()
    hidden = cli("query", "select (select 1 from read_text('/etc/passwd'))")
    assert hidden.returncode == 1 and "reads files" in hidden.stderr
    capped = cli("query", "select * from range(50)", "--max-rows", "20", "--format", "csv")
    assert capped.returncode == 0 and len(capped.stdout.split()) == 21 and "first 20 rows" in capped.stderr
    slow = cli("query", "select count(*) from range(100000000) a, range(100000000) b", "--timeout", "1")
    assert slow.returncode == 1 and "time limit" in slow.stderr
    monkeypatch.setenv("PEER_SQL_TIMEOUT_S", "0.5")
    lowered = cli("query", "select count(*) from range(100000000) a, range(100000000) b", "--timeout", "30")
    assert lowered.returncode == 1 and "0.5 s time limit" in lowered.stderr  # an option may only lower the limit


def test_export_writes_every_table_and_view(demo_env, tmp_path, cli):
    out = tmp_path / "parquet"
    proc = cli("export", out)
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(settings.snapshot_path()), read_only=True)
    try:
        names = [n for (n,) in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = 'main'").fetchall()]
        expected = {n: con.execute(f'select count(*) from "{n}"').fetchall()[0][0] for n in names}
    finally:
        con.close()
    assert {p.stem for p in out.glob("*.parquet")} == set(names)
    for name, rows in expected.items():
        assert duckdb.sql(f"select count(*) from '{out / (name + '.parquet')}'").fetchall()[0][0] == rows, name
    readme = (out / "README.md").read_text()
    assert "## kpi_state_quarter (view" in readme and "## headcount (table" in readme
    assert "Full-time equivalents" in readme or "FTE" in readme


def test_query_command_binds_named_parameters(demo_env, cli):
    proc = cli("query", "select agency_id from agencies where agency_id = $agency", "--param", "agency=AG0002",
               "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["agency_id", "AG0002"]


def test_limits_and_analyst_docs_stay_in_sync():
    readme = (ROOT / "README.md").read_text()
    guide = (ROOT / "docs" / "analyst-guide.md").read_text()
    for name in ("PEER_SQL_TIMEOUT_S", "PEER_SQL_MAX_ROWS"):
        default = settings.SETTINGS[name][0]
        assert f"| `{name}` | `{default}` |" in readme and name in guide
    import re

    from pipelines.contracts import REFERENCE, REPORTS
    from pipelines.metrics import VIEWS

    known = {*REPORTS, *REFERENCE, *catalog.TABLES, *(v.name for v in VIEWS)}
    for name in [*REPORTS, *REFERENCE, *catalog.TABLES]:  # every table is described
        assert f"`{name}`" in guide, name
    named = set(re.findall(r"`((?:kpi|dim|int)_[a-z0-9_]+)`", guide))
    assert named and named <= known, named - known  # no view the warehouse does not have
    for path in re.findall(r"queries/([a-z_]+)\.sql", guide):
        assert (catalog.QUERIES_DIR / f"{path}.sql").exists(), path


# --- the query process: the operating system enforces the limits ------------------------------------------

def test_the_query_process_answers_like_the_in_process_sandbox(snap):
    sql = "select region_id, count(*) as agencies from agencies group by 1 order by 1"
    isolated = sandbox_process.run(sql)
    assert isolated.rows == sandbox.run(sql).rows and isolated.columns == ["region_id", "agencies"]
    with pytest.raises(sandbox.Refused, match="exactly one statement") as refused:
        sandbox_process.run("select 1; select 2")
    assert refused.value.code == "refused"


def test_a_query_that_ignores_the_interrupt_is_killed_soon_after_the_limit(snap):
    started = time.perf_counter()  # DuckDB checks interrupts between chunks; this one ran 28 s past a 5 s interrupt
    with pytest.raises(sandbox.Refused, match="1 s time limit") as refused:
        sandbox_process.run("select max(repeat('x', 100000000)) from range(1000000)", timeout_s=1.0)
    assert refused.value.code == "timeout"
    assert time.perf_counter() - started < 1.0 + sandbox_process.GRACE_S + 4.0  # not the 28 s it runs unkilled


def test_a_query_process_out_of_memory_is_refused_and_the_caller_lives_on(snap):
    with pytest.raises(sandbox.Refused, match="more memory") as refused:
        sandbox_process.run("select list(range) from range(1000000)", address_space=400 << 20)
    assert refused.value.code == "memory"
    assert sandbox_process.run("select 42 as answer").rows == [(42,)]
