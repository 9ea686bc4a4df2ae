"""Employment spells: each agency's budgeted peer positions ("slots") held by chains of people.

A slot is held by a chain of employment spells (a hire, a tenure drawn from a two-part mixture of early leavers
and stayers, a separation, then a vacancy until the next hire). Spells start ten years before the first quarter
so the workforce is in a steady state when reporting begins. Every spell is one person with a stable
pseudonymous ``peer_id``, a role, an employment type, a wage, a separation reason, a credential and the dates
of its certification path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.contracts import AGENCY_TYPES, SEPARATION_REASONS
from pipelines.demo.certification import ST_REVOKED, ST_SUSP
from pipelines.demo.quarters import FAR
from pipelines.demo.reference import CRED_PROVISIONAL, CRED_RENEWAL_DAYS, ROLE_CREDENTIALS

# Separation reasons (SEPARATION_REASONS order) and their shares; DOMAIN.md's mix plus a little OTHER.
SEP_REASON_P = np.array([0.29, 0.19, 0.15, 0.10, 0.08, 0.04, 0.03, 0.05, 0.05, 0.02])
SEP_TYPE_OF_REASON = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 2])  # VOLUNTARY / INVOLUNTARY / OTHER
FUNDING_LOSS, TERMINATED = SEPARATION_REASONS.index("FUNDING_LOSS"), SEPARATION_REASONS.index("TERMINATED")
BURN_IN_DAYS = 3650  # spells start this long before the first quarter (steady state at window start)


def simulate_spells(ag: dict[str, np.ndarray], qstart: np.ndarray, qend: np.ndarray,
                    rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
    """(slots, spells): slot agency, role and vacancy gaps; one entry per spell overlapping the window, sorted by
    agency, slot and hire date."""
    wstart, wend = int(qstart[0]), int(qend[-1])
    n_ag = len(ag["agency_id"])
    years = (wend - wstart + 1) / 365.25

    # --- slots: legacy (exist before the window) and growth (opened during it)
    legacy_n = ag["slots"]
    # positions added during the window: 0-7% a year, at most ~3 years' worth over a long window
    growth_n = rng.binomial(legacy_n, np.clip(ag["growth"] * min(years, 3.25), 0, 1))
    growth_n[ag["is_new"] | ag["closing"]] = 0
    s_ag = np.concatenate([np.repeat(np.arange(n_ag), legacy_n), np.repeat(np.arange(n_ag), growth_n)])
    n_slots = len(s_ag)
    is_growth = np.concatenate([np.zeros(legacy_n.sum(), bool), np.ones(growth_n.sum(), bool)])
    cum = ag["role_p"][s_ag].cumsum(axis=1)
    s_role = (rng.random(n_slots)[:, None] > cum).sum(axis=1)
    s_role = np.minimum(s_role, 4)
    s_open = np.where(is_growth, rng.integers(wstart, wend + 1, n_slots), -FAR)
    new_ag = ag["is_new"][s_ag]
    s_open = np.where(new_ag, ag["active_from"][s_ag], s_open)
    s_close = ag["active_to"][s_ag]
    legacy = ~is_growth & ~new_ag
    first_hire = np.where(legacy, wstart - BURN_IN_DAYS - rng.integers(0, 3 * 365, n_slots),
                          s_open + np.where(new_ag, rng.integers(0, 150, n_slots),
                                            14 + rng.exponential(70.0, n_slots).astype(np.int64)))

    # --- spells: chains of hire -> tenure -> separation -> vacancy -> hire, per slot
    sp_slot, sp_hire, sp_sep, sp_forced = [], [], [], []
    g_slot, g_start, g_end = [s_ag[:0].copy()], [s_ag[:0].copy()], [s_ag[:0].copy()]
    first_gap = ~legacy
    g_slot.append(np.flatnonzero(first_gap))
    g_start.append(s_open[first_gap])
    g_end.append(first_hire[first_gap])
    cur = np.arange(n_slots)
    hire = first_hire.astype(np.int64)
    while cur.size:
        a = s_ag[cur]
        early = rng.random(cur.size) < ag["early"][a]
        tenure = 92 + np.where(early, rng.exponential(200.0, cur.size),
                               rng.exponential(ag["mu_long"][a])).astype(np.int64)
        sep = hire + tenure
        close = s_close[cur]
        keep = hire <= close - 120
        forced = keep & (sep >= close)
        cut = close - rng.integers(0, 76, cur.size)
        sep = np.where(forced, np.clip(cut, hire + 92, close), sep)
        sp_slot.append(cur[keep])
        sp_hire.append(hire[keep])
        sp_sep.append(sep[keep])
        sp_forced.append(forced[keep])
        nxt = sep + 14 + rng.exponential(70.0, cur.size).astype(np.int64)
        cont = keep & ~forced
        gap = cont & (sep <= wend)
        g_slot.append(cur[gap])
        g_start.append(sep[gap])
        g_end.append(np.minimum(nxt[gap], close[gap]))
        cont &= nxt <= np.minimum(wend, close - 120)
        cur, hire = cur[cont], nxt[cont]
    sp_slot_a = np.concatenate(sp_slot)
    sp_hire_a = np.concatenate(sp_hire)
    sp_sep_a = np.concatenate(sp_sep)
    sp_forced_a = np.concatenate(sp_forced)
    inwin = sp_sep_a >= wstart
    order = np.lexsort((sp_hire_a[inwin], sp_slot_a[inwin], s_ag[sp_slot_a[inwin]]))  # by agency, slot, hire
    slot = sp_slot_a[inwin][order]
    hire = sp_hire_a[inwin][order]
    sep = sp_sep_a[inwin][order]
    forced = sp_forced_a[inwin][order]
    n_sp = len(slot)
    a_sp = s_ag[slot]
    role1 = s_role[slot]

    # --- people attributes
    if n_sp <= 900_000:
        pid_num = rng.choice(900_000, size=n_sp, replace=False) + 100_000
        pid_width = 6
    else:
        pid_num = rng.choice(9_000_000, size=n_sp, replace=False) + 1_000_000
        pid_width = 7
    ft = rng.random(n_sp) < ag["ft_share"][a_sp]
    pt_fte = rng.choice(np.array([50, 60, 75]), size=n_sp, p=[0.4, 0.3, 0.3])
    fte_c = np.where(ft, 100, pt_fte)  # hundredths of an FTE
    wage = 19.2 * ag["wage"][a_sp] * rng.lognormal(0.0, 0.12, n_sp)
    band = np.searchsorted(np.array([15.0, 18.0, 21.0, 25.0]), wage, side="right")
    tenure = sep - hire
    promo = rng.random(n_sp) < 0.12
    promo_date = np.where(promo, hire + 92 + (rng.random(n_sp) * np.maximum(tenure - 120, 1)).astype(np.int64), FAR)
    rc_ok = np.isin(role1, [0, 1]) & np.isin(ag["type"][a_sp], [AGENCY_TYPES.index(t) for t in (
        "CMHC", "SUD_TREATMENT", "RCO", "PEER_RUN", "JAIL_REENTRY")])
    rc = rc_ok & (rng.random(n_sp) < 0.06)
    rc_date = np.where(rc, hire + 92 + (rng.random(n_sp) * np.maximum(tenure - 120, 1)).astype(np.int64), FAR)
    reason = rng.choice(len(SEPARATION_REASONS), size=n_sp, p=SEP_REASON_P)
    reason[forced] = FUNDING_LOSS
    sep_type = SEP_TYPE_OF_REASON[reason]
    # credentials
    cred = np.zeros(n_sp, dtype=np.int64)
    u = rng.random(n_sp)
    for r, (codes, probs) in enumerate(ROLE_CREDENTIALS):
        m = role1 == r
        cred[m] = np.array(codes)[np.searchsorted(np.cumsum(probs), u[m], side="right").clip(0, len(codes) - 1)]
    L = CRED_RENEWAL_DAYS[cred]
    notreq = rng.random(n_sp) < 0.012
    precert = rng.random(n_sp) < 0.5
    has_prov = CRED_PROVISIONAL[cred]
    prov_date = np.where(precert & has_prov, hire + rng.integers(20, 61, n_sp), FAR)
    cert_date = np.where(precert, np.where(has_prov, prov_date + rng.integers(90, 271, n_sp),
                                           hire + rng.integers(60, 301, n_sp)),
                         hire - rng.integers(0, 6 * 365, n_sp))
    prov_date = np.where(precert & has_prov, prov_date, cert_date)  # no provisional stage: straight to cert
    train_h = rng.choice(np.array([40.0, 46.0, 60.0, 72.0, 80.0]), size=n_sp)
    sup_base = rng.uniform(250, 1500, n_sp).round()
    ce_f = rng.uniform(0.6, 1.4, n_sp)
    susp = (reason == TERMINATED) & (rng.random(n_sp) < 0.5)
    susp_kind = np.where(rng.random(n_sp) < 0.7, ST_SUSP, ST_REVOKED)
    slots = dict(ag=s_ag, role=s_role, gap_slot=np.concatenate(g_slot), gap_start=np.concatenate(g_start),
                 gap_end=np.concatenate(g_end))
    spells = dict(hire=hire, sep=sep, cert=cert_date, prov=prov_date, L=L, pid=pid_num, a=a_sp, role1=role1,
                  rc_date=rc_date, susp=susp, susp_kind=susp_kind, notreq=notreq, cred=cred, train_h=train_h,
                  sup_base=sup_base, ce_f=ce_f, ft=ft, fte_c=fte_c, band=band, promo_date=promo_date,
                  sep_type=sep_type, reason=reason, pid_width=pid_width)
    return slots, spells
