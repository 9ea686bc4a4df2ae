"""Typing text cells: numbers with '$' and thousands separators, ISO and M/D/YYYY dates, code case.

Each cell that cannot be read as its column's type becomes null and yields a `type-error` finding
(listed up to the findings cap, counted beyond it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from pipelines import settings
from pipelines.contracts import QUARTER_PATTERN, Column, Contract
from pipelines.findings import Finding
from pipelines.reading import ROW

_DATE = r"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|\d{4}/\d{1,2}/\d{1,2})$"
"""Date shapes accepted: the year always written with four digits."""
FIRST_DATE = dt.date(1950, 1, 1)
"""Earlier dates are spreadsheet zero dates (12/30/1899, 1/1/1900) or typos, not peer workforce events."""
YEARS_AHEAD = 5
"""Dates more than this many years after the as-of date are typos (credentials renew every 2-3 years)."""


def date_window() -> tuple[dt.date, dt.date]:
    """First and last plausible date: 1950-01-01 to five years after the as-of date (PEER_AS_OF or today)."""
    as_of = settings.as_of()
    try:
        return FIRST_DATE, as_of.replace(year=as_of.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return FIRST_DATE, as_of.replace(year=as_of.year + YEARS_AHEAD, day=28)


MAX_WHOLE = 2**53  # larger "whole numbers" (1e308) are not counts, and not exact as floats
_NUMBER = r"^[-+]?\$?\s*[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$"
HOW_TO_FIX = {
    "int": "a whole number such as 12 (no decimals, no text)",
    "float": "a number such as 1250.50 ('$' and thousands separators are fine)",
    "date": "a date written YYYY-MM-DD or M/D/YYYY with a four-digit year, from 1950 to five years ahead, such "
            "as 2026-03-31 or 3/31/2026",
    "bool": "true or false",
}


def _fill(fast: pl.Series, text: pl.Series, slow: pl.Expr) -> pl.Series:
    """Keep the fast conversion; run the slow one only when some non-empty cells failed the fast one."""
    missed = fast.is_null() & text.is_not_null()
    if not missed.any():
        return fast
    fallback = pl.select(slow).to_series().cast(fast.dtype)
    return fast.zip_with(~missed, fallback)


def convert(col: Column, text: pl.Series) -> pl.Series:
    """The text column in the contract type (null where unreadable)."""
    t = pl.lit(text)
    if col.type in ("int", "float"):
        value = _fill(text.cast(pl.Float64, strict=False), text,
                      pl.when(t.str.contains(_NUMBER)).then(t.str.replace_all(r"[\s$,]", "")
                                                            .cast(pl.Float64, strict=False)))
        if value.is_infinite().any() or value.is_nan().any():  # "inf", "NaN" are not counts or dollars
            value = pl.select(pl.when(pl.lit(value).is_finite()).then(pl.lit(value))).to_series()
        if col.type == "float":
            return value
        whole = (pl.lit(value) == pl.lit(value).floor()) & (pl.lit(value).abs() <= MAX_WHOLE)
        return pl.select(pl.when(whole).then(pl.lit(value)).cast(pl.Int64)).to_series()
    if col.type == "date":
        day = t.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "")
        parsed = _fill(text.str.strptime(pl.Date, "%Y-%m-%d", strict=False), text, pl.coalesce(
            day.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
            day.str.strptime(pl.Date, "%m/%d/%Y", strict=False),
            day.str.strptime(pl.Date, "%Y/%m/%d", strict=False)))
        if parsed.is_null().all():
            return parsed
        # only four-digit years (1/17/22 is not year 22) inside a plausible window (no 12/30/1899 zero dates)
        written = pl.lit(text.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "")).str.contains(_DATE)
        last = date_window()[1]
        plausible = (pl.lit(parsed) >= FIRST_DATE) & (pl.lit(parsed) <= last)
        return pl.select(pl.when(written & plausible).then(pl.lit(parsed))).to_series()
    if col.type == "bool":
        lowered = text.str.to_lowercase()
        return pl.select(pl.when(pl.lit(lowered).is_in(["true", "yes", "y", "1"])).then(True).when(
            pl.lit(lowered).is_in(["false", "no", "n", "0"])).then(False)).to_series()
    if col.name == "quarter":
        def quarter(s: pl.Series) -> pl.Series:  # '2026 q1' -> '2026-Q1'; anything else stays as written
            tidy = s.str.to_uppercase().str.replace(r"^(\d{4})\s*[-_ ]?\s*Q([1-4])$", "$1-Q$2")
            return pl.select(pl.when(pl.lit(tidy).str.contains(QUARTER_PATTERN)).then(pl.lit(tidy))
                             .otherwise(pl.lit(s))).to_series()
        return _per_distinct(text, quarter)
    if col.allowed and all(v == v.upper() for v in col.allowed):
        return _per_distinct(text, lambda s: s.str.to_uppercase())
    return text


def _per_distinct(text: pl.Series, normalise: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """Apply a text normalisation once per distinct value (codes and quarters repeat on every row)."""
    distinct = text.unique().drop_nulls()
    changed = normalise(distinct)
    moved = distinct != changed
    if not moved.any():
        return text
    return text.replace(distinct.filter(moved), changed.filter(moved))


def type_cells(frame: pl.DataFrame, contract: Contract, positions: dict[str, str | None],
               fixed: dict[str, str], cap: int) -> tuple[pl.DataFrame, list[Finding], dict[str, int]]:
    """Typed frame with contract column names (plus __row), type-error findings, and counts past the cap."""
    columns = [frame[ROW]]
    findings: list[Finding] = []
    overflow = 0
    for col in contract.columns:
        pos = positions.get(col.name)
        if pos is None:
            value = fixed.get(col.name)
            columns.append(pl.repeat(value, frame.height, dtype=pl.String if value else _polars_type(col),
                                     eager=True).alias(col.name))
            continue
        text = frame[pos]
        typed_column = convert(col, text).alias(col.name)
        columns.append(typed_column)
        if col.type == "str":
            continue
        failed = typed_column.is_null() & text.is_not_null()
        if not failed.any():
            continue
        bad = frame.select(ROW, pl.col(pos).alias("text")).filter(failed)
        room = max(cap - len(findings), 0)
        for row, cell in bad.head(room).iter_rows():
            findings.append(Finding("type-error", f"Row {row}, column {col.name}: '{cell}' is not "
                                    f"{HOW_TO_FIX[col.type]}.", row=row, column=col.name, value=cell))
        overflow += max(bad.height - room, 0)
    typed = pl.DataFrame(columns)
    return typed, findings, ({"type-error": overflow} if overflow else {})


def _polars_type(col: Column) -> pl.DataType:
    return {"str": pl.String(), "int": pl.Int64(), "float": pl.Float64(), "date": pl.Date(),
            "bool": pl.Boolean()}[col.type]
