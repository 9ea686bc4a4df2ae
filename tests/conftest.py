"""Shared fixtures: a real DuckDB warehouse in a temp dir with small, hand-made reference data."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse

FIXTURES = Path(__file__).parent / "fixtures"
AS_OF = "2026-11-01"

CLEAN = {
    "headcount": [
        ["agency_id", "quarter", "role", "headcount", "headcount_fulltime", "fte", "vacancies",
         "trained_peer_supervisors", "primary_funding"],
        ["AG0001", "2026-Q1", "PEER_RECOVERY_SUD", "5", "3", "4.5", "1", "", "MEDICAID_MCO"],
        ["AG0001", "2026-Q1", "PEER_SUPERVISOR", "1", "1", "1", "0", "1", "STATE_GF"],
        ["AG0001", "2026-Q1", "CLINICAL_LICENSED", "10", "8", "9.5", "2", "", "MEDICAID_FFS"],
    ],
    "certification": [
        ["agency_id", "quarter", "peer_id", "role", "credential_code", "status", "issue_date", "expiration_date",
         "training_hours", "supervised_hours", "ce_hours_cycle"],
        ["AG0001", "2026-Q1", "P000001", "PEER_RECOVERY_SUD", "CPRS", "CERTIFIED_ACTIVE", "2025-01-10",
         "2027-01-10", "46", "500", "10"],
        ["AG0001", "2026-Q1", "P000002", "PEER_RECOVERY_SUD", "NONE", "IN_TRAINING", "", "", "20", "0", "0"],
        ["AG0001", "2026-Q1", "P000003", "PEER_RECOVERY_SUD", "CPRS", "PROVISIONAL", "2025-11-01", "2026-11-01",
         "46", "120", "0"],
    ],
    "billing": [
        ["agency_id", "quarter", "payer_type", "payer_id", "hcpcs", "modifier", "claims_submitted", "claims_paid",
         "claims_denied", "units_billed", "units_paid", "units_denied", "amount_billed", "amount_paid",
         "unique_beneficiaries"],
        ["AG0001", "2026-Q1", "MCO", "MCO-A", "H0038", "", "120", "100", "12", "900", "780", "90", "$16,650.00",
         "$14,430.00", "85"],
        ["AG0001", "2026-Q1", "MCO", "MCO-A", "H0038", "HQ", "30", "28", "2", "400", "380", "20", "1900",
         "1805", "40"],
    ],
    "retention": [
        ["agency_id", "quarter", "peer_id", "event", "event_date", "hire_date", "employment_type",
         "hourly_wage_band", "separation_type", "separation_reason"],
        ["AG0001", "2026-Q1", "P000003", "HIRE", "2026-02-10", "2026-02-10", "FT", "18-20.99", "", ""],
        ["AG0001", "2026-Q1", "P000004", "SEPARATION", "2026-03-01", "2024-06-01", "PT", "15-17.99", "VOLUNTARY",
         "BURNOUT"],
    ],
}


def csv_bytes(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode()


def clean_rows(kind: str) -> list[list[str]]:
    return [list(r) for r in CLEAN[kind]]


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Point every setting at the temp dir and pin 'today'."""
    monkeypatch.setenv("PEER_DB", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("PEER_SNAPSHOT", str(tmp_path / "published" / "warehouse.duckdb"))
    monkeypatch.setenv("PEER_AS_OF", AS_OF)
    return tmp_path


@pytest.fixture
def con(env):
    """A fresh warehouse holding the fixture reference tables."""
    connection = warehouse.connect(env / "warehouse.duckdb")
    warehouse.init(connection)
    warehouse.load_reference(connection, FIXTURES / "reference")
    yield connection
    connection.close()


@pytest.fixture
def write(tmp_path):
    """Write rows (or bytes) to a file in the temp dir and return its path."""

    def _write(name: str, content: list[list[str]] | bytes, **kw) -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else csv_bytes(content, **kw))
        return path

    return _write


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """The demo state built once through the real validate+load path; yields the warehouse path."""
    from pipelines.demo_load import build_demo

    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEER_SNAPSHOT", str(folder / "published" / "warehouse.duckdb"))
        mp.delenv("PEER_AS_OF", raising=False)
        summary = build_demo(db=folder / "warehouse.duckdb")
    assert summary["rejected"] == 0 and summary["loaded"] > 0
    return folder / "warehouse.duckdb"


@pytest.fixture
def demo_env(demo_warehouse, tmp_path, monkeypatch):
    """A private copy of the demo warehouse, with every setting pointing at it."""
    import shutil

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, db)
    (tmp_path / "published").mkdir()
    shutil.copyfile(demo_warehouse.parent / "published" / "warehouse.duckdb",
                    tmp_path / "published" / "warehouse.duckdb")
    monkeypatch.setenv("PEER_DB", str(db))
    monkeypatch.setenv("PEER_SNAPSHOT", str(tmp_path / "published" / "warehouse.duckdb"))
    monkeypatch.delenv("PEER_AS_OF", raising=False)
    return db


@pytest.fixture(autouse=True, scope="session")
def _route_with_navigation():
    """AppTest, like `python -m dashboard.serve`, always runs app.py's st.navigation router, never the
    legacy auto-discovery of pages/ (which would run a page without the router and its filters)."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    yield
    PagesManager.__init__ = original


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright drives Debian's chromium (its own browser download does not work here)."""
    from tests.browser import CHROMIUM, LAUNCH_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": LAUNCH_ARGS}


def audit_events(db: Path, action: str) -> list[tuple]:
    """(actor, role, target, detail) of one action in the audit log of the warehouse `db`, oldest first. The
    file is read through a copy (with its write-ahead log): a running app holds it open."""
    source = db.with_name(f"{db.stem}.audit.duckdb")
    if not source.exists():
        return []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "audit.duckdb"
        shutil.copyfile(source, copy)
        if source.with_name(source.name + ".wal").exists():
            shutil.copyfile(source.with_name(source.name + ".wal"), copy.with_name("audit.duckdb.wal"))
        with duckdb.connect(str(copy)) as con:
            return con.execute("select actor, role, target, detail from audit_log where action = ? "
                               "order by event_id", [action]).fetchall()


@pytest.fixture
def cli(monkeypatch):
    """Run the command line in this process, as `python -m pipelines ARGS` would, with typer's test runner
    (a child process costs seconds of imports, Great Expectations' alone about 4 s). Returns a
    subprocess.CompletedProcess: returncode, stdout, stderr. Settings are read from the environment when a
    command runs, so set them with monkeypatch. An exception the CLI does not turn into an exit code fails
    the test instead of passing for exit 1 (a refusal's code)."""
    import gc
    import subprocess

    from rich.console import Console
    from typer.testing import CliRunner

    from pipelines import cli as command_line

    # The module's consoles chose colours for the terminal pytest was started from; these write like the
    # CLI does into a pipe: no colour codes, no progress bars.
    monkeypatch.setattr(command_line, "out", Console(force_terminal=False))
    monkeypatch.setattr(command_line, "err", Console(stderr=True, force_terminal=False))
    notices = list(warehouse.NOTICES)
    runner = CliRunner()

    def run(*args) -> subprocess.CompletedProcess:
        argv = [str(a) for a in args]
        result = runner.invoke(command_line.app, argv, catch_exceptions=False)
        done = subprocess.CompletedProcess(argv, result.exit_code, result.stdout, result.stderr)
        del result
        gc.collect()  # what a command left open (a connection held by its exit's traceback) closes, as at exit
        return done

    yield run
    warehouse.NOTICES[:] = notices  # what commands noted stays out of later tests
