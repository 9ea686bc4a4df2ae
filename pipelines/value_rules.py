"""The reports' Great Expectations suites evaluated in polars, without importing Great Expectations.

The suites (expectations/<report>.json, built by pipelines/suites.py) stay the only definition of the value
rules: this module reads that JSON and tells, for each expectation, which rows of a frame GX would call
unexpected, with the semantics of GX's pandas engine on `frame.to_pandas()`:

- column rules skip empty cells (nulls and float NaN), except the null rules themselves;
- a pair rule with `ignore_row_if="either_value_is_missing"` skips rows where either side is empty;
- a `row_condition` keeps rows as pandas' `DataFrame.query` does: an empty cell fails ==, <, >, IN and
  passes != and NOT_IN;
- `match_regex` is Python's `re.search` on the text (what `Series.str.contains` means);
- an integer column holding a null becomes float64 in pandas, so it is compared as Float64 here too.

Whatever is not known here (an expectation type, an argument, a condition, a column type) raises
`Unsupported`, and gx_runner runs those rules through GX itself: a rule is never skipped.
"""

from __future__ import annotations

import json
import math
import re
import threading

import polars as pl

from pipelines.suites import suite_path

PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
ARGUMENTS = {
    "expect_column_values_to_not_be_null": {"column"},
    "expect_column_values_to_be_null": {"column"},
    "expect_column_values_to_be_in_set": {"column", "value_set"},
    "expect_column_values_to_be_between": {"column", "min_value", "max_value", "strict_min", "strict_max"},
    "expect_column_values_to_match_regex": {"column", "regex"},
    PAIR: {"column_A", "column_B", "or_equal", "ignore_row_if"},
}
"""Expectation types evaluated here, with the arguments understood (any other argument goes to GX)."""
OPERATORS = {"==", "!=", "<", "<=", ">", ">=", "IN", "NOT_IN"}
EMPTY_PASSES = {"!=", "NOT_IN"}
"""Comparisons an empty cell passes in pandas' query (NaN != x is true); it fails all the others."""
LARGEST_EXACT = 2**53
_lock = threading.Lock()
_suites: dict[str, list[dict]] = {}


class Unsupported(Exception):
    """A rule (or a column it reads) that only GX evaluates."""


def load(kind: str) -> list[dict]:
    """The report's expectations as stored: dicts of type, kwargs, meta and severity, in suite order."""
    with _lock:
        if kind not in _suites:
            _suites[kind] = json.loads(suite_path(kind).read_text())["expectations"]
        return _suites[kind]


def columns(rule: dict) -> tuple[str, ...]:
    """Columns a rule reads, its row condition's included."""
    kw = rule["kwargs"]
    cols = [kw[k] for k in ("column", "column_A", "column_B") if k in kw] + list(kw.get("column_list", []))
    return tuple(dict.fromkeys(cols + _condition_columns(kw.get("row_condition"))))


def _condition_columns(condition) -> list[str]:
    if not isinstance(condition, dict):
        return []
    own = [condition["column"]["name"]] if isinstance(condition.get("column"), dict) else []
    return own + [c for sub in condition.get("conditions", []) for c in _condition_columns(sub)]  # and / or


def check(rule: dict) -> None:
    """Raise Unsupported unless the rule's type, arguments and condition are evaluated here."""
    kind, kw = rule.get("type"), rule.get("kwargs", {})
    if kind not in ARGUMENTS or set(kw) - ARGUMENTS[kind] - {"row_condition"}:
        raise Unsupported(f"{kind} with {sorted(kw)}")
    if kw.get("row_condition") is not None:
        _check_condition(kw["row_condition"])
    if kind == PAIR and kw.get("ignore_row_if") != "either_value_is_missing":
        raise Unsupported(f"ignore_row_if={kw.get('ignore_row_if')!r}")
    if kind == "expect_column_values_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if (lo is None and hi is None) or not all(_exact_number(b) for b in (lo, hi) if b is not None) \
                or (lo is not None and hi is not None and lo > hi):
            raise Unsupported(f"bounds {lo!r}, {hi!r}")
    if kind == "expect_column_values_to_be_in_set" and not (
            isinstance(kw.get("value_set"), list) and all(isinstance(v, str) for v in kw["value_set"])):
        raise Unsupported("value_set must be a list of text")
    if kind == "expect_column_values_to_match_regex":
        try:
            re.compile(kw.get("regex"))
        except (TypeError, re.error) as exc:
            raise Unsupported(f"regex {kw.get('regex')!r}") from exc


def _check_condition(condition) -> None:
    """Only comparisons (what the suites write); and / or / nullity / pandas text go to GX."""
    if not isinstance(condition, dict) or condition.get("type") != "comparison" \
            or condition.get("operator") not in OPERATORS or not isinstance(condition.get("column"), dict):
        raise Unsupported(f"condition {condition!r}")


