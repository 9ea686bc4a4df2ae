"""The headcount report: peers by role from the certification rows, vacancies from the gaps between spells,
peer supervisors from each agency's supervision ratio and clinicians around each agency's base count.

A peer is counted where a certification row covers the quarter end, so ``headcount(q) = headcount(q-1) + hires -
separations`` holds exactly per agency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.contracts import FUNDING, ROLES
from pipelines.demo.columns import labels
from pipelines.demo.draws import expand, hash_u

SUPERVISOR, CLINICIAN = ROLES.index("PEER_SUPERVISOR"), ROLES.index("CLINICAL_LICENSED")


def headcount(cert: pl.DataFrame, slots: dict[str, Any], ag: dict[str, np.ndarray], qstart: np.ndarray,
              qend: np.ndarray, rng: np.random.Generator, salt: int) -> pl.DataFrame:
    """One row per agency, active quarter and role it has (or had vacant)."""
    nq = len(qstart)
    s_ag, s_role = slots["ag"], slots["role"]
    gs, gst, gen = slots["gap_slot"], slots["gap_start"], slots["gap_end"]
    g_first = np.searchsorted(qend, gst, side="left")
    g_last = np.searchsorted(qend, gen, side="left") - 1
    gi, gq = expand(g_first, np.minimum(g_last, nq - 1))
    vac = (pl.DataFrame({"a": s_ag[gs[gi]], "q": gq, "role_i": s_role[gs[gi]]})
           .group_by("a", "q", "role_i").agg(pl.len().alias("vacancies")))
    peers = (cert.lazy().group_by("a", "q", "role_i")
             .agg(pl.len().alias("headcount"), pl.col("ft").sum().alias("headcount_fulltime"),
                  pl.col("fte_c").sum().alias("fte_c")).collect())
    peer_hc = peers.join(vac, on=["a", "q", "role_i"], how="full", coalesce=True).fill_null(0)
    # agency-quarter grid of active quarters
    aq_a, aq_q = expand(np.searchsorted(qend, ag["active_from"], side="left"),
                         np.searchsorted(qstart, ag["active_to"], side="right") - 1)
    aq = pl.DataFrame({"a": aq_a, "q": aq_q})
    tot = peers.group_by("a", "q").agg(pl.col("headcount").sum().alias("peers"))
    aqp = aq.join(tot, on=["a", "q"], how="left").fill_null(0).sort("a", "q")
    a_arr, q_arr, p_arr = (aqp[c].to_numpy() for c in ("a", "q", "peers"))
    # supervisors
    sup_hc = np.where(p_arr > 0, np.maximum(1, np.round(p_arr / ag["sup_ratio"][a_arr])), 0).astype(np.int64)
    trained = np.minimum(np.round(sup_hc * ag["trained"][a_arr]), sup_hc).astype(np.int64)
    sup_pt = ((sup_hc >= 3) & (hash_u(a_arr, q_arr, salt + 3) < 0.3)).astype(np.int64)
    sup = pl.DataFrame({"a": a_arr, "q": q_arr, "role_i": np.full(len(a_arr), SUPERVISOR), "headcount": sup_hc,
                        "headcount_fulltime": sup_hc - sup_pt, "fte_c": (sup_hc - sup_pt) * 100 + sup_pt * 50,
                        "vacancies": ((sup_hc > 0) & (hash_u(a_arr, q_arr, salt + 4) < 0.08)).astype(np.int64),
                        "trained_peer_supervisors": trained}).filter(pl.col("headcount") > 0)
    # clinicians: a slow wobble around the agency's base count
    base = ag["clin"][a_arr]
    wob = np.cumsum(rng.normal(0, 0.02, len(a_arr)))  # resets per agency below
    first_of_a = np.r_[0, np.flatnonzero(np.diff(a_arr)) + 1]
    wob = wob - np.repeat(wob[first_of_a] - 0.0, np.diff(np.r_[first_of_a, len(a_arr)]))
    c_hc = np.where(base > 0, np.maximum(1, np.round(base * (1 + wob))), 0).astype(np.int64)
    c_ft = np.round(c_hc * 0.8).astype(np.int64)
    clin = pl.DataFrame({"a": a_arr, "q": q_arr, "role_i": np.full(len(a_arr), CLINICIAN), "headcount": c_hc,
                         "headcount_fulltime": c_ft, "fte_c": c_ft * 100 + (c_hc - c_ft) * 50,
                         "vacancies": np.round(c_hc * ag["clin_vac"][a_arr]).astype(np.int64)})
    closing_last = ag["closing"][a_arr] & (q_arr == np.searchsorted(qstart, ag["active_to"][a_arr], side="right") - 1)
    clin = clin.filter(pl.col("headcount") > 0)
    rows = pl.concat([peer_hc.with_columns(trained_peer_supervisors=pl.lit(None, pl.Int64)), sup,
                      clin.with_columns(trained_peer_supervisors=pl.lit(None, pl.Int64))], how="diagonal_relaxed")
    # a closing agency reports its last quarter with every role it had at zero
    last_aq = pl.DataFrame({"a": a_arr[closing_last], "q": q_arr[closing_last]})
    if last_aq.height:
        rows = rows.join(last_aq, on=["a", "q"], how="anti")
        zeros = (rows.join(last_aq.with_columns(pl.col("q") - 1), on=["a", "q"], how="semi")
                 .with_columns(pl.col("q") + 1, headcount=0, headcount_fulltime=0, fte_c=0, vacancies=0,
                               trained_peer_supervisors=pl.when(pl.col("role_i") == SUPERVISOR).then(0)))
        rows = pl.concat([rows, zeros], how="diagonal_relaxed")
    fund_peer = np.array([FUNDING.index(f) for f in ag["fund_peer"]], dtype=np.int64)
    fund_clin = np.array([FUNDING.index(f) for f in ag["fund_clin"]], dtype=np.int64)
    rows = rows.sort("a", "q", "role_i")
    h_a, h_r = rows["a"].to_numpy(), rows["role_i"].to_numpy()
    return rows.with_columns(fund_i=pl.Series(np.where(h_r == CLINICIAN, fund_clin[h_a], fund_peer[h_a])))


def to_contract(df: pl.DataFrame, pid_width: int) -> dict[str, pl.Series]:
    return {"role": labels(ROLES, df["role_i"].to_numpy()), "headcount": df["headcount"],
            "headcount_fulltime": df["headcount_fulltime"], "fte": df["fte_c"] / 100, "vacancies": df["vacancies"],
            "trained_peer_supervisors": df["trained_peer_supervisors"],
            "primary_funding": labels(FUNDING, df["fund_i"].to_numpy())}
