"""Output columns from simulation codes: labels, dates and peer ids as polars Series."""

from __future__ import annotations

import numpy as np
import polars as pl


def labels(names: list[str] | tuple[str, ...], idx: np.ndarray) -> pl.Series:
    """The names at the given indexes."""
    return pl.Series(values=list(names), dtype=pl.String).gather(idx)


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Dates from day numbers; null where `valid` is False."""
    s = pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)
    if valid is not None:
        s = pl.select(pl.when(pl.Series(valid)).then(s).otherwise(None)).to_series()
    return s


def peer_ids(pid: pl.Series, width: int) -> pl.Series:
    """Pseudonymous peer ids: P and the person's number, zero-padded."""
    return pl.select(pl.concat_str([pl.lit("P"), pid.cast(pl.String).str.zfill(width)])).to_series()


def when(mask: np.ndarray, values: pl.Series) -> pl.Series:
    """values where mask, null elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(values).otherwise(None)).to_series()
