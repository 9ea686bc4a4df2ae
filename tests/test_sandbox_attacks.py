"""Attacks on the analysts' SQL sandbox: every statement class that could change or read files, bare and
wrapped in EXPLAIN and EXPLAIN ANALYZE, must be refused with the published snapshot byte for byte the
same; the query process cannot write files even when a statement gets past the check; results are
bounded in bytes; `query` is audited."""

from __future__ import annotations

import getpass
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import sandbox, sandbox_process, settings

ROOT = Path(__file__).resolve().parent.parent

ATTACKS = [
    # files: written, exported, imported, read
    "copy (select 'pwned' as x) to '{snap}' (format csv, use_tmp_file false)",
    "copy (select 1) to '{tmp}/out.csv'",
    "copy headcount to '{tmp}/out.parquet' (format parquet)",
    "copy headcount from '{tmp}/in.csv'",
    "export database '{tmp}/export'",
    "import database '{tmp}/export'",
    "select * from read_csv('{snap}')",
    "select * from read_text('{snap}')",
    "select * from read_blob('{snap}')",
    "select * from read_parquet('{tmp}/*.parquet')",
    "select * from read_json_auto('/etc/passwd')",
    "select * from glob('{tmp}/*')",
    "from '{snap}'",
    # other databases
    "attach '{tmp}/other.duckdb' as other",
    "attach '{snap}' as again",
    "detach system",
    # schema and data, temporary objects included
    "create table t as select 1",
    "create temp table t as select 1",
    "create or replace temp table t as select 1",
    "create view v as select 1",
    "create temp view v as select 1",
    "create macro m(x) as x",
    "create temp macro m(x) as x",
    "create macro mt() as table select 1",
    "create sequence s",
    "create type mood as enum ('a')",
    "drop table headcount",
    "drop macro if exists m",
    "insert into regions values ('RX', 'X', 1, 0)",
    "update headcount set fte = 0",
    "delete from headcount",
    "alter table headcount add column x int",
    "alter table headcount rename to h",
    # procedures, maintenance, settings, extensions
    "call pragma_version()",
    "call checkpoint()",
    "pragma database_list",
    "pragma enable_profiling",
    "set memory_limit = '20GB'",
    "set enable_external_access = true",
    "reset threads",
    "checkpoint",
    "force checkpoint",
    "vacuum",
    "vacuum analyze headcount",
    "analyze",
    "install httpfs",
    "load httpfs",
    # SQL inside strings, and more than one statement
    "select * from query('copy (select 1) to ''{tmp}/q.csv''')",
    "select * from query_table('headcount')",
    "select 1; copy (select 1) to '{tmp}/two.csv'",
]
WRAPS = ["{}", "explain {}", "explain analyze {}", "EXPLAIN ANALYSE /* x */ {}", "explain (format json) {}",
         "explain (analyze, format json) {}"]