def _exact_number(value) -> bool:
    """A bound compared alike by numpy and polars (no bool, no NaN, floats within exact integers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not (isinstance(value, float) and (math.isnan(value) or abs(value) >= LARGEST_EXACT))


def unexpected(frame: pl.DataFrame, rules: list[dict]) -> list[pl.Series]:
    """For each rule, a boolean per row of the frame: True where GX would report the row as unexpected."""
    for rule in rules:
        check(rule)
    if not rules:
        return []
    exprs = [(_domain(frame, r["kwargs"].get("row_condition")) & _failing(frame, r)).alias(str(i))
             for i, r in enumerate(rules)]
    return frame.select(exprs).get_columns()


def _value(frame: pl.DataFrame, name: str) -> tuple[pl.Expr, str]:
    """The column as GX's pandas engine sees it (NaN empty, integers with an empty cell as floats) and its
    family: number, text, date, null or other."""
    if name not in frame.columns:
        raise Unsupported(f"no column {name}")
    dtype, col = frame.schema[name], pl.col(name)
    if dtype.is_float():
        return col.fill_nan(None), "number"
    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32):
        return (col.cast(pl.Float64) if frame[name].null_count() else col), "number"
    family = {pl.String: "text", pl.Date: "date", pl.Null: "null"}.get(dtype, "other")
    return col, family


def _failing(frame: pl.DataFrame, rule: dict) -> pl.Expr:
    kind, kw = rule["type"], rule["kwargs"]
    if kind == PAIR:
        (a, fa), (b, fb) = _value(frame, kw["column_A"]), _value(frame, kw["column_B"])
        if "null" in (fa, fb):
            return pl.lit(False)
        if fa != fb or fa not in ("number", "text", "date"):
            raise Unsupported(f"{kw['column_A']} ({fa}) against {kw['column_B']} ({fb})")
        holds = a >= b if kw.get("or_equal") else a > b
        return (a.is_not_null() & b.is_not_null() & ~holds).fill_null(False)
    value, family = _value(frame, kw["column"])
    if kind == "expect_column_values_to_not_be_null":
        return value.is_null()
    if kind == "expect_column_values_to_be_null":
        return value.is_not_null()
    if family == "null":  # every cell empty: nothing for a value rule to look at
        return pl.lit(False)
    if kind == "expect_column_values_to_be_between":
        if family != "number":
            raise Unsupported(f"bounds on {kw['column']} ({family})")
        lo, hi = kw.get("min_value"), kw.get("max_value")
        inside = pl.lit(True)
        if lo is not None:
            inside = inside & (value > lo if kw.get("strict_min") else value >= lo)
        if hi is not None:
            inside = inside & (value < hi if kw.get("strict_max") else value <= hi)
        return (value.is_not_null() & ~inside).fill_null(False)
    if family != "text":
        raise Unsupported(f"{kind} on {kw['column']} ({family})")
    if kind == "expect_column_values_to_be_in_set":
        allowed = pl.Series(kw["value_set"], dtype=pl.String).implode()
        return (value.is_not_null() & ~value.is_in(allowed)).fill_null(False)
    pattern = re.compile(kw["regex"])  # match_regex: Python's re.search, once per distinct text
    texts = frame.select(value.drop_nulls().unique()).to_series()
    bad = pl.Series([t for t in texts.to_list() if pattern.search(t) is None], dtype=pl.String)
    return value.is_in(bad.implode()).fill_null(False)


def _domain(frame: pl.DataFrame, condition) -> pl.Expr:
    """Rows a rule applies to under its row_condition (all rows without one); never null."""
    if condition is None:
        return pl.lit(True)
    value, family = _value(frame, condition["column"]["name"])
    op, param = condition["operator"], condition["parameter"]
    params = param if op in ("IN", "NOT_IN") else [param]
    if not isinstance(params, list) or not all(_comparable(family, p) for p in params):
        raise Unsupported(f"condition {condition!r} on a {family} column")
    if op in ("IN", "NOT_IN"):
        listed = pl.any_horizontal([value == p for p in params]) if params else pl.lit(False)
        test = listed if op == "IN" else ~listed
    else:
        test = {"==": value == param, "!=": value != param, "<": value < param, "<=": value <= param,
                ">": value > param, ">=": value >= param}[op]
    return pl.when(value.is_null()).then(pl.lit(op in EMPTY_PASSES)).otherwise(test)


def _comparable(family: str, param) -> bool:
    if family == "text":
        return isinstance(param, str)
    return family == "number" and _exact_number(param)
