"""Typing text cells: numbers with '$' and thousands separators, ISO and M/D/YYYY dates, code case.

Each cell that cannot be read as its column's type becomes null and yields a `type-error` finding
(listed up to the findings cap, counted beyond it).
"""

from __future__ import annotations

import polars as pl

from pipelines.contracts import Column, Contract
from pipelines.findings import Finding
from pipelines.reading import ROW

_NUMBER = r"^[-+]?\$?\s*[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$"
HOW_TO_FIX = {
    "int": "a whole number such as 12 (no decimals, no text)",
    "float": "a number such as 1250.50 ('$' and thousands separators are fine)",
    "date": "a date written YYYY-MM-DD or M/D/YYYY, such as 2026-03-31 or 3/31/2026",
    "bool": "true or false",
}


def _number(text: pl.Expr) -> pl.Expr:
    """Plain numbers cast directly; only cells with '$', ',' or spaces go through the cleaning regex."""
    plain = text.cast(pl.Float64, strict=False)
    cleaned = text.str.replace_all(r"[\s$,]", "").cast(pl.Float64, strict=False)
    return pl.when(plain.is_not_null()).then(plain).when(text.str.contains(_NUMBER)).then(cleaned)


def _date(text: pl.Expr) -> pl.Expr:
    day = text.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "")
    return pl.coalesce(
        day.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        day.str.strptime(pl.Date, "%m/%d/%Y", strict=False),
        day.str.strptime(pl.Date, "%Y/%m/%d", strict=False),
    )


def convert(col: Column, text: pl.Expr) -> pl.Expr:
    """Expression turning a text column into the contract type (null where unreadable)."""
    if col.type == "int":
        value = _number(text)
        return pl.when(value == value.floor()).then(value).cast(pl.Int64)
    if col.type == "float":
        return _number(text)
    if col.type == "date":
        return _date(text)
    if col.type == "bool":
        lowered = text.str.to_lowercase()
        return pl.when(lowered.is_in(["true", "yes", "y", "1"])).then(True).when(
            lowered.is_in(["false", "no", "n", "0"])).then(False)
    if col.name == "quarter":
        return text.str.to_uppercase().str.replace(r"^(\d{4})\s*[-_ ]?\s*Q([1-4])$", "$1-Q$2")
    if col.allowed and all(v == v.upper() for v in col.allowed):
        return text.str.to_uppercase()
    return text


def type_cells(frame: pl.DataFrame, contract: Contract, positions: dict[str, str | None],
               fixed: dict[str, str], cap: int) -> tuple[pl.DataFrame, list[Finding], dict[str, int]]:
    """Typed frame with contract column names (plus __row), type-error findings, and counts past the cap."""
    exprs = [pl.col(ROW)]
    for col in contract.columns:
        pos = positions.get(col.name)
        if pos is not None:
            exprs.append(convert(col, pl.col(pos)).alias(col.name))
        elif col.name in fixed:
            exprs.append(pl.lit(fixed[col.name], dtype=pl.String).alias(col.name))
        else:
            exprs.append(pl.lit(None, dtype=_polars_type(col)).alias(col.name))
    typed = frame.select(exprs)
    findings: list[Finding] = []
    overflow = 0
    for col in contract.columns:
        pos = positions.get(col.name)
        if pos is None or col.type == "str":
            continue
        bad = frame.select(ROW, pl.col(pos).alias("text")).filter(
            pl.col("text").is_not_null() & typed[col.name].is_null())
        room = max(cap - len(findings), 0)
        for row, text in bad.head(room).iter_rows():
            findings.append(Finding("type-error", f"Row {row}, column {col.name}: '{text}' is not "
                                    f"{HOW_TO_FIX[col.type]}.", row=row, column=col.name, value=text))
        overflow += max(bad.height - room, 0)
    return typed, findings, ({"type-error": overflow} if overflow else {})


def _polars_type(col: Column) -> pl.DataType:
    return {"str": pl.String(), "int": pl.Int64(), "float": pl.Float64(), "date": pl.Date(),
            "bool": pl.Boolean()}[col.type]