CASES = [(wrap, attack) for attack in ATTACKS for wrap in WRAPS[:3]] + [(wrap, ATTACKS[0]) for wrap in WRAPS[3:]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def snap(demo_env):
    return settings.snapshot_path()


def _sql(wrap: str, attack: str, snap: Path, tmp: Path) -> str:
    return wrap.format(attack.replace("{snap}", str(snap)).replace("{tmp}", str(tmp)))


def _new_files(tmp: Path, before: set) -> set:
    return {p for p in tmp.rglob("*")} - before


@pytest.mark.parametrize("wrap,attack", CASES, ids=[w.format(a) for w, a in CASES])
def test_every_attack_is_refused_and_the_snapshot_unchanged(snap, tmp_path, wrap, attack):
    before, files = sha256(snap), set(tmp_path.rglob("*"))
    sql = _sql(wrap, attack, snap, tmp_path)
    with pytest.raises(sandbox.Refused) as refused:
        sandbox.run(sql)
    assert str(refused.value) and "Traceback" not in str(refused.value)
    assert sha256(snap) == before, sql
    assert not _new_files(tmp_path, files), sql
    assert sandbox.run("select count(*) from headcount").rows[0][0] > 0


EXPLAIN_ANALYZE = [a for a in ATTACKS if a.split()[0] in ("copy", "export", "attach", "create", "call", "checkpoint",
                                                          "vacuum", "insert")] + [ATTACKS[-3]]


@pytest.mark.parametrize("attack", EXPLAIN_ANALYZE)
def test_explain_analyze_attacks_through_the_query_process(snap, tmp_path, attack):
    before, files = sha256(snap), set(tmp_path.rglob("*"))
    with pytest.raises(sandbox.Refused):
        sandbox_process.run(_sql("explain analyze {}", attack, snap, tmp_path))
    assert sha256(snap) == before and not _new_files(tmp_path, files)


def test_the_reported_attack_leaves_the_workbench_working(snap):
    before = sha256(snap)
    with pytest.raises(sandbox.Refused, match="COPY"):
        sandbox_process.run(f"EXPLAIN ANALYZE COPY (select 'pwned' as x) TO '{snap}' (FORMAT csv, USE_TMP_FILE false)")
    assert sha256(snap) == before
    assert sandbox_process.run("select count(*) > 0 as ok from headcount").rows == [(True,)]


READS = ["explain select * from headcount", "explain analyze select count(*) from headcount",
         "explain (format json) select 1", "/* why */ explain analyze with t as (select 1 as x) select * from t",
         "explain analyze summarize regions"]


@pytest.mark.parametrize("sql", READS)
def test_explain_of_a_read_statement_still_runs(snap, sql):
    assert sandbox.run(sql).frame.height >= 1


def _unchecked(snap: Path, code: str) -> subprocess.CompletedProcess:
    """Python in a process with the query process's write filter, on a sandboxed connection, no statement check."""
    script = ("import sys; from pathlib import Path; from pipelines import sandbox, sandbox_process\n"
              f"con = sandbox.open_snapshot(Path({str(snap)!r}))\nsandbox_process.forbid_file_writes()\n" + code)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(sys.platform != "linux", reason="the write filter is Linux's seccomp")
@pytest.mark.parametrize("code", [
    "con.execute(\"copy (select 'pwned' as x) to '{snap}' (format csv, use_tmp_file false)\")",
    "con.execute(\"copy (select 1) to '{tmp}/x.csv'\")",
    "open('{snap}', 'r+b').write(b'pwned')",
    "open('{snap}', 'ab')",
    "import os; os.truncate('{snap}', 0)",
    "import os; os.rename('{snap}', '{tmp}/moved')",
    "import os; os.unlink('{snap}')",
    "open('{tmp}/new', 'w')",
    "import threading; t = threading.Thread(target=lambda: open('{snap}', 'wb')); t.start(); t.join()",
])
def test_the_query_process_cannot_write_files_even_past_the_check(snap, tmp_path, code):
    before, files = sha256(snap), set(tmp_path.rglob("*"))
    done = _unchecked(snap, code.replace("{snap}", str(snap)).replace("{tmp}", str(tmp_path)))
    assert done.returncode != 0 or "Thread" in code, done.stderr
    assert "Permission" in done.stderr, done.stderr
    assert sha256(snap) == before and not _new_files(tmp_path, files)
    reads = _unchecked(snap, "print(con.execute('select count(*) from headcount').fetchall()[0][0])")
    assert reads.returncode == 0 and int(reads.stdout) > 0, reads.stderr


def test_a_result_of_huge_strings_is_cut_to_a_bound_in_bytes(snap):
    result = sandbox_process.run("select i, repeat('x', 20000000) as s from range(6) t(i)")
    assert result.too_big and result.truncated and result.frame.height == 1
    assert result.frame.estimated_size() <= sandbox.MAX_RESULT_BYTES
    assert "larger than 32 MB" in result.notice and "first 1 rows" in result.notice
    alone = sandbox_process.run("select repeat('x', 40000000) as s from range(2)")
    assert alone.frame.height == 0 and alone.too_big and alone.notice
    small = sandbox_process.run("select repeat('x', 1000) as s from range(100)")
    assert not small.truncated and not small.too_big and small.notice is None and small.frame.height == 100


def test_fit_keeps_the_rows_that_fit():
    import polars as pl

    frame = pl.DataFrame({"s": ["x" * 1000] * 100})
    kept, cut = sandbox.fit(frame, 10_500)
    assert cut and kept.height == 10 and kept.estimated_size() <= 10_500
    assert sandbox.fit(frame, 10**9) == (frame, False) or sandbox.fit(frame, 10**9)[1] is False


def test_a_damaged_snapshot_is_explained_not_blamed_on_memory(snap):
    snap.write_bytes(b"x\npwned\n")
    with pytest.raises(sandbox.Refused, match="could not be opened") as refused:
        sandbox_process.run("select 1")
    assert refused.value.code == "error" and "memory" not in str(refused.value)


def test_query_command_is_audited_as_the_cli_user(snap, tmp_path, cli):
    sql = "select agency_id from agencies where agency_id = $agency"
    assert cli("query", sql, "--param", "agency=AG0001").returncode == 0
    assert cli("query", "drop table headcount").returncode == 1  # refused, and recorded all the same
    con = duckdb.connect(str(settings.audit_path()), read_only=True)
    try:
        rows = con.execute("select actor, role, action, target, detail from audit_log where action = 'sql_query' "
                           "order by event_id").fetchall()
    finally:
        con.close()
    actor = f"cli:{getpass.getuser()}"
    assert rows[-2:] == [(actor, "cli", "sql_query", "published snapshot", sql + " -- parameters: {'agency': 'AG0001'}"),
                         (actor, "cli", "sql_query", "published snapshot", "drop table headcount")]
