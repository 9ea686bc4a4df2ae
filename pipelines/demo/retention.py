"""The retention report: one row per hire, separation, role change and promotion inside the window."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.contracts import SEPARATION_REASONS, WAGE_BANDS
from pipelines.demo.columns import dates, labels, peer_ids, when

EVENT_LABELS = ("HIRE", "SEPARATION", "ROLE_CHANGE", "PROMOTION")
SEP_TYPES = ("VOLUNTARY", "INVOLUNTARY", "OTHER")


def retention(spells: dict[str, Any], qstart: np.ndarray, qend: np.ndarray) -> pl.DataFrame:
    """The events of every spell dated inside the window, by agency, quarter, date and peer."""
    wstart, wend = int(qstart[0]), int(qend[-1])
    hire, sep, rc_date, promo_date = spells["hire"], spells["sep"], spells["rc_date"], spells["promo_date"]
    band, a_sp, pid_num, ft = spells["band"], spells["a"], spells["pid"], spells["ft"]
    sep_type, reason = spells["sep_type"], spells["reason"]
    ev_parts = []
    for code, date, mask in ((0, hire, hire >= wstart), (1, sep, sep <= wend), (2, rc_date, rc_date < sep),
                             (3, promo_date, promo_date < sep)):
        m = mask & (date >= wstart) & (date <= wend)
        idx = np.flatnonzero(m)
        ev_parts.append((idx, np.full(len(idx), code), date[idx]))
    e_sp = np.concatenate([p[0] for p in ev_parts])
    e_code = np.concatenate([p[1] for p in ev_parts])
    e_date = np.concatenate([p[2] for p in ev_parts])
    e_band = np.minimum(band[e_sp] + (promo_date[e_sp] <= e_date), 4)
    events = pl.DataFrame({
        "a": a_sp[e_sp], "q": np.searchsorted(qend, e_date, side="left"), "pid": pid_num[e_sp], "event_i": e_code,
        "event_date": e_date, "hire_date": hire[e_sp], "ft": ft[e_sp], "band": e_band,
        "sep_type": np.where(e_code == 1, sep_type[e_sp], -1), "reason": np.where(e_code == 1, reason[e_sp], -1),
    })
    return events.sort("a", "q", "event_date", "pid", "event_i")


def to_contract(df: pl.DataFrame, pid_width: int) -> dict[str, pl.Series]:
    st = df["sep_type"].to_numpy()
    rs = df["reason"].to_numpy()
    sep = st >= 0
    return {"peer_id": peer_ids(df["pid"], pid_width), "event": labels(EVENT_LABELS, df["event_i"].to_numpy()),
            "event_date": dates(df["event_date"].to_numpy()), "hire_date": dates(df["hire_date"].to_numpy()),
            "employment_type": labels(("PT", "FT"), df["ft"].to_numpy().astype(np.int64)),
            "hourly_wage_band": labels(WAGE_BANDS, df["band"].to_numpy()),
            "separation_type": when(sep, labels(SEP_TYPES, np.maximum(st, 0))),
            "separation_reason": when(sep, labels(SEPARATION_REASONS, np.maximum(rs, 0)))}
