"""Run a report's Great Expectations suite on a typed frame and turn the results into findings.

Two passes keep large files fast: SUMMARY (counts plus the first 20 failing rows per rule) on the
whole frame, then COMPLETE only for the failing rules and only while the failures stay under the
findings cap. Severity is applied here, since GX treats every failed expectation alike.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from typing import Any

import polars as pl

from pipelines.findings import ERROR, WARNING, Finding
from pipelines.reading import ROW
from pipelines.suites import load_suite

SAMPLE = 20
LABELS = {"claims_resolved": "claims_paid + claims_denied", "units_resolved": "units_paid + units_denied",
          "quarter_start": "quarter start", "quarter_end": "quarter end"}
"""How helper columns (see suites.DERIVED) are named in messages."""
_lock = threading.Lock()
_state: dict[str, Any] = {}


def warm_up() -> None:
    """Import GX and build the context (2-5 s once per process); safe to call from a background thread."""
    _batch_definition()


def _batch_definition():
    with _lock:
        if "batch" not in _state:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            source = ctx.data_sources.add_pandas("uploads")
            _state["batch"] = source.add_dataframe_asset("upload").add_batch_definition_whole_dataframe("whole")
            _state["suites"] = {}
        return _state["batch"]


def _suite(kind: str):
    _batch_definition()
    with _lock:
        if kind not in _state["suites"]:
            _state["suites"][kind] = load_suite(kind)
        return _state["suites"][kind]


def _plain(value: Any) -> Any:
    """JSON-friendly scalar: numpy and pandas types to Python, NaN/NaT to None, dates to ISO text."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        try:
            if value != value:  # NaT
                return None
        except TypeError:
            pass
        return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _describe(kind: str, code: str, value: Any, entry: dict) -> str:
    if kind == "expect_column_values_to_not_be_null":
        return "is empty"
    if kind == "expect_column_values_to_be_null":
        return f"'{value}' should be empty"
    if code == "duplicate-row":
        return "repeats another row with the same key"
    if len(entry) > 2:  # pair rules: show both sides
        return ", ".join(f"{LABELS.get(k, k)} = {_plain(v)}" for k, v in entry.items() if k != ROW)
    return {"value-not-allowed": f"'{value}' is not an allowed value",
            "out-of-range": f"{value} is out of range",
            "bad-format": f"'{value}' is not in the expected format"}.get(code, f"'{value}' is not valid")


def run(kind: str, typed: pl.DataFrame, cap: int) -> tuple[list[Finding], dict[str, int]]:
    """Findings for the frame, plus per code the number of failures beyond those listed."""
    import great_expectations as gx

    suite = _suite(kind)
    batch_def = _batch_definition()
    frame = typed.to_pandas()
    fmt = {"result_format": "SUMMARY", "unexpected_index_column_names": [ROW], "partial_unexpected_count": SAMPLE,
           "return_unexpected_index_query": False}
    with _lock:
        result = batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=fmt)
    failed = [r for r in result.results if not r.success]
    total = sum((r.result or {}).get("unexpected_count") or 0 for r in failed)
    if failed and SAMPLE < total <= cap:
        subset = gx.ExpectationSuite(name=f"{kind}-failed", expectations=[
            r.expectation_config.to_domain_obj() for r in failed])
        with _lock:
            result = batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(
                subset, result_format={**fmt, "result_format": "COMPLETE"})
        failed = [r for r in result.results if not r.success]
    findings: list[Finding] = []
    overflow: dict[str, int] = {}
    for r in failed:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        code, column, fix = meta.get("code", cfg.type), meta.get("column"), meta.get("fix", "")
        severity = WARNING if str(getattr(cfg.severity, "value", cfg.severity)) == "warning" else ERROR
        res = r.result or {}
        if not res and r.exception_info:
            raise RuntimeError(f"Validation rule {cfg.type} on {column} could not run: {r.exception_info}")
        entries = res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or []
        for entry in entries:
            row = int(_plain(entry[ROW]))
            value = _plain(entry.get(column))
            findings.append(Finding(code, f"Row {row}, column {column}: {_describe(cfg.type, code, value, entry)}. "
                                    f"{fix}", row=row, column=column, value=value, severity=severity))
        extra = (res.get("unexpected_count") or 0) - len(entries)
        if extra > 0:
            overflow[code] = overflow.get(code, 0) + extra
    return findings, overflow
