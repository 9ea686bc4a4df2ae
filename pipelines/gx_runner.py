"""Run a report's Great Expectations suite on a typed frame and turn the results into findings.

A rule's verdict on a row depends only on the values of the columns it reads, so each group of rules
reading the same columns is checked on the distinct combinations of those columns (a 3M-row file has a
few thousand distinct statuses-and-dates, not 3M). Failing combinations are joined back to the file to
name every row that holds them. Every failing combination is listed while their number stays under the
findings cap; beyond it, the first 20 per rule are listed and the rest counted. Severity is applied here,
since GX treats every failed expectation alike.

The suites are evaluated by `value_rules` (polars, the same JSON, GX's semantics) unless a group holds a
rule it does not know: that group goes through GX, which is then imported (2-5 s) for the first time.
`run(..., engine="gx")` sends every group through GX: the reference the equivalence tests compare with.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines import value_rules
from pipelines.contracts import REPORTS
from pipelines.findings import ERROR, WARNING, Finding
from pipelines.reading import ROW
from pipelines.suites import ROWS_WITH_SAME_KEY

SAMPLE = 20
KEY = "__combination"
LABELS = {"claims_resolved": "claims_paid + claims_denied", "units_resolved": "units_paid + units_denied",
          "quarter_start": "quarter start", "quarter_end": "quarter end"}
"""How helper columns (see suites.DERIVED) are named in messages."""
_lock = threading.RLock()
_state: dict[str, Any] = {}


@dataclass
class Verdict:
    """One failed rule on a group's distinct combinations: which ones failed (all, or the first SAMPLE)."""

    rule: dict
    """The expectation as stored in the suite: type, kwargs, meta, severity."""
    keys: pl.Series
    complete: bool
    unexpected_count: int


def warm_up() -> None:
    """Read every report's suite; import GX and build its context (2-5 s) only if some rule needs GX.

    Safe to call from a background thread."""
    for kind in REPORTS:
        for rule in value_rules.load(kind):
            try:
                value_rules.check(rule)
            except value_rules.Unsupported:
                _batch_definition()
                return


def _batch_definition():
    with _lock:
        if "batch" not in _state:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            source = ctx.data_sources.add_pandas("uploads")
            _state["batch"] = source.add_dataframe_asset("upload").add_batch_definition_whole_dataframe("whole")
        return _state["batch"]


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


def _validate(frame: pl.DataFrame, expectations: list, result_format: str, name: str):
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    fmt = {"result_format": result_format, "unexpected_index_column_names": [KEY],
           "partial_unexpected_count": SAMPLE, "return_unexpected_index_query": False}
    with _lock:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame.to_pandas()})
        return batch.validate(suite, result_format=fmt).results


def run(kind: str, typed: pl.DataFrame, cap: int, engine: str = "auto") -> tuple[list[Finding], dict[str, int]]:
    """Findings for the frame, plus per code the number of failures beyond those listed.

    engine "auto": value_rules, and GX for a group holding a rule value_rules does not know; "gx": GX only.
    """
    if engine not in ("auto", "gx"):
        raise ValueError(f"unknown engine {engine!r}")
    groups: dict[tuple[str, ...], list[dict]] = {}
    for rule in value_rules.load(kind):
        groups.setdefault(value_rules.columns(rule), []).append(rule)
    findings: list[Finding] = []
    overflow: dict[str, int] = {}
    distincts = pl.collect_all([typed.lazy().select(cols).unique(maintain_order=True).with_row_index(KEY)
                                for cols in groups])  # one parallel pass over the file
    for (cols, rules), distinct in zip(groups.items(), distincts):
        verdicts = None
        if engine == "auto":
            try:
                verdicts = _polars_verdicts(distinct, rules, cap)
            except value_rules.Unsupported:
                verdicts = None
        if verdicts is None:
            verdicts = _gx_verdicts(distinct, rules, cap, f"{kind}-{cols[0]}")
        for verdict in verdicts:
            _collect(verdict, typed, distinct, cols, cap, findings, overflow)
    return findings, overflow


def _polars_verdicts(distinct: pl.DataFrame, rules: list[dict], cap: int) -> list[Verdict]:
    masks = value_rules.unexpected(distinct, rules)
    failed = [(rule, distinct.get_column(KEY).filter(mask)) for rule, mask in zip(rules, masks) if mask.any()]
    complete = sum(keys.len() for _, keys in failed) <= cap
    return [Verdict(rule, keys if complete else keys.head(SAMPLE), complete, keys.len()) for rule, keys in failed]


def _gx_verdicts(distinct: pl.DataFrame, rules: list[dict], cap: int, name: str) -> list[Verdict]:
    """GX's SUMMARY first; COMPLETE results for the failed rules only while their failures stay under the cap."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = [ExpectationConfiguration(type=r["type"], kwargs=r["kwargs"], meta=r.get("meta"),
                                             severity=r.get("severity", "critical")).to_domain_obj() for r in rules]
    failed = [r for r in _validate(distinct, expectations, "SUMMARY", name) if not r.success]
    if failed and sum((r.result or {}).get("unexpected_count") or 0 for r in failed) <= cap:
        failed = [r for r in _validate(distinct, [r.expectation_config.to_domain_obj() for r in failed],
                                       "COMPLETE", f"{name}-failed") if not r.success]
    return [_verdict(r) for r in failed]


def _verdict(r) -> Verdict:
    cfg = r.expectation_config
    rule = {"type": cfg.type, "kwargs": dict(cfg.kwargs), "meta": cfg.meta or {},
            "severity": str(getattr(cfg.severity, "value", cfg.severity))}
    res = r.result or {}
    if not res and r.exception_info:
        raise RuntimeError(f"Validation rule {cfg.type} on {rule['meta'].get('column')} could not run: "
                           f"{r.exception_info}")
    entries = res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or []
    keys = pl.Series(KEY, [int(_plain(e[KEY])) for e in entries], dtype=pl.UInt32)
    return Verdict(rule, keys, "unexpected_index_list" in res, res.get("unexpected_count") or 0)


def _collect(verdict: Verdict, typed: pl.DataFrame, distinct: pl.DataFrame, cols: tuple[str, ...], cap: int,
             findings: list[Finding], overflow: dict[str, int]) -> None:
    """Turn one failed rule on distinct values into findings on the rows of the file."""
    rule, kw = verdict.rule, verdict.rule["kwargs"]
    meta = rule.get("meta") or {}
    code, column, fix = meta.get("code", rule["type"]), meta.get("column"), meta.get("fix", "")
    severity = WARNING if rule.get("severity") == "warning" else ERROR
    bad = distinct.join(verdict.keys.alias(KEY).to_frame(), on=KEY).drop(KEY)
    shown = [c for c in dict.fromkeys([*cols, column]) if c in typed.columns and c != ROWS_WITH_SAME_KEY]
    rows = typed.join(bad, on=list(cols), nulls_equal=True).select(ROW, *shown).sort(ROW)
    room = max(cap - len(findings), 0)
    pair = "column_A" in kw
    for values in rows.head(room).iter_rows(named=True):
        row = values[ROW]
        value = _plain(values.get(column))
        detail = {k: values[k] for k in (kw["column_A"], kw["column_B"])} if pair else {}
        findings.append(Finding(code, f"Row {row}, column {column}: {_describe(rule['type'], code, value, detail)}. "
                                f"{fix}", row=row, column=column, value=value, severity=severity))
    total = rows.height if verdict.complete else max(rows.height, verdict.unexpected_count)
    listed = min(rows.height, room)
    if total > listed:
        overflow[code] = overflow.get(code, 0) + total - listed
