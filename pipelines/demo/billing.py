"""The billing report: units from the FTE of peers who may bill (CERTIFIED_ACTIVE or PROVISIONAL) at agencies
that bill Medicaid, times 500-1,200 units per FTE, split by code (individual / HQ group / family / youth) and
payer (FFS + MCOs); denials around each agency's rate, higher for two quarters after a code change."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.contracts import REPORTS, ROLES
from pipelines.demo.certification import ST_ACTIVE, ST_PROV
from pipelines.demo.columns import labels
from pipelines.demo.draws import hash_u
from pipelines.demo.quarters import days
from pipelines.demo.reference import (
    BC_H0038,
    BC_H2015,
    BC_H2016,
    BC_HA,
    BC_HQ,
    BC_RATE,
    BC_T1016,
    BILLING_CODES,
    CODE_CHANGE_DATE,
)

MCO_PLANS = ("MCO-A", "MCO-B", "MCO-C")
FFS_PAYER = "FFS-MEDICAID"
FAMILY, YOUTH = ROLES.index("FAMILY_PEER"), ROLES.index("YOUTH_PEER")


def billing(cert: pl.DataFrame, ag: dict[str, np.ndarray], qstart: np.ndarray, rng: np.random.Generator,
            salt: int) -> pl.DataFrame:
    """One row per billing agency, quarter, payer and code with units billed."""
    billable = (cert.lazy().filter(pl.col("status_i").is_in([ST_ACTIVE, ST_PROV]))
                .with_columns(g=pl.when(pl.col("role_i") == FAMILY).then(1)
                              .when(pl.col("role_i") == YOUTH).then(2).otherwise(0))
                .group_by("a", "q", "g").agg(pl.col("fte_c").sum().alias("bfte_c")).collect())
    billable = billable.filter(pl.col("a").is_in(np.flatnonzero(ag["bills"]).tolist())).sort("a", "q", "g")
    code_rows = []
    for a in np.flatnonzero(ag["bills"]):
        gsh = ag["group_share"][a]
        code_rows.append((a, 0, -1, 1.0 - gsh))  # -1: the agency's individual code, resolved per quarter
        if gsh > 0:
            code_rows.append((a, 0, BC_HQ, gsh))
        code_rows.append((a, 1, BC_T1016, 1.0))
        code_rows.append((a, 2, BC_HA, 1.0))
    codes = pl.DataFrame(code_rows, schema=["a", "g", "code", "cshare"], orient="row")
    pay_rows = []
    for a in np.flatnonzero(ag["bills"]):
        pay_rows.append((a, 0, 0, ag["pay_ffs"][a]))
        for m in range(3):
            if ag["pay_mco"][a, m] > 0:
                pay_rows.append((a, 1, m + 1, ag["pay_mco"][a, m]))
    payers = pl.DataFrame(pay_rows, schema=["a", "payer_t", "payer_i", "pshare"], orient="row")
    bill = (billable.join(codes, on=["a", "g"]).join(payers, on="a")
            .sort("a", "q", "g", "code", "payer_t", "payer_i"))
    ba, bq, bcode = bill["a"].to_numpy(), bill["q"].to_numpy(), bill["code"].to_numpy()
    code_change_q = int(np.searchsorted(qstart, days(CODE_CHANGE_DATE), side="left"))
    post = bq >= code_change_q
    ind = np.where(ag["uses_cs"][ba], np.where(post, BC_H2016, BC_H2015), BC_H0038)
    bcode = np.where(bcode < 0, ind, bcode)
    n_b = len(ba)
    upf = np.clip(ag["upf"][ba] * (1 + 0.06 * (hash_u(ba, bq, salt + 5) - 0.5) * 2), 500, 1200)
    units = np.round(bill["bfte_c"].to_numpy() / 100 * upf * bill["cshare"].to_numpy() * bill["pshare"].to_numpy()
                     * rng.uniform(0.95, 1.05, n_b)).astype(np.int64)
    den = (ag["denial"][ba] + 0.015 * (hash_u(ba, bq, salt + 6) - 0.5) * 2
           + np.where(bill["payer_t"].to_numpy() == 0, -0.01, 0.005) + rng.normal(0, 0.008, n_b))
    after = bq - code_change_q
    changed = (bcode == BC_H2016) & (after >= 0) & (after <= 1)
    spike_row = changed & ag["spike"][ba]
    den = np.where(changed & ~spike_row, den + np.where(after == 0, 0.06, 0.03), den)
    den = np.where(spike_row, np.where(after == 0, 0.33, 0.27) + rng.normal(0, 0.01, n_b), den)
    den = np.clip(den, 0.02, 0.40)
    pend = rng.uniform(0.0, 0.035, n_b)
    u_den = np.round(units * den).astype(np.int64)
    u_pend = np.round(units * pend).astype(np.int64)
    u_paid = np.maximum(units - u_den - u_pend, 0)
    upc = np.where(bcode == BC_HQ, rng.uniform(4, 6, n_b), rng.uniform(3, 5, n_b))
    claims = np.maximum(1, np.round(units / upc)).astype(np.int64)
    c_den = np.minimum(claims, np.round(claims * den * rng.uniform(0.9, 1.1, n_b))).astype(np.int64)
    c_pend = np.round(claims * pend).astype(np.int64)
    c_paid = np.maximum(claims - c_den - c_pend, 0)
    rate = BC_RATE[bcode]
    benef = np.minimum(units, np.maximum(1, np.round(units / rng.uniform(6, 18, n_b)))).astype(np.int64)
    rows = pl.DataFrame({
        "a": ba, "q": bq, "payer_t": bill["payer_t"], "payer_i": bill["payer_i"], "code": bcode,
        "claims_submitted": claims, "claims_paid": c_paid, "claims_denied": c_den, "units_billed": units,
        "units_paid": u_paid, "units_denied": u_den,
        "amount_billed": np.round(units * rate * ag["markup"][ba], 2), "amount_paid": np.round(u_paid * rate, 2),
        "unique_beneficiaries": benef,
    })
    return rows.filter(pl.col("units_billed") > 0).sort("a", "q", "payer_t", "payer_i", "code")


def to_contract(df: pl.DataFrame, pid_width: int) -> dict[str, pl.Series]:
    code = df["code"].to_numpy()
    cols = {"payer_type": labels(("FFS", "MCO"), df["payer_t"].to_numpy()),
            "payer_id": labels((FFS_PAYER,) + MCO_PLANS, df["payer_i"].to_numpy()),
            "hcpcs": labels([b[0] for b in BILLING_CODES], code),
            "modifier": labels([b[1] or None for b in BILLING_CODES], code)}
    return cols | {c: df[c] for c in REPORTS["billing"].names[6:]}


def preliminary(billing: pl.DataFrame, a: int, q: int) -> pl.DataFrame:
    """A first, uncorrected billing file of agency a in quarter q: one payer missing, claims still pending."""
    f = billing.filter((pl.col("a") == a) & (pl.col("q") == q))
    payers = f["payer_id"].unique().sort()
    if payers.len() > 1:
        f = f.filter(pl.col("payer_id") != payers[-1])
    rate = pl.col("amount_paid") / pl.col("units_paid")
    moved = (pl.col("units_paid") * 0.35).round().cast(pl.Int64)
    return f.with_columns(
        units_paid=pl.col("units_paid") - moved,
        claims_paid=pl.col("claims_paid") - (pl.col("claims_paid") * 0.35).round().cast(pl.Int64),
        amount_paid=pl.when(pl.col("units_paid") > 0).then(((pl.col("units_paid") - moved) * rate).round(2))
        .otherwise(0.0),
    )

