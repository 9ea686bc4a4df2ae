"""The CLI contract of DESIGN.md: commands, exit codes, JSON report shape. The commands run in this process
(the `cli` fixture); one test runs `python -m pipelines` itself, for the exit codes a real process returns."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import clean_rows


def python_m_pipelines(*args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def initialised(env):
    """A closed warehouse file with fixture reference data (the CLI opens it itself)."""
    from pipelines import warehouse
    from tests.conftest import FIXTURES

    con = warehouse.connect(env / "warehouse.duckdb")
    warehouse.init(con)
    warehouse.load_reference(con, FIXTURES / "reference")
    con.close()
    return env


def test_validate_exit_codes_and_json_shape(initialised, write, cli):
    good = write("good.csv", clean_rows("headcount"))
    rows = clean_rows("headcount")
    rows[1][2] = "PEER_COACH"
    bad = write("bad.csv", rows)
    junk = write("junk.csv", b"\x00\x01\x02" * 100)

    ok = cli("validate", good, "--format", "json")
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["valid"] is True and doc["rows"] == 3 and len(doc["sha256"]) == 64 and doc["errors"] == []

    invalid = cli("validate", bad, "--format", "json")
    assert invalid.returncode == 1
    doc = json.loads(invalid.stdout)
    assert doc["valid"] is False
    assert doc["errors"] == [{"code": "value-not-allowed", "row": 2, "column": "role", "value": "PEER_COACH",
                              "message": doc["errors"][0]["message"]}]

    unusable = cli("validate", junk, "--format", "json")
    assert unusable.returncode == 2
    assert json.loads(unusable.stdout)["errors"][0] == {
        "code": "binary-file", "row": None, "column": None, "value": None,
        "message": json.loads(unusable.stdout)["errors"][0]["message"]}

    assert cli("validate", initialised / "nope.csv").returncode == 2
    assert cli("validate", good, "--report", "payroll").returncode == 2
    assert cli("validate", good, "--quarter", "Q1-2026").returncode == 2


def test_validate_text_report_names_row_column_value(initialised, write, cli):
    rows = clean_rows("headcount")
    rows[1][2] = "PEER_COACH"
    proc = cli("validate", write("bad.csv", rows))
    assert proc.returncode == 1
    assert "invalid" in proc.stdout and "value-not-allowed" in proc.stdout
    assert "Row 2, column role: 'PEER_COACH'" in " ".join(proc.stdout.split())


def test_ingest_then_query_then_export(initialised, write, tmp_path, cli):
    path = write("h.csv", clean_rows("headcount"))
    loaded = cli("ingest", path, "--submitted-by", "ana@agency.example", "--format", "json")
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["status"] == "loaded"
    again = cli("ingest", path, "--format", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "unchanged"

    rows = clean_rows("headcount")
    rows[1][4] = "9"
    rejected = cli("ingest", write("bad.csv", rows), "--format", "json")
    assert rejected.returncode == 1 and json.loads(rejected.stdout)["status"] == "rejected"

    out = cli("query", "select report, status, submitted_by from submissions order by submission_id",
              "--format", "json")
    assert out.returncode == 0, out.stderr
    # rejections are published too (the submission history reads their findings from the snapshot)
    assert json.loads(out.stdout) == [
        {"report": "headcount", "status": "accepted", "submitted_by": "ana@agency.example"},
        {"report": "headcount", "status": "rejected", "submitted_by": None}]
    csv_out = cli("query", "select sum(headcount) as people from headcount", "--format", "csv")
    assert csv_out.stdout.split() == ["people", "16"]

    refused = cli("query", "drop table headcount")
    assert refused.returncode == 1 and "not allowed" in refused.stderr

    exported = cli("export", tmp_path / "parquet")
    assert exported.returncode == 0, exported.stderr
    import duckdb

    n = duckdb.sql(f"select count(*) from '{tmp_path / 'parquet' / 'headcount.parquet'}'").fetchall()[0][0]
    assert n == 3
    assert (tmp_path / "parquet" / "README.md").read_text().count("## ") >= 10


def test_init_reports_creation_then_up_to_date(env, cli):
    first = cli("init")
    assert first.returncode == 0 and "Created" in first.stdout
    second = cli("init")
    assert second.returncode == 0 and "up to date" in second.stdout


def test_text_report_prints_user_text_literally(initialised, write, cli):
    """Markup-like text in a file name or a cell is shown as typed, never interpreted or crashing."""
    rows = clean_rows("headcount")
    rows[1][8] = "[bold]GRANT[/]"
    proc = cli("validate", write("[red]q1.csv", rows))
    assert proc.returncode == 1, proc.stderr
    assert "[red]q1.csv" in proc.stdout and "[BOLD]GRANT[/]" in proc.stdout


def test_exit_codes_through_a_real_process(env, write):
    """`python -m pipelines` hands its exit code to the operating system: 0 done, 1 refused, 2 unusable."""
    created = python_m_pipelines("init")
    assert created.returncode == 0 and "Created" in created.stdout, created.stderr
    refused = python_m_pipelines("query", "drop table headcount")
    assert refused.returncode == 1 and "not allowed" in refused.stderr, refused.stderr
    unusable = python_m_pipelines("validate", write("good.csv", clean_rows("headcount")), "--quarter", "Q1-2026")
    assert unusable.returncode == 2 and "Q1-2026" in unusable.stderr, unusable.stderr
