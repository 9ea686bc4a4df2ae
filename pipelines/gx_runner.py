"""Run a report's Great Expectations suite on a typed frame and turn the results into findings.

A rule's verdict on a row depends only on the values of the columns it reads, so GX validates, for
each group of rules reading the same columns, the distinct combinations of those columns (a 3M-row
file has a few thousand distinct statuses-and-dates, not 3M). Failing combinations are joined back to
the file to name every row that holds them. COMPLETE results are asked for only while the failing
combinations stay under the findings cap; beyond it, GX's first 20 are listed and counted. Severity is
applied here, since GX treats every failed expectation alike.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from typing import Any

import polars as pl

from pipelines.findings import ERROR, WARNING, Finding
from pipelines.reading import ROW
from pipelines.suites import ROWS_WITH_SAME_KEY, load_suite

SAMPLE = 20
KEY = "__combination"
LABELS = {"claims_resolved": "claims_paid + claims_denied", "units_resolved": "units_paid + units_denied",
          "quarter_start": "quarter start", "quarter_end": "quarter end"}
"""How helper columns (see suites.DERIVED) are named in messages."""
_lock = threading.RLock()
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
    if entry:  # pair rules: show both sides
        return ", ".join(f"{LABELS.get(k, k)} = {_plain(v)}" for k, v in entry.items())
    return {"value-not-allowed": f"'{value}' is not an allowed value",
            "out-of-range": f"{value} is out of range",
            "bad-format": f"'{value}' is not in the expected format"}.get(code, f"'{value}' is not valid")


def _columns(cfg) -> tuple[str, ...]:
    """Columns an expectation reads, including its row condition's column."""
    kw = cfg.kwargs
    cols = [kw[k] for k in ("column", "column_A", "column_B") if k in kw] + list(kw.get("column_list", []))
    condition = kw.get("row_condition")
    if condition is not None:
        name = condition["column"]["name"] if isinstance(condition, dict) else condition.column.name
        cols.append(name)
    return tuple(dict.fromkeys(cols))


def _validate(frame: pl.DataFrame, expectations: list, result_format: str, name: str):
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    fmt = {"result_format": result_format, "unexpected_index_column_names": [KEY],
           "partial_unexpected_count": SAMPLE, "return_unexpected_index_query": False}
    with _lock:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame.to_pandas()})
        return batch.validate(suite, result_format=fmt).results


def run(kind: str, typed: pl.DataFrame, cap: int) -> tuple[list[Finding], dict[str, int]]:
    """Findings for the frame, plus per code the number of failures beyond those listed."""
    groups: dict[tuple[str, ...], list] = {}
    for expectation in _suite(kind).expectations:
        cfg = expectation.configuration
        groups.setdefault(_columns(cfg), []).append(cfg)
    findings: list[Finding] = []
    overflow: dict[str, int] = {}
    for cols, configs in groups.items():
        distinct = typed.select(cols).unique(maintain_order=True).with_row_index(KEY)
        results = _validate(distinct, [c.to_domain_obj() for c in configs], "SUMMARY", f"{kind}-{cols[0]}")
        failed = [r for r in results if not r.success]
        if not failed:
            continue
        if sum((r.result or {}).get("unexpected_count") or 0 for r in failed) <= cap:
            failed = [r for r in _validate(distinct, [r.expectation_config.to_domain_obj() for r in failed],
                                           "COMPLETE", f"{kind}-{cols[0]}-failed") if not r.success]
        for r in failed:
            _collect(r, typed, distinct, cols, cap, findings, overflow)
    return findings, overflow


def _collect(r, typed: pl.DataFrame, distinct: pl.DataFrame, cols: tuple[str, ...], cap: int,
             findings: list[Finding], overflow: dict[str, int]) -> None:
    """Turn one failed expectation on distinct values into findings on the rows of the file."""
    cfg = r.expectation_config
    meta = cfg.meta or {}
    code, column, fix = meta.get("code", cfg.type), meta.get("column"), meta.get("fix", "")
    severity = WARNING if str(getattr(cfg.severity, "value", cfg.severity)) == "warning" else ERROR
    res = r.result or {}
    if not res and r.exception_info:
        raise RuntimeError(f"Validation rule {cfg.type} on {column} could not run: {r.exception_info}")
    entries = res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or []
    complete = "unexpected_index_list" in res
    keys = pl.DataFrame({KEY: [int(_plain(e[KEY])) for e in entries]}, schema={KEY: pl.UInt32})
    bad = distinct.join(keys, on=KEY).drop(KEY)
    shown = [c for c in dict.fromkeys([*cols, column]) if c in typed.columns and c != ROWS_WITH_SAME_KEY]
    rows = typed.join(bad, on=list(cols), nulls_equal=True).select(ROW, *shown).sort(ROW)
    room = max(cap - len(findings), 0)
    pair = "column_A" in cfg.kwargs
    for values in rows.head(room).iter_rows(named=True):
        row = values[ROW]
        value = _plain(values.get(column))
        detail = {k: values[k] for k in (cfg.kwargs["column_A"], cfg.kwargs["column_B"])} if pair else {}
        findings.append(Finding(code, f"Row {row}, column {column}: {_describe(cfg.type, code, value, detail)}. "
                                f"{fix}", row=row, column=column, value=value, severity=severity))
    total = rows.height if complete else max(rows.height, res.get("unexpected_count") or 0)
    listed = min(rows.height, room)
    if total > listed:
        overflow[code] = overflow.get(code, 0) + total - listed
