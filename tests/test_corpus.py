"""Every file in tests/corpus/ through `python -m pipelines validate` (a subprocess, as agencies' IT runs it).

Each file gets an answer: exit 0 (accepted, values as written), 1 (findings naming row and column) or 2 (a plain
reason); never a traceback. The crafted files (tests/corpus/crafted/, see the README there) each expect a
specific outcome; the real files (tests/corpus/real/) are other projects' test files and are run both as they
are and forced through a report kind (headcount or billing, alternately).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import AS_OF, CLEAN, FIXTURES, csv_bytes

CORPUS = Path(__file__).parent / "corpus"
CRAFTED = CORPUS / "crafted"
REAL = CORPUS / "real"
ROOT = Path(__file__).parent.parent

# file -> (exit code, [(code, row, column)] that must be among the errors, [(code, row)] among the warnings)
EXPECTED: dict[str, tuple[int, list[tuple], list[tuple]]] = {
    "billing_quarter_na.csv": (1, [("bad-format", 3, "quarter")], []),
    "headcount_total_row.csv": (1, [("bad-format", 5, "quarter")], []),
    "headcount_second_header_title_case.csv": (0, [], [("repeated-header", 4)]),
    "headcount_two_excel_csv_utf8_files.csv": (0, [], [("repeated-header", 4)]),
    "billing_control_char_0x1f.csv": (1, [("bad-format", 3, "payer_id")], []),
    "headcount_german_export_title.csv": (0, [], []),
    "certification_two_digit_years.csv": (1, [("type-error", 2, "issue_date"), ("type-error", 2, "expiration_date")],
                                          []),
    "certification_zero_dates.csv": (1, [("type-error", r, "issue_date") for r in (2, 3, 4)], []),
    "certification_future_issue.csv": (1, [("issue-date-in-future", 2, "issue_date")], []),
    "certification_excel_dates.xlsx": (1, [("type-error", 3, "issue_date")], []),
    "billing_payer_id_injection.csv": (1, [("bad-format", r, "payer_id") for r in range(2, 9)], []),
    "billing_mixed_utf8_cp1252.csv": (2, [("encoding-error", None, None)], []),
    "headcount_spacer_column.csv": (0, [], []),
    "headcount_hidden_first_sheet.xlsx": (0, [], []),
    "billing_bad_modifier.csv": (1, [("unknown-billing-code", 2, "modifier")], []),
    "empty_workbook.xlsx": (2, [("empty-file", None, None)], []),
}


@pytest.fixture(scope="module")
def corpus_env(tmp_path_factory):
    """A warehouse with the fixture reference data and two quarters of AG0001's reports, so that reference
    and cross-report checks run against real rows."""
    from pipelines import warehouse
    from pipelines.ingest import ingest

    folder = tmp_path_factory.mktemp("corpus")
    env = {**os.environ, "PEER_DB": str(folder / "warehouse.duckdb"),
           "PEER_SNAPSHOT": str(folder / "published" / "warehouse.duckdb"), "PEER_AS_OF": AS_OF}
    with pytest.MonkeyPatch.context() as mp:
        for k in ("PEER_DB", "PEER_SNAPSHOT", "PEER_AS_OF"):
            mp.setenv(k, env[k])
        con = warehouse.connect(folder / "warehouse.duckdb")
        warehouse.init(con)
        warehouse.load_reference(con, FIXTURES / "reference")
        for kind in ("headcount", "certification", "retention"):
            for quarter in ("2025-Q4", "2026-Q1"):
                rows = [r if i == 0 else [c.replace("2026-Q1", quarter) for c in r]
                        for i, r in enumerate(CLEAN[kind])]
                if kind == "retention" and quarter == "2025-Q4":
                    rows = [rows[0]] + [[*r[:4], "2025-11-10", "2025-11-10" if r[3] == "HIRE" else r[5], *r[6:]]
                                        for r in rows[1:]]
                path = folder / f"{kind}_{quarter}.csv"
                path.write_bytes(csv_bytes(rows))
                assert ingest(con, path, kind=kind).status == "loaded"
        con.close()
    return env


def _validate(env: dict, path: Path, *extra: str) -> tuple[int, dict | None, str]:
    proc = subprocess.run([sys.executable, "-m", "pipelines", "validate", str(path), "--format", "json", *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        doc = None
    return proc.returncode, (doc[0] if isinstance(doc, list) else doc), proc.stderr


def _run_all(env: dict, jobs: list[tuple[Path, tuple[str, ...]]]) -> list[tuple[int, dict | None, str]]:
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        return list(pool.map(lambda job: _validate(env, job[0], *job[1]), jobs))


def _assert_answered(name: str, code: int, doc: dict | None, stderr: str) -> None:
    assert "Traceback" not in stderr, f"{name}: {stderr[-2000:]}"
    assert code in (0, 1, 2), f"{name}: exit {code}: {stderr[-2000:]}"
    assert doc is not None, f"{name}: no JSON report; stderr: {stderr[-2000:]}"
    assert (code == 0) == doc["valid"], name
    if code:
        assert doc["errors"], name
        for e in doc["errors"]:
            assert e["message"] and "raise_if_empty" not in e["message"] and "polars" not in e["message"].lower()


def test_every_crafted_file_is_listed():
    files = {p.name for p in CRAFTED.iterdir() if p.suffix in (".csv", ".xlsx")}
    assert files == set(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    for p in [*CRAFTED.iterdir(), *REAL.iterdir()]:
        assert p.name in readme, f"{p.name} is not described in tests/corpus/README.md"


def test_crafted_files_get_their_expected_answer(corpus_env):
    names = sorted(EXPECTED)
    for name, (code, doc, stderr) in zip(names, _run_all(corpus_env, [(CRAFTED / n, ()) for n in names])):
        want_code, want_errors, want_warnings = EXPECTED[name]
        _assert_answered(name, code, doc, stderr)
        assert code == want_code, f"{name}: exit {code}, want {want_code}: {doc['errors'][:5]}"
        errors = {(e["code"], e["row"], e["column"]) for e in doc["errors"]}
        assert set(want_errors) <= errors, f"{name}: {sorted(errors, key=str)}"
        warnings = {(w["code"], w["row"]) for w in doc["warnings"]}
        assert set(want_warnings) <= warnings, f"{name}: {sorted(warnings, key=str)}"
        if want_code == 0:
            assert not doc["errors"], name


def test_real_files_never_crash(corpus_env):
    files = sorted(p for p in REAL.iterdir() if p.name != "README.md")
    jobs = [(p, ()) for p in files] + [(p, ("--report", ("headcount", "billing")[i % 2], "--agency", "AG0001",
                                            "--quarter", "2026-Q1")) for i, p in enumerate(files)]
    for (path, extra), (code, doc, stderr) in zip(jobs, _run_all(corpus_env, jobs)):
        _assert_answered(f"{path.name} {' '.join(extra)}", code, doc, stderr)


def test_accepted_files_keep_values_as_written(corpus_env, tmp_path):
    """The files accepted above load with the values they hold: read back after ingest."""
    import duckdb

    env = {**corpus_env, "PEER_DB": str(tmp_path / "w.duckdb"),
           "PEER_SNAPSHOT": str(tmp_path / "published" / "w.duckdb")}
    import shutil

    shutil.copyfile(corpus_env["PEER_DB"], env["PEER_DB"])
    for name in ("headcount_german_export_title.csv", "headcount_spacer_column.csv",
                 "headcount_hidden_first_sheet.xlsx", "headcount_second_header_title_case.csv",
                 "headcount_two_excel_csv_utf8_files.csv"):
        proc = subprocess.run([sys.executable, "-m", "pipelines", "ingest", str(CRAFTED / name), "--format", "json"],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, f"{name}: {proc.stdout[-1500:]}"
        con = duckdb.connect(env["PEER_DB"], read_only=True)
        rows = con.execute("select role, headcount, headcount_fulltime, fte, vacancies, trained_peer_supervisors, "
                           "primary_funding from headcount where agency_id = 'AG0001' and quarter = '2026-Q1' "
                           "order by role").fetchall()
        con.close()
        assert rows == [("CLINICAL_LICENSED", 10, 8, 9.5, 2, None, "MEDICAID_FFS"),
                        ("PEER_RECOVERY_SUD", 5, 3, 4.5, 1, None, "MEDICAID_MCO"),
                        ("PEER_SUPERVISOR", 1, 1, 1.0, 0, 1, "STATE_GF")], name


def test_excel_date_cells_are_read_as_dates(tmp_path):
    from pipelines.validation import validate

    result = validate(CRAFTED / "certification_excel_dates.xlsx")
    row = result.typed.filter(result.typed["peer_id"] == "P000001").row(0, named=True)
    assert str(row["issue_date"]) == "2025-01-10" and str(row["expiration_date"]) == "2027-01-10"


def test_a_10_mb_payer_id_is_refused_naming_the_cell(corpus_env, tmp_path):
    header = CLEAN["billing"][0]
    row = list(CLEAN["billing"][1])
    row[3] = "A" * (10 * 1024 * 1024)
    path = tmp_path / "billing_huge_id.csv"
    path.write_bytes(csv_bytes([header, row]))
    code, doc, stderr = _validate(corpus_env, path)
    _assert_answered(path.name, code, doc, stderr)
    assert code == 1
    assert ("bad-format", 2, "payer_id") in {(e["code"], e["row"], e["column"]) for e in doc["errors"]}
    assert len(json.dumps(doc)) < 100_000
