"""CSV for people: every CSV the app or the CLI writes for opening in a spreadsheet goes through here.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, tab or carriage return) as a
formula, so text from agency files or analysts' SQL could run on the reader's machine (CSV or formula
injection, OWASP). Text that starts with one of those characters is prefixed with an apostrophe `'`, always:
also text that merely looks like a number ("-3" in a text column), since a spreadsheet would evaluate
"-3+A1" just the same and the rule must not depend on guessing. Only text is changed: numbers, dates and
nulls are written as they are (-3 in a numeric column stays -3). Column names get the same treatment.
"""

from __future__ import annotations

import csv
import io
import json

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""
_STARTS_LIKE_FORMULA = "^[" + "".join("\\-" if c == "-" else c for c in FORMULA_START) + "]"


def neutralise_text(value: str) -> str:
    """One text value made safe: prefixed with an apostrophe when it starts like a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text value (String, Categorical or Enum column) that starts like a formula
    prefixed with an apostrophe; other columns, nulls and the column names are left as they are."""
    return frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(_STARTS_LIKE_FORMULA))
        .then("'" + pl.col(c).cast(pl.String)).otherwise(pl.col(c).cast(pl.String)).alias(c)
        for c, t in frame.schema.items() if t == pl.String or isinstance(t, (pl.Categorical, pl.Enum)))


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as UTF-8 CSV, safe to open in a spreadsheet: lists of plain values joined with '; ', other
    nested or binary values as JSON text, then text values and column names neutralised (see the module)."""
    if not frame.width:
        return b""
    flat = neutralise(frame.with_columns(_as_text(c, t) for c, t in frame.schema.items() if _nested(t)))
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(neutralise_text(c) for c in frame.columns)
    return (header.getvalue() + flat.write_csv(include_header=False)).encode()


def _nested(dtype: pl.DataType) -> bool:
    return dtype.is_nested() or dtype in (pl.Binary, pl.Object)


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, (pl.List, pl.Array)) and not _nested(dtype.inner):
        return pl.col(name).cast(pl.List(pl.String)).list.join("; ").alias(name)
    return pl.col(name).map_elements(_json, return_dtype=pl.String, skip_nulls=True).alias(name)


def _json(value) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, pl.Series):  # list elements arrive as Series
        value = value.to_list()
    return json.dumps(value, default=str, ensure_ascii=False)
