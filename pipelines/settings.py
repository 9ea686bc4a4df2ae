"""Settings read from the environment, each with a default (see README, "Settings")."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
REFERENCE_DIR = DATA / "reference"
SAMPLE_DIR = DATA / "sample"
TEMPLATE_DIR = DATA / "templates"
EXPECTATIONS_DIR = ROOT / "expectations"

SETTINGS: dict[str, tuple[str, str]] = {
    "PEER_DB": ("data/warehouse.duckdb", "The warehouse file (read-write, owned by one process)."),
    "PEER_SNAPSHOT": ("data/published/warehouse.duckdb", "Read-only copy for analysts, rewritten after each load."),
    "PEER_AS_OF": ("", "Date (YYYY-MM-DD) used as 'today' by date rules; empty means the real date."),
    "PEER_MAX_UPLOAD_MB": ("50", "Largest file accepted, in megabytes."),
    "PEER_READ_MEMORY_MB": ("4096", "Memory (address space, MB) the child process reading one uploaded file may map."),
    "PEER_READ_TIMEOUT_S": ("120", "Seconds the child process reading one uploaded file may run before it is stopped."),
    "PEER_FINDINGS_DETAIL_CAP": ("10000", "Findings listed row by row per rule; beyond it, counts and a sample."),
    "PEER_SQL_TIMEOUT_S": ("5", "Seconds an analyst's SQL query may run before it is stopped."),
    "PEER_SQL_MAX_ROWS": ("10000", "Rows an analyst's SQL query returns at most; beyond it the result is cut."),
    "PEER_REFERENCE": ("data/reference",
                       "Folder of the state-maintained reference CSVs, reloaded by init and at app start."),
    "PEER_AUDIT": ("", "The audit log's DuckDB file; empty means <warehouse name>.audit.duckdb beside the "
                   "warehouse file (data/warehouse.audit.duckdb)."),
    "PEER_DEMO_MODE": ("on", "on: without a sign-in provider the app runs as a demo (banner, role switcher). "
                       "off: without a provider the app refuses to start."),
    "PEER_WRITE_WAIT_S": ("60", "Seconds a writer (upload, ingest, init) waits in line for another load to finish "
                          "before it says the warehouse is busy."),
    "PEER_PUBLISH_EVERY_S": ("10", "While other loads wait in line, publication of the snapshot is left to the last "
                             "of them, but never for longer than this many seconds after a load committed."),
    "PEER_ORIGINALS": ("", "Folder keeping every uploaded file (accepted or rejected) by sha256; empty means "
                       "originals/ beside the warehouse file."),
}


def get(name: str) -> str:
    return os.environ.get(name) or SETTINGS[name][0]


def _path(name: str) -> Path:
    p = Path(get(name))
    return p if p.is_absolute() else ROOT / p


def db_path() -> Path:
    return _path("PEER_DB")


def reference_dir() -> Path:
    return _path("PEER_REFERENCE")


def snapshot_path() -> Path:
    return _path("PEER_SNAPSHOT")


def originals_dir() -> Path:
    """Where uploaded files are kept; by default beside the warehouse (data/originals/)."""
    return _path("PEER_ORIGINALS") if get("PEER_ORIGINALS") else db_path().parent / "originals"


def audit_path(warehouse: Path | None = None) -> Path:
    """The audit log's file; by default <name>.audit.duckdb beside the warehouse it records (each warehouse
    its own, so two warehouses in one folder never share a log)."""
    if get("PEER_AUDIT"):
        return _path("PEER_AUDIT")
    warehouse = warehouse or db_path()
    return warehouse.with_name(f"{warehouse.stem}.audit.duckdb")


def demo_mode() -> bool:
    return get("PEER_DEMO_MODE").strip().lower() not in ("off", "0", "false", "no")


def as_of() -> dt.date:
    value = get("PEER_AS_OF")
    return dt.date.fromisoformat(value) if value else dt.date.today()


def max_upload_bytes() -> int:
    return int(float(get("PEER_MAX_UPLOAD_MB")) * 1024 * 1024)


def read_memory_bytes() -> int:
    """Address space of the child that parses an upload (see pipelines/bounded_read.py)."""
    return int(float(get("PEER_READ_MEMORY_MB")) * 1024 * 1024)


def read_timeout_s() -> float:
    return float(get("PEER_READ_TIMEOUT_S"))


def findings_detail_cap() -> int:
    return int(get("PEER_FINDINGS_DETAIL_CAP"))


def sql_timeout_s() -> float:
    return float(get("PEER_SQL_TIMEOUT_S"))


def sql_max_rows() -> int:
    return int(get("PEER_SQL_MAX_ROWS"))


def write_wait_s() -> float:
    return float(get("PEER_WRITE_WAIT_S"))


def publish_every_s() -> float:
    return float(get("PEER_PUBLISH_EVERY_S"))
