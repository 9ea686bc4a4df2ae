"""The certification report: one row per peer worker and quarter end, following each person's credential.

Training (and provisional status where the credential has one) after hire, then renewal every cycle, renewed on
time, late (grace) or lapsed, decided per person and cycle by a seeded hash. issue_date is the start of the
current renewal cycle, so expiration_date is one renewal period later.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.contracts import ROLES
from pipelines.demo.columns import dates, labels, peer_ids
from pipelines.demo.draws import expand, hash_u
from pipelines.demo.reference import CRED_CE_HOURS, CRED_CODES, NONE_CODE

STATUS = ("IN_TRAINING", "PROVISIONAL", "CERTIFIED_ACTIVE", "EXPIRED_GRACE", "LAPSED", "SUSPENDED", "REVOKED",
          "NOT_REQUIRED")
ST_TRAIN, ST_PROV, ST_ACTIVE, ST_GRACE, ST_LAPSED, ST_SUSP, ST_REVOKED, ST_NOTREQ = range(8)
FORENSIC = ROLES.index("FORENSIC_PEER")
CERT_INPUTS = ("hire", "sep", "cert", "prov", "L", "pid", "a", "role1", "rc_date", "susp", "susp_kind", "notreq",
               "cred", "train_h", "sup_base", "ce_f", "ft", "fte_c")


def certification(spells: dict[str, Any], ag: dict[str, np.ndarray], qstart: np.ndarray, qend: np.ndarray,
                  lapse_region: int, salt: int) -> pl.DataFrame:
    """Certification rows of every spell, in chunks of whole agencies to bound the temporary arrays."""
    nq = len(qstart)
    n_ag = len(ag["agency_id"])
    a_sp = spells["a"]
    n_sp = len(a_sp)
    story = (int(qstart[max(0, nq - 11)]) - 90, int(qstart[max(0, nq - 5)]), int(qstart[max(0, nq - 4)]))
    sp = {k: v for k, v in spells.items() if k in CERT_INPUTS}
    cuts = np.searchsorted(a_sp, np.arange(0, n_ag + 1, max(1, n_ag // max(1, n_sp // 40_000))))
    cuts = np.unique(np.r_[0, cuts, n_sp])
    return pl.concat([_rows({k: v[lo:hi] for k, v in sp.items()}, qend, ag["region"], lapse_region, story, salt)
                      for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo], rechunk=False)


def _rows(sp: dict[str, np.ndarray], qend: np.ndarray, agency_region: np.ndarray, lapse_region: int,
          story: tuple[int, int, int], salt: int) -> pl.DataFrame:
    """One row per spell and quarter end it covers, already in output order (agency, quarter, role, peer).

    story (first day, last day, recovery day): in the lapse region, renewals due in [first, last) mostly fail,
    and those lapsed renew from the recovery day on (within 60 days): lapses pile up, then clear."""
    story_from, story_to, recover = story
    nq = len(qend)
    wend = int(qend[-1])
    first_q = np.searchsorted(qend, sp["hire"], side="left")
    last_q = np.searchsorted(qend, sp["sep"], side="left") - 1
    s_idx, q = expand(first_q, np.minimum(last_q, nq - 1))
    t = qend[q]
    crole = np.where(t >= sp["rc_date"][s_idx], FORENSIC, sp["role1"][s_idx])
    a = sp["a"][s_idx]
    order = np.argsort(((a * nq + q) * 8 + crole) * 10**8 + sp["pid"][s_idx], kind="stable")
    s_idx, q, t, crole, a = s_idx[order], q[order], t[order], crole[order], a[order]
    del order
    out: dict[str, Any] = {"a": a.astype(np.int64), "q": q.astype(np.int64), "role_i": crole.astype(np.int64),
                           "pid": sp["pid"][s_idx].astype(np.int32)}
    c_hire, c_cert, c_prov, c_L = sp["hire"][s_idx], sp["cert"][s_idx], sp["prov"][s_idx], sp["L"][s_idx]
    pre = t < c_cert
    in_train = pre & (t < c_prov)
    provisional = pre & ~in_train
    certified = ~pre
    k = np.maximum(0, (t - c_cert - 1) // c_L)
    B = c_cert + k * c_L
    d = t - B
    key = out["pid"]
    u1 = hash_u(key, k, salt + 1)
    u2 = hash_u(key, k, salt + 2)
    story_row = (agency_region[a] == lapse_region) & (B >= story_from) & (B < story_to)
    del a
    late_delay = 20 + (u2 * 70).astype(np.int64)
    lapse_delay = 91 + ((c_L - 92) * u2 ** np.where(story_row, 0.4, 1.4)).astype(np.int64)
    p_on = np.where(story_row, 0.15, 0.25)
    delay = np.where(u1 < p_on, 0, np.where(u1 < p_on + np.where(story_row, 0.15, 0.57), late_delay, lapse_delay))
    delay = np.where(story_row, np.minimum(delay, recover + (u1 * 60).astype(np.int64) - B), delay)
    del u1, u2, late_delay, lapse_delay, p_on, story_row
    expired = certified & (k >= 1) & (d <= delay)
    del delay
    status = np.full(len(q), ST_ACTIVE, dtype=np.int8)
    status[in_train] = ST_TRAIN
    status[provisional] = ST_PROV
    status[expired & (d <= 90)] = ST_GRACE
    status[expired & (d > 90)] = ST_LAPSED
    del d
    last_row = (q == last_q[s_idx]) & (sp["sep"][s_idx] <= wend) & sp["susp"][s_idx] & certified
    status[last_row] = sp["susp_kind"][s_idx][last_row]
    del last_row
    nr = sp["notreq"][s_idx]
    status[nr] = ST_NOTREQ
    out["status_i"] = status
    has_dates = ~in_train & ~nr
    out["cred_i"] = np.where(has_dates, sp["cred"][s_idx], NONE_CODE).astype(np.int8)
    # issue_date is the start of the current renewal cycle (the original date for a first cycle)
    out["issue"] = np.where(certified, np.where(expired, B - c_L, B), c_prov).astype(np.int32)
    out["expiry"] = np.where(provisional, c_prov + 365, np.where(expired, B, B + c_L)).astype(np.int32)
    out["has_dates"] = has_dates
    # hours
    th = sp["train_h"][s_idx]
    frac = np.clip((t - c_hire) / np.maximum(c_prov - c_hire, 1), 0, 1)
    out["training_hours"] = np.where(nr, 16.0, np.where(in_train, np.floor(th * frac * 0.9), th))
    del th, frac
    supervised = np.where(pre, np.minimum(40 * np.maximum(t - c_hire, 0) / 30.4, 500),
                          np.minimum(sp["sup_base"][s_idx] + 45 * np.maximum(t - c_cert, 0) / 91.3, 6000))
    out["supervised_hours"] = np.where(nr, 0.0, np.round(supervised))
    del supervised, pre
    ce_req = CRED_CE_HOURS[sp["cred"][s_idx]]
    ce_f = sp["ce_f"][s_idx]
    cycle_start = np.where(k >= 1, B, c_cert)
    ce = np.where(expired, np.minimum(ce_req * 0.6 * ce_f, ce_req - 2),
                  ce_req * np.clip((t - cycle_start) / c_L, 0, 1) * ce_f)
    out["ce_hours_cycle"] = np.where(certified & ~nr, np.round(ce * 2) / 2, 0.0)
    del ce, ce_req, ce_f, cycle_start, B, k, c_hire, c_cert, c_prov, c_L
    out["ft"] = sp["ft"][s_idx]
    out["fte_c"] = sp["fte_c"][s_idx].astype(np.int16)
    return pl.DataFrame(out)



def to_contract(df: pl.DataFrame, pid_width: int) -> dict[str, pl.Series]:
    hd = df["has_dates"].to_numpy()
    return {"peer_id": peer_ids(df["pid"], pid_width), "role": labels(ROLES, df["role_i"].to_numpy()),
            "credential_code": labels(CRED_CODES + ["NONE"], df["cred_i"].to_numpy()),
            "status": labels(STATUS, df["status_i"].to_numpy()),
            "issue_date": dates(df["issue"].to_numpy(), hd), "expiration_date": dates(df["expiry"].to_numpy(), hd),
            "training_hours": df["training_hours"], "supervised_hours": df["supervised_hours"],
            "ce_hours_cycle": df["ce_hours_cycle"]}
