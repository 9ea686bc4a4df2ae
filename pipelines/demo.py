"""Deterministic synthetic demo data: a fictional state's reference tables and quarterly submissions.

Everything comes from one seeded ``numpy.random.default_rng`` (plus a seeded integer hash for draws that
must agree across quarters), so the same arguments always write byte-identical files.

Two layouts:

* ``sample`` (the default for one state): ``<out>/reference/*.csv`` plus ``<out>/sample/`` holding one
  bulk state backfill file per quarter and report (``<quarter>/<report>.csv``), a few per-agency files
  for the stories (``agency/<agency>_<quarter>_<report>[_resubmitted].csv``) and ``manifest.csv``
  (``file,submitted_by,submitted_at``: every sample file, in load order).
* ``single`` (the default for several states, used by the benchmark): ``<out>/<report>.csv`` holding
  every agency and quarter, ``<out>/reference/*.csv`` and ``<out>/manifest.csv``.

How the people are simulated: each agency has budgeted peer positions ("slots") by role. A slot is held
by a chain of employment spells (a hire, a tenure drawn from a two-part mixture of early leavers and
stayers, a separation, then a vacancy until the next hire). Spells start ten years before the first
quarter so the workforce is in a steady state when reporting begins. Every spell is one person with a
stable pseudonymous ``peer_id``; the certification report lists the spells covering each quarter end,
the retention report lists their hires, separations, role changes and promotions, and the headcount
report counts them by role (plus supervisors and clinicians). So ``headcount(q) = headcount(q-1) +
hires - separations`` holds exactly per agency. Certification follows each person's credential:
training (and provisional status where the credential has one) after hire, then renewal every cycle,
renewed on time, late (grace) or lapsed, decided per person and cycle by a seeded hash. issue_date is the
start of the current renewal cycle, so expiration_date is one renewal period later. Billing volume comes
from the FTE of peers who may bill (CERTIFIED_ACTIVE or PROVISIONAL) at agencies that bill Medicaid, times
500-1,200 units per FTE, split by code (individual / HQ group / family / youth) and payer (FFS + MCOs).

Stories (``with_stories=True``, in the first state only; ``generate()`` returns the ids):

* ``lapse_region``: certification renewals in this region fail from shortly before the last four
  quarters, so EXPIRED_GRACE and then LAPSED pile up.
* ``denial_spike_agency``: a CMHC that billed H2015 switches to H2016 when H2015 is retired (2025-Q1)
  and sees about 30% then 25% of its units denied for two quarters.
* ``no_billing_rco``: a Medicaid-enrolled RCO with many peers that bills nothing.
* ``late_submitter``: files for the last two quarters arrive 45-70 days after quarter end, one file per
  report, outside the state backfill.
* ``missing_submitter``: an active agency with no files for the last two quarters.
* ``resubmitting_agency``: its billing rows for the second-to-last quarter are in the bulk file (claims
  still pending, one payer missing) and then again, corrected, in a later per-agency file.
* ``new_agencies`` / ``closed_agency``: agencies that start reporting mid-window, and one that closes
  (every state has these).

The late and resubmission stories need separate files, so the single-file layout leaves them out.
With the defaults the ids are R3, AG0101, AG0076, AG0067, AG0082, AG0003, AG0065/AG0075/AG0107 and
AG0073 (tests/test_demo_data.py pins them).

CLI: ``python -m pipelines.demo [--out DIR] [--states N] [--quarters N] [--seed N]``; with no arguments it
rewrites ``data/reference`` and ``data/sample``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.contracts import (
    AGENCY_TYPES,
    FUNDING,
    REFERENCE,
    REPORTS,
    ROLES,
    SEPARATION_REASONS,
    WAGE_BANDS,
)

# ----------------------------------------------------------------------------------------------------
# Calendar
# ----------------------------------------------------------------------------------------------------

EPOCH = dt.date(1970, 1, 1)
DEMO_FIRST_QUARTER = "2023-Q4"
DEMO_LAST_QUARTER = "2026-Q3"
DEMO_AS_OF = "2026-11-15"
CODE_CHANGE_DATE = "2025-01-01"  # H2015 retired, H2016 introduced
AGENCY_EPOCH = "2015-01-01"  # active_from of agencies that reported from the start
STATE_SUBMITTER = "state-backfill@dbh.example.gov"


def _days(value: str | dt.date) -> int:
    d = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return (d - EPOCH).days


def _iso(days: int) -> str:
    return (EPOCH + dt.timedelta(days=int(days))).isoformat()


def quarter_start(quarter: str) -> dt.date:
    return dt.date(int(quarter[:4]), 3 * (int(quarter[-1]) - 1) + 1, 1)


def quarter_end(quarter: str) -> dt.date:
    year, n = int(quarter[:4]), int(quarter[-1])
    nxt = dt.date(year + 1, 1, 1) if n == 4 else dt.date(year, 3 * n + 1, 1)
    return nxt - dt.timedelta(days=1)


def _next_quarter(quarter: str) -> str:
    year, n = int(quarter[:4]), int(quarter[-1])
    return f"{year + 1}-Q1" if n == 4 else f"{year}-Q{n + 1}"


def quarter_range(first: str, last: str) -> list[str]:
    """Quarters from first to last inclusive, e.g. 2023-Q4 .. 2026-Q3."""
    out = [first]
    while out[-1] != last:
        out.append(_next_quarter(out[-1]))
        if len(out) > 400:
            raise ValueError(f"bad quarter range {first}..{last}")
    return out


def last_quarters(n: int, last: str = DEMO_LAST_QUARTER) -> list[str]:
    """The n quarters ending with `last`."""
    year, q = int(last[:4]), int(last[-1])
    k = year * 4 + q - 1 - (n - 1)
    return quarter_range(f"{k // 4}-Q{k % 4 + 1}", last)


DEMO_QUARTERS = quarter_range(DEMO_FIRST_QUARTER, DEMO_LAST_QUARTER)

# ----------------------------------------------------------------------------------------------------
# Reference data that does not depend on the simulation
# ----------------------------------------------------------------------------------------------------

# credential_code, title, canonical_role, population, renewal_months, ce_hours_per_cycle,
# medicaid_billable, has_provisional
CREDENTIALS: list[tuple[Any, ...]] = [
    ("CPS", "Certified Peer Specialist", "PEER_SPECIALIST_MH", "MH", 24, 20, True, True),
    ("CPRS", "Certified Peer Recovery Specialist", "PEER_RECOVERY_SUD", "SUD", 24, 20, True, True),
    ("CRPA", "Certified Recovery Peer Advocate", "PEER_RECOVERY_SUD", "SUD", 24, 20, True, False),
    ("FPA", "Family Peer Advocate", "FAMILY_PEER", "FAMILY", 24, 20, True, True),
    ("YPA", "Youth Peer Advocate", "YOUTH_PEER", "YOUTH", 24, 20, True, True),
    ("ICRC_PR", "IC&RC Peer Recovery", "PEER_RECOVERY_SUD", "BOTH", 24, 20, True, False),
    ("NCPRSS", "NAADAC National Certified Peer Recovery Support Specialist", "PEER_RECOVERY_SUD", "SUD", 24,
     20, True, False),
    ("CFPS", "Certified Forensic Peer Specialist", "FORENSIC_PEER", "BOTH", 36, 30, True, False),
    ("CPSS", "Certified Peer Support Supervisor", "PEER_SUPERVISOR", "BOTH", 24, 12, False, False),
]
CRED_CODES = [c[0] for c in CREDENTIALS]
CRED_RENEWAL_DAYS = np.array([round(c[4] * 365.25 / 12) for c in CREDENTIALS], dtype=np.int64)
CRED_CE_HOURS = np.array([c[5] for c in CREDENTIALS], dtype=np.float64)
CRED_PROVISIONAL = np.array([c[7] for c in CREDENTIALS], dtype=bool)
NONE_CODE = len(CREDENTIALS)  # index of "NONE" in the label list used for output
# credential choice per peer role (indexes into CREDENTIALS) with probabilities
ROLE_CREDENTIALS: list[tuple[list[int], list[float]]] = [
    ([0], [1.0]),  # PEER_SPECIALIST_MH: CPS
    ([1, 2, 5, 6], [0.6, 0.15, 0.15, 0.1]),  # PEER_RECOVERY_SUD
    ([3], [1.0]),  # FAMILY_PEER: FPA
    ([4], [1.0]),  # YOUTH_PEER: YPA
    ([7, 0, 1], [0.6, 0.2, 0.2]),  # FORENSIC_PEER: CFPS, or CPS / CPRS
]

# hcpcs, modifier, description, unit_minutes, rate_per_unit, max_units_day, service_kind, effective_from,
# effective_to ("" = in force)
BILLING_CODES: list[tuple[Any, ...]] = [
    ("H0038", "", "Self-help/peer services, per 15 minutes", 15, 18.50, 16, "individual", "2010-01-01", ""),
    ("H0038", "HQ", "Self-help/peer services, per 15 minutes, group setting", 15, 4.75, 12, "group",
     "2010-01-01", ""),
    ("H0038", "HA", "Self-help/peer services, per 15 minutes, child/adolescent (youth peer support)", 15, 19.00,
     12, "youth", "2010-01-01", ""),
    ("H2015", "", "Comprehensive community support services (peer), per 15 minutes; retired, replaced by H2016",
     15, 15.25, 24, "individual", "2010-01-01", "2024-12-31"),
    ("H2016", "", "Comprehensive community support services (peer), per 15 minutes; replaces H2015", 15, 16.75,
     24, "individual", CODE_CHANGE_DATE, ""),
    ("T1016", "HS", "Family peer support (family/couple without the member present), per 15 minutes", 15, 16.00,
     12, "family", "2010-01-01", ""),
]
BC_H0038, BC_HQ, BC_HA, BC_H2015, BC_H2016, BC_T1016 = range(6)
BC_RATE = np.array([b[4] for b in BILLING_CODES])

TARGETS: list[tuple[str, str, str, str]] = [
    ("peer_to_clinician_ratio", "Peer FTE per CLINICAL_LICENSED FTE (higher is better)", "0.5", "1"),
    ("pct_certified", "% of peer workers CERTIFIED_ACTIVE at quarter end (higher is better)", "85", "1"),
    ("supervision_coverage", "Peer workers per trained peer supervisor (lower is better: the score is "
     "min(100, target / value x 100))", "8", "1"),
    ("retention_12m", "% of peers hired 12+ months ago who are still employed (higher is better)", "70", "1"),
    ("billing_sustainability", "% of peer FTE (at agencies employing peers) working at agencies that bill "
     "Medicaid for peer services (higher is better)", "80", "1"),
]

DEMO_USERS: list[tuple[str, str, str, str]] = [
    # One identity per role for demo mode's role switcher (and the sign-in tests).
    ("admin@state.example", "state_admin", "", "Dana Okafor (state administrator)"),
    ("analyst@state.example", "state_analyst", "", "Lee Marsh (state analyst)"),
    ("viewer@state.example", "state_viewer", "", "Ana Ruiz (state program staff)"),
    ("submitter@fairstead.example", "agency_submitter", "AG0042", "Sam Patel (Nordale and Fairstead reports)"),
    ("submitter@fairstead.example", "agency_submitter", "AG0101", "Sam Patel (Nordale and Fairstead reports)"),
    ("public@example.org", "public", "", "Pat Public (signed-in member of the public)"),
]

POLICY: list[tuple[str, str, str]] = [
    ("certification_required_for_billing", "true",
     "Medicaid peer units billed in a quarter in which the agency has no CERTIFIED_ACTIVE or PROVISIONAL peer "
     "are an error (a warning when false)."),
    ("submission_due_days", "30", "A quarterly report is due this many days after the quarter ends; later "
     "submissions are flagged late."),
    ("units_per_fte_ceiling", "1400", "Billed units per peer FTE per quarter above this are flagged "
     "(13 weeks x 40 h x 4 units = 2,080 is the physical ceiling)."),
    ("practices_due_quarters", "Q2 Q4", "Quarters of the year in which the practices self-assessment is due "
     "(space-separated); it is due submission_due_days after such a quarter ends."),
    ("demo_as_of", DEMO_AS_OF, "The 'today' used with the demo data so date rules (future quarter, late "
     "submission, expiring soon) give the same answers whenever the demo is loaded."),
]

# ----------------------------------------------------------------------------------------------------
# Agency mix (per state of 120 agencies)
# ----------------------------------------------------------------------------------------------------
# n: agencies per state; peers: share employing peers; size: relative peer positions; roles: share of
# positions by PEER_ROLES order; medicaid: share enrolled; bill: share of enrolled agencies with peers
# that bill; children: share serving children; own: public/nonprofit/forprofit; clin: clinicians;
# wage: wage factor; fund: primary funding of peer positions.
TYPE_CFG: dict[str, dict[str, Any]] = {
    "CMHC": dict(n=18, peers=0.70, size=16, roles=(0.70, 0.05, 0.10, 0.05, 0.10), medicaid=1.0, bill=1.0,
                 children=0.8, own=(0.4, 0.6, 0.0), clin=80, wage=1.02,
                 fund=("MEDICAID_MCO", "MEDICAID_FFS", "MHBG", "STATE_GF")),
    "SUD_TREATMENT": dict(n=22, peers=0.90, size=12, roles=(0.05, 0.90, 0, 0, 0.05), medicaid=0.95, bill=1.0,
                          children=0.1, own=(0.0, 0.6, 0.4), clin=20, wage=1.0,
                          fund=("MEDICAID_MCO", "SABG", "OPIOID_SETTLEMENT", "MEDICAID_FFS")),
    "OTP": dict(n=10, peers=0.80, size=6, roles=(0, 1.0, 0, 0, 0), medicaid=1.0, bill=1.0, children=0.0,
                own=(0.0, 0.4, 0.6), clin=8, wage=1.0, fund=("MEDICAID_MCO", "OPIOID_SETTLEMENT", "SABG")),
    "RCO": dict(n=14, peers=0.93, size=10, roles=(0.10, 0.85, 0, 0, 0.05), medicaid=0.7, bill=0.8,
                children=0.0, own=(0.0, 1.0, 0.0), clin=0, wage=0.96,
                fund=("SABG", "OPIOID_SETTLEMENT", "GRANT", "STATE_GF")),
    "PEER_RUN": dict(n=10, peers=0.90, size=8, roles=(0.75, 0.20, 0, 0, 0.05), medicaid=0.6, bill=0.8,
                     children=0.1, own=(0.0, 1.0, 0.0), clin=0, wage=0.96, fund=("MHBG", "STATE_GF", "GRANT")),
    "HOSPITAL_ED": dict(n=10, peers=0.40, size=6, roles=(0.40, 0.60, 0, 0, 0), medicaid=1.0, bill=0.75,
                        children=0.3, own=(0.2, 0.6, 0.2), clin=40, wage=1.06,
                        fund=("MEDICAID_MCO", "OPIOID_SETTLEMENT", "GRANT", "OTHER")),
    "INPATIENT_PSYCH": dict(n=6, peers=0.35, size=5, roles=(0.90, 0.10, 0, 0, 0), medicaid=1.0, bill=1.0,
                            children=0.33, own=(0.5, 0.2, 0.3), clin=60, wage=1.05,
                            fund=("STATE_GF", "MEDICAID_FFS", "MHBG")),
    "JAIL_REENTRY": dict(n=8, peers=0.40, size=5, roles=(0.10, 0.20, 0, 0, 0.70), medicaid=0.6, bill=1.0,
                         children=0.0, own=(1.0, 0.0, 0.0), clin=5, wage=1.0,
                         fund=("STATE_GF", "OPIOID_SETTLEMENT", "GRANT")),
    "FQHC": dict(n=10, peers=0.50, size=4, roles=(0.50, 0.50, 0, 0, 0), medicaid=1.0, bill=1.0, children=0.5,
                 own=(0.0, 1.0, 0.0), clin=30, wage=1.0, fund=("MEDICAID_MCO", "MEDICAID_FFS", "GRANT")),
    "FAMILY_RUN": dict(n=6, peers=1.0, size=8, roles=(0, 0, 0.85, 0.15, 0), medicaid=0.8, bill=1.0,
                       children=1.0, own=(0.0, 1.0, 0.0), clin=0, wage=0.97,
                       fund=("MHBG", "MEDICAID_MCO", "STATE_GF")),
    "YOUTH_ORG": dict(n=6, peers=1.0, size=7, roles=(0, 0, 0.20, 0.80, 0), medicaid=0.8, bill=1.0,
                      children=1.0, own=(0.0, 1.0, 0.0), clin=4, wage=0.97, fund=("MHBG", "MEDICAID_MCO", "GRANT")),
}
TYPE_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {
    "CMHC": (("Community Mental Health Center", "cmhc"), ("Behavioral Health", "bh"),
             ("Counseling Center", "counseling")),
    "SUD_TREATMENT": (("Recovery Services", "recovery"), ("Addiction Treatment Center", "atc"),
                      ("Treatment Associates", "treatment")),
    "OTP": (("Opioid Treatment Program", "otp"), ("Medication Assisted Recovery Clinic", "marc")),
    "RCO": (("Recovery Community Organization", "rco"), ("Recovery Hub", "recoveryhub"),
            ("Recovery Alliance", "recoveryalliance")),
    "PEER_RUN": (("Peer Support Collective", "peers"), ("Peer Wellness Center", "peerwellness"),
                 ("Peer-Run Respite", "respite")),
    "HOSPITAL_ED": (("General Hospital", "hospital"), ("Regional Medical Center", "rmc")),
    "INPATIENT_PSYCH": (("Psychiatric Hospital", "psych"), ("Behavioral Hospital", "bhospital")),
    "JAIL_REENTRY": (("Reentry Program", "reentry"), ("Justice Reentry Services", "justice")),
    "FQHC": (("Community Health Center", "chc"), ("Family Health Clinic", "fhc")),
    "FAMILY_RUN": (("Family Support Network", "family"), ("Parent Partners", "parents")),
    "YOUTH_ORG": (("Youth Services", "youth"), ("Young Adult Center", "youngadult")),
}
TOWN_PREFIX = ["Ash", "Bel", "Bram", "Cal", "Dun", "Elm", "Fair", "Glen", "Hart", "Kes", "Lark", "Mar", "Nor",
               "Oak", "Pem", "Quin", "Red", "Shel", "Thorn", "Wil", "Wren", "Hol", "Stan", "Clay", "Fox", "Haw",
               "Lin", "Mill", "Rye", "Sal"]
TOWN_SUFFIX = ["ford", "ton", "field", "brook", "wood", "dale", "more", "haven", "ridge", "wick", "bury",
               "mont", "port", "stead", "vale", "crest"]
COUNTY_WORDS = ["Alder", "Birch", "Cedar", "Juniper", "Tamarack", "Sumac", "Hazel", "Linden", "Sycamore",
                "Willow", "Aspen", "Hemlock", "Laurel", "Magnolia", "Poplar", "Spruce", "Tupelo", "Yarrow",
                "Bayberry", "Chinquapin", "Dogwood", "Elderberry", "Foxglove", "Greenbriar", "Hickory",
                "Ironwood", "Jessamine", "Kestrel", "Larkspur", "Marigold", "Nettle", "Osage", "Pawpaw",
                "Quillwort", "Redbud", "Sassafras", "Thistle", "Umber", "Verbena", "Wintergreen", "Buckeye",
                "Catalpa", "Mulberry", "Persimmon", "Sorrel"]
# Demo regions: name, population, pct_rural, agencies, counties, peer FTE per 100k people
REGIONS: list[tuple[str, int, float, int, int, float]] = [
    ("Metro Harbor", 2_450_000, 4.5, 30, 6, 17.0),
    ("Northern Lakes", 1_980_000, 22.0, 25, 8, 14.0),
    ("River Valley", 1_620_000, 31.5, 22, 8, 12.5),
    ("Eastern Piedmont", 1_410_000, 44.0, 20, 8, 10.0),
    ("High Plains", 1_310_000, 68.5, 23, 10, 7.5),
]
LAPSE_REGION = 2  # River Valley
MCO_PLANS = ("MCO-A", "MCO-B", "MCO-C")
FFS_PAYER = "FFS-MEDICAID"
# Separation reasons (SEPARATION_REASONS order) and their shares; DOMAIN.md's mix plus a little OTHER.
SEP_REASON_P = np.array([0.29, 0.19, 0.15, 0.10, 0.08, 0.04, 0.03, 0.05, 0.05, 0.02])
SEP_TYPE_OF_REASON = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 2])  # VOLUNTARY / INVOLUNTARY / OTHER
SEP_TYPES = ("VOLUNTARY", "INVOLUNTARY", "OTHER")
FUNDING_LOSS, TERMINATED = SEPARATION_REASONS.index("FUNDING_LOSS"), SEPARATION_REASONS.index("TERMINATED")
STATUS = ("IN_TRAINING", "PROVISIONAL", "CERTIFIED_ACTIVE", "EXPIRED_GRACE", "LAPSED", "SUSPENDED", "REVOKED",
          "NOT_REQUIRED")
ST_TRAIN, ST_PROV, ST_ACTIVE, ST_GRACE, ST_LAPSED, ST_SUSP, ST_REVOKED, ST_NOTREQ = range(8)
EVENT_LABELS = ("HIRE", "SEPARATION", "ROLE_CHANGE", "PROMOTION")
REPORT_ORDER = ("headcount", "certification", "billing", "retention")
FLOAT_PRECISION = {"headcount": 2, "certification": 1, "billing": 2, "retention": 0}
ROLE_INDEX = {r: i for i, r in enumerate(ROLES)}
SUPERVISOR, CLINICIAN = ROLE_INDEX["PEER_SUPERVISOR"], ROLE_INDEX["CLINICAL_LICENSED"]
FAMILY, YOUTH, FORENSIC = (ROLE_INDEX[r] for r in ("FAMILY_PEER", "YOUTH_PEER", "FORENSIC_PEER"))
BURN_IN_DAYS = 3650  # spells start this long before the first quarter (steady state at window start)
FAR = 10**7  # "never" in day arithmetic


# ----------------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------------

def _hash_u(a: np.ndarray, b: np.ndarray | int, salt: int) -> np.ndarray:
    """Uniform [0, 1) from integer keys (splitmix64): the same (a, b, salt) always gives the same draw."""
    with np.errstate(over="ignore"):
        x = np.asarray(a, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= (np.asarray(b, dtype=np.uint64) + np.uint64(salt & 0xFFFFFFFF)) * np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def _exact(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Boolean mask with exactly round(n * share) True values at random positions."""
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[: int(round(n * share))]] = True
    return mask


def _expand(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For intervals [first, last] (inclusive, may be empty) return (interval index, value) pairs."""
    n = np.maximum(last - first + 1, 0)
    idx = np.repeat(np.arange(len(n)), n)
    start = np.cumsum(n) - n
    return idx, first[idx] + (np.arange(int(n.sum())) - start[idx])


def _labels(labels: list[str] | tuple[str, ...], idx: np.ndarray) -> pl.Series:
    return pl.Series(values=list(labels), dtype=pl.String).gather(idx)


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    s = pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)
    if valid is not None:
        s = pl.select(pl.when(pl.Series(valid)).then(s).otherwise(None)).to_series()
    return s


def _largest_remainder(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    n = len(weights)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    base = np.full(n, minimum, dtype=np.int64)
    rest = max(total - minimum * n, 0)
    raw = rest * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - out), kind="stable")
    out[order[: rest - out.sum()]] += 1
    return base + out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ----------------------------------------------------------------------------------------------------
# States, regions and agencies
# ----------------------------------------------------------------------------------------------------

def _build_world(states: int, seed: int, qstart: np.ndarray, qend: np.ndarray,
                 with_stories: bool) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], list[dict[str, Any]]]:
    """Regions, agencies (reference columns plus simulation parameters) for every state."""
    nq = len(qstart)
    wstart = int(qstart[0])
    first_from = _days(AGENCY_EPOCH)
    if first_from > wstart - 365:
        first_from = _days(dt.date((EPOCH + dt.timedelta(days=wstart)).year - 1, 1, 1))
    new_q = max(1, round(nq * 5 / 12)) if nq >= 4 else None
    close_q = min(nq - 2, new_q + 1) if new_q is not None else None
    id_width = 4 if states == 1 else 6
    regions: list[dict[str, Any]] = []
    cols: dict[str, list[Any]] = {}
    stories: list[dict[str, Any]] = []

    def add(**kw: Any) -> None:
        for k, v in kw.items():
            cols.setdefault(k, []).append(v)

    type_names = list(TYPE_CFG)
    type_list = [t for t in type_names for _ in range(TYPE_CFG[t]["n"])]
    n_state = len(type_list)
    for s in range(states):
        rng = np.random.default_rng([seed, 101, s])
        # regions
        if s == 0:
            reg = REGIONS
        else:
            pops = np.sort(rng.uniform(1.3e6, 2.5e6, 5))[::-1]
            reg = [(f"{name} {s + 1:02d}", int(round(p, -4)), round(float(r * rng.uniform(0.8, 1.2)), 1), na, nc,
                    round(float(d * rng.uniform(0.85, 1.15)), 2))
                   for (name, _, r, na, nc, d), p in zip(REGIONS, pops)]
        reg_gidx = []
        for name, pop, rural, _, _, dens in reg:
            gi = len(regions)
            regions.append(dict(region_id=f"R{gi + 1}", name=name, population=pop, pct_rural=min(rural, 95.0),
                                density=dens, state=s))
            reg_gidx.append(gi)
        # agency types by region: shuffle until every region has a CMHC, an SUD provider and an RCO/peer-run
        sizes = [r[3] for r in reg]
        bounds = np.cumsum([0] + sizes)
        while True:
            perm = rng.permutation(n_state)
            types = [type_list[i] for i in perm]
            ok = all({"CMHC", "SUD_TREATMENT"} <= set(types[bounds[r]:bounds[r + 1]])
                     and {"RCO", "PEER_RUN"} & set(types[bounds[r]:bounds[r + 1]]) for r in range(5))
            if ok:
                break
        region_of = np.repeat(np.arange(5), sizes)
        # counties
        words = rng.choice(len(COUNTY_WORDS), size=sum(r[4] for r in reg), replace=False)
        county_names = [f"{COUNTY_WORDS[w]} County" for w in words]
        cb = np.cumsum([0] + [r[4] for r in reg])
        county = np.empty(n_state, dtype=object)
        for r in range(5):
            members = np.flatnonzero(region_of == r)
            nc = reg[r][4]
            pick = np.concatenate([rng.permutation(nc), rng.integers(0, nc, max(0, len(members) - nc))])
            county[members] = [county_names[cb[r] + k] for k in pick[: len(members)]]
        # towns (unique per state)
        towns_all = [p + x for p in TOWN_PREFIX for x in TOWN_SUFFIX if p.lower() != x]
        towns = [towns_all[i] for i in rng.choice(len(towns_all), size=n_state, replace=False)]
        tarr = np.array(types)
        has_peers = np.zeros(n_state, bool)
        medicaid = np.zeros(n_state, bool)
        children = np.zeros(n_state, bool)
        bills = np.zeros(n_state, bool)
        ownership = np.empty(n_state, dtype=object)
        for t in type_names:
            idx = np.flatnonzero(tarr == t)
            cfg = TYPE_CFG[t]
            has_peers[idx] = _exact(rng, len(idx), cfg["peers"])
            medicaid[idx] = _exact(rng, len(idx), cfg["medicaid"])
            children[idx] = _exact(rng, len(idx), cfg["children"])
            ownership[idx] = rng.choice(["public", "nonprofit", "forprofit"], size=len(idx), p=cfg["own"])
            cand = idx[has_peers[idx] & medicaid[idx]]
            bills[cand] = _exact(rng, len(cand), cfg["bill"])
        # mid-window starts (an RCO, an OTP, a peer-run org) and one closure (an SUD provider)
        active_from = np.full(n_state, first_from, dtype=np.int64)
        active_to = np.full(n_state, FAR, dtype=np.int64)
        is_new = np.zeros(n_state, bool)
        closing = np.zeros(n_state, bool)
        if new_q is not None:
            for t in ("RCO", "OTP", "PEER_RUN"):
                i = int(rng.choice(np.flatnonzero(tarr == t)))
                is_new[i] = True
                active_from[i] = int(qstart[new_q])
                has_peers[i] = True
                bills[i] = medicaid[i]
            i = int(rng.choice(np.flatnonzero((tarr == "SUD_TREATMENT") & ~is_new)))
            closing[i] = True
            active_to[i] = int(qend[close_q])
            has_peers[i] = True
        # peer positions: each region's budget so its FTE per 100k is about `density`
        weight = np.array([TYPE_CFG[t]["size"] for t in types]) * rng.lognormal(0.0, 0.45, n_state)
        slots = np.zeros(n_state, dtype=np.int64)
        for r in range(5):
            members = np.flatnonzero((region_of == r) & has_peers)
            pop, dens = reg[r][1], reg[r][5]
            target = dens * pop / 1e5 / (0.84 * 0.935) / 1.04
            slots[members] = _largest_remainder(int(round(target)), weight[members], 2)
        # stories (first state only)
        story: dict[str, Any] = {}
        spike = np.zeros(n_state, bool)
        uses_cs = np.zeros(n_state, bool)
        eligible = bills & ~is_new & ~closing
        cs_cand = np.flatnonzero(eligible & np.isin(tarr, ["CMHC", "SUD_TREATMENT"]))
        uses_cs[rng.choice(cs_cand, size=max(1, round(len(cs_cand) * 0.08)), replace=False)] = True
        if s == 0 and with_stories:
            cmhc = np.flatnonzero(eligible & (tarr == "CMHC"))
            i = int(cmhc[np.argmax(slots[cmhc])])
            spike[i] = uses_cs[i] = True
            story["denial_spike"] = i
            rco = np.flatnonzero((tarr == "RCO") & has_peers & ~is_new & ~closing & medicaid & ~bills)
            if len(rco) == 0:
                rco = np.flatnonzero((tarr == "RCO") & has_peers & ~is_new & ~closing)
            i = int(rco[np.argmax(slots[rco])])
            medicaid[i], bills[i] = True, False
            story["no_billing_rco"] = i
        # order of agency ids: shuffled, so ids say nothing about region or type
        order = rng.permutation(n_state)
        pos_of = np.empty(n_state, dtype=np.int64)
        pos_of[order] = np.arange(n_state)
        base = len(cols.get("agency_id", []))
        phrase_pick = rng.integers(0, 3, n_state)
        for k in order:
            t = types[k]
            phrases = TYPE_PHRASES[t]
            phrase, tag = phrases[phrase_pick[k] % len(phrases)]
            num = base + pos_of[k] + 1
            name = f"{towns[k]} {phrase}"
            slug = f"{_slug(towns[k])}-{tag}" + (f"-{s + 1:02d}" if states > 1 else "")
            cfg = TYPE_CFG[t]
            roles = np.array(cfg["roles"], dtype=np.float64)
            if not children[k]:
                roles[0] += roles[FAMILY] + roles[YOUTH]
                roles[FAMILY] = roles[YOUTH] = 0.0
            k_mco = int(rng.choice([1, 2, 3], p=[0.2, 0.4, 0.4]))
            mco = np.zeros(3)
            mco[np.sort(rng.choice(3, size=k_mco, replace=False))] = rng.dirichlet(np.full(k_mco, 3.0))
            ffs = rng.uniform(0.1, 0.3)
            add(agency_id=f"AG{num:0{id_width}d}", name=name, region=reg_gidx[region_of[k]], county=county[k],
                type=type_names.index(t), ownership=ownership[k], medicaid=bool(medicaid[k]),
                children=bool(children[k]), active_from=int(active_from[k]), active_to=int(active_to[k]),
                email=f"reports@{slug}.example.org", has_peers=bool(has_peers[k]), bills=bool(bills[k]),
                slots=int(slots[k]), role_p=roles / roles.sum(), is_new=bool(is_new[k]), closing=bool(closing[k]),
                state=s, growth=rng.uniform(0.0, 0.07), mu_long=1500.0 * np.clip(rng.lognormal(0, 0.35), 0.5, 2.0),
                early=rng.uniform(0.25, 0.40), ft_share=rng.uniform(0.5, 0.75),
                wage=cfg["wage"] * rng.lognormal(0, 0.04), upf=rng.uniform(600, 1100),
                group_share=0.0 if rng.random() < 0.3 else rng.uniform(0.08, 0.30),
                denial=rng.uniform(0.045, 0.12), markup=1.0 if rng.random() < 0.5 else rng.uniform(1.05, 1.3),
                pay_ffs=ffs, pay_mco=mco * (1 - ffs), sup_ratio=rng.uniform(4.0, 12.0),
                trained=0.0 if rng.random() < 0.15 else rng.uniform(0.5, 1.0),
                clin=int(round(cfg["clin"] * rng.lognormal(0, 0.35))) if cfg["clin"] else 0,
                clin_vac=rng.uniform(0.03, 0.15), fund_peer=str(rng.choice(cfg["fund"])),
                fund_clin=str(rng.choice(("STATE_GF", "MEDICAID_FFS") if t in ("JAIL_REENTRY", "INPATIENT_PSYCH")
                                         else ("MEDICAID_MCO", "MEDICAID_FFS"), p=(0.6, 0.4))),
                uses_cs=bool(uses_cs[k]), spike=bool(spike[k]))
        if s == 0:
            story = {key: base + int(pos_of[v]) for key, v in story.items()}
            story["new"] = sorted(base + int(pos_of[i]) for i in np.flatnonzero(is_new))
            story["closed"] = [base + int(pos_of[i]) for i in np.flatnonzero(closing)]
            stories.append(story)
    ag: dict[str, np.ndarray] = {}
    for k, v in cols.items():
        if k in ("role_p", "pay_mco"):
            ag[k] = np.vstack(v)
        elif isinstance(v[0], str):
            ag[k] = np.array(v, dtype=object)
        else:
            ag[k] = np.array(v)
    return regions, ag, stories


# ----------------------------------------------------------------------------------------------------
# People: slots, spells, certification, retention, headcount, billing
# ----------------------------------------------------------------------------------------------------

def _simulate(ag: dict[str, np.ndarray], regions: list[dict[str, Any]], qstart: np.ndarray, qend: np.ndarray,
              seed: int, stories: dict[str, Any]) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 202])
    nq = len(qstart)
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
    lapse_region = stories.get("lapse_region_idx", -1)
    story_from = int(qstart[max(0, nq - 4)]) - 90
    salt = seed * 7919 + 17

    # --- certification rows: one per spell and quarter end it covers
    sp = dict(hire=hire, sep=sep, cert=cert_date, prov=prov_date, L=L, pid=pid_num, a=a_sp, role1=role1,
              rc_date=rc_date, susp=susp, susp_kind=susp_kind, notreq=notreq, cred=cred, train_h=train_h,
              sup_base=sup_base, ce_f=ce_f, ft=ft, fte_c=fte_c)
    # in chunks of whole agencies (spells are sorted by agency), to bound the temporary arrays
    cuts = np.searchsorted(a_sp, np.arange(0, n_ag + 1, max(1, n_ag // max(1, n_sp // 40_000))))
    cuts = np.unique(np.r_[0, cuts, n_sp])
    cert = pl.concat([_certification({k: v[lo:hi] for k, v in sp.items()}, qend, ag["region"], lapse_region,
                                     story_from, salt) for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo],
                     rechunk=False)
    del sp

    # --- retention events
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
    retention = pl.DataFrame({
        "a": a_sp[e_sp], "q": np.searchsorted(qend, e_date, side="left"), "pid": pid_num[e_sp], "event_i": e_code,
        "event_date": e_date, "hire_date": hire[e_sp], "ft": ft[e_sp], "band": e_band,
        "sep_type": np.where(e_code == 1, sep_type[e_sp], -1), "reason": np.where(e_code == 1, reason[e_sp], -1),
    })

    # --- headcount: peer roles from the certification rows, vacancies from the gaps between spells
    gs = np.concatenate(g_slot)
    gst = np.concatenate(g_start)
    gen = np.concatenate(g_end)
    g_first = np.searchsorted(qend, gst, side="left")
    g_last = np.searchsorted(qend, gen, side="left") - 1
    gi, gq = _expand(g_first, np.minimum(g_last, nq - 1))
    vac = (pl.DataFrame({"a": s_ag[gs[gi]], "q": gq, "role_i": s_role[gs[gi]]})
           .group_by("a", "q", "role_i").agg(pl.len().alias("vacancies")))
    peers = (cert.lazy().group_by("a", "q", "role_i")
             .agg(pl.len().alias("headcount"), pl.col("ft").sum().alias("headcount_fulltime"),
                  pl.col("fte_c").sum().alias("fte_c")).collect())
    peer_hc = peers.join(vac, on=["a", "q", "role_i"], how="full", coalesce=True).fill_null(0)
    # agency-quarter grid of active quarters
    aq_a, aq_q = _expand(np.searchsorted(qend, ag["active_from"], side="left"),
                         np.searchsorted(qstart, ag["active_to"], side="right") - 1)
    aq = pl.DataFrame({"a": aq_a, "q": aq_q})
    tot = peers.group_by("a", "q").agg(pl.col("headcount").sum().alias("peers"))
    aqp = aq.join(tot, on=["a", "q"], how="left").fill_null(0).sort("a", "q")
    a_arr, q_arr, p_arr = (aqp[c].to_numpy() for c in ("a", "q", "peers"))
    # supervisors
    sup_hc = np.where(p_arr > 0, np.maximum(1, np.round(p_arr / ag["sup_ratio"][a_arr])), 0).astype(np.int64)
    trained = np.minimum(np.round(sup_hc * ag["trained"][a_arr]), sup_hc).astype(np.int64)
    sup_pt = ((sup_hc >= 3) & (_hash_u(a_arr, q_arr, salt + 3) < 0.3)).astype(np.int64)
    sup = pl.DataFrame({"a": a_arr, "q": q_arr, "role_i": np.full(len(a_arr), SUPERVISOR), "headcount": sup_hc,
                        "headcount_fulltime": sup_hc - sup_pt, "fte_c": (sup_hc - sup_pt) * 100 + sup_pt * 50,
                        "vacancies": ((sup_hc > 0) & (_hash_u(a_arr, q_arr, salt + 4) < 0.08)).astype(np.int64),
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
    headcount = pl.concat([peer_hc.with_columns(trained_peer_supervisors=pl.lit(None, pl.Int64)), sup,
                           clin.with_columns(trained_peer_supervisors=pl.lit(None, pl.Int64))],
                          how="diagonal_relaxed")
    # a closing agency reports its last quarter with every role it had at zero
    last_aq = pl.DataFrame({"a": a_arr[closing_last], "q": q_arr[closing_last]})
    if last_aq.height:
        headcount = headcount.join(last_aq, on=["a", "q"], how="anti")
        zeros = (headcount.join(last_aq.with_columns(pl.col("q") - 1), on=["a", "q"], how="semi")
                 .with_columns(pl.col("q") + 1, headcount=0, headcount_fulltime=0, fte_c=0, vacancies=0,
                               trained_peer_supervisors=pl.when(pl.col("role_i") == SUPERVISOR).then(0)))
        headcount = pl.concat([headcount, zeros], how="diagonal_relaxed")
    fund_peer = np.array([FUNDING.index(f) for f in ag["fund_peer"]], dtype=np.int64)
    fund_clin = np.array([FUNDING.index(f) for f in ag["fund_clin"]], dtype=np.int64)
    headcount = headcount.sort("a", "q", "role_i")
    h_a, h_r = headcount["a"].to_numpy(), headcount["role_i"].to_numpy()
    headcount = headcount.with_columns(fund_i=pl.Series(np.where(h_r == CLINICIAN, fund_clin[h_a], fund_peer[h_a])))

    # --- billing: units from the FTE of peers who may bill (active or provisional), split by code and payer
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
    code_change_q = int(np.searchsorted(qstart, _days(CODE_CHANGE_DATE), side="left"))
    post = bq >= code_change_q
    ind = np.where(ag["uses_cs"][ba], np.where(post, BC_H2016, BC_H2015), BC_H0038)
    bcode = np.where(bcode < 0, ind, bcode)
    n_b = len(ba)
    upf = np.clip(ag["upf"][ba] * (1 + 0.06 * (_hash_u(ba, bq, salt + 5) - 0.5) * 2), 500, 1200)
    units = np.round(bill["bfte_c"].to_numpy() / 100 * upf * bill["cshare"].to_numpy() * bill["pshare"].to_numpy()
                     * rng.uniform(0.95, 1.05, n_b)).astype(np.int64)
    den = (ag["denial"][ba] + 0.015 * (_hash_u(ba, bq, salt + 6) - 0.5) * 2
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
    billing = pl.DataFrame({
        "a": ba, "q": bq, "payer_t": bill["payer_t"], "payer_i": bill["payer_i"], "code": bcode,
        "claims_submitted": claims, "claims_paid": c_paid, "claims_denied": c_den, "units_billed": units,
        "units_paid": u_paid, "units_denied": u_den,
        "amount_billed": np.round(units * rate * ag["markup"][ba], 2), "amount_paid": np.round(u_paid * rate, 2),
        "unique_beneficiaries": benef,
    }).filter(pl.col("units_billed") > 0).sort("a", "q", "payer_t", "payer_i", "code")

    return {"headcount": headcount, "certification": cert, "billing": billing,
            "retention": retention.sort("a", "q", "event_date", "pid", "event_i"), "pid_width": pid_width}


def _certification(sp: dict[str, np.ndarray], qend: np.ndarray, agency_region: np.ndarray, lapse_region: int,
                   story_from: int, salt: int) -> pl.DataFrame:
    """One row per spell and quarter end it covers, already in output order (agency, quarter, role, peer)."""
    nq = len(qend)
    wend = int(qend[-1])
    first_q = np.searchsorted(qend, sp["hire"], side="left")
    last_q = np.searchsorted(qend, sp["sep"], side="left") - 1
    s_idx, q = _expand(first_q, np.minimum(last_q, nq - 1))
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
    u1 = _hash_u(key, k, salt + 1)
    u2 = _hash_u(key, k, salt + 2)
    story_row = (agency_region[a] == lapse_region) & (B >= story_from)
    del a
    late_delay = 20 + (u2 * 70).astype(np.int64)
    lapse_delay = 91 + ((c_L - 92) * u2 ** np.where(story_row, 0.4, 1.4)).astype(np.int64)
    p_on = np.where(story_row, 0.15, 0.25)
    delay = np.where(u1 < p_on, 0, np.where(u1 < p_on + np.where(story_row, 0.15, 0.57), late_delay, lapse_delay))
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


# ----------------------------------------------------------------------------------------------------
# Output frames (contract columns, in contract order)
# ----------------------------------------------------------------------------------------------------

def _to_contract(kind: str, df: pl.DataFrame, agency_ids: pl.Series, quarters: list[str],
                 pid_width: int) -> pl.DataFrame:
    a = df["a"].to_numpy()
    qi = df["q"].to_numpy()
    cols: dict[str, pl.Series] = {"agency_id": agency_ids.gather(a), "quarter": _labels(quarters, qi)}
    if kind == "headcount":
        cols |= {"role": _labels(ROLES, df["role_i"].to_numpy()), "headcount": df["headcount"],
                 "headcount_fulltime": df["headcount_fulltime"], "fte": df["fte_c"] / 100,
                 "vacancies": df["vacancies"], "trained_peer_supervisors": df["trained_peer_supervisors"],
                 "primary_funding": _labels(FUNDING, df["fund_i"].to_numpy())}
    elif kind == "certification":
        hd = df["has_dates"].to_numpy()
        cols |= {"peer_id": _peer_ids(df["pid"], pid_width), "role": _labels(ROLES, df["role_i"].to_numpy()),
                 "credential_code": _labels(CRED_CODES + ["NONE"], df["cred_i"].to_numpy()),
                 "status": _labels(STATUS, df["status_i"].to_numpy()),
                 "issue_date": _dates(df["issue"].to_numpy(), hd),
                 "expiration_date": _dates(df["expiry"].to_numpy(), hd),
                 "training_hours": df["training_hours"], "supervised_hours": df["supervised_hours"],
                 "ce_hours_cycle": df["ce_hours_cycle"]}
    elif kind == "billing":
        pt = df["payer_t"].to_numpy()
        code = df["code"].to_numpy()
        cols |= {"payer_type": _labels(("FFS", "MCO"), pt),
                 "payer_id": _labels((FFS_PAYER,) + MCO_PLANS, df["payer_i"].to_numpy()),
                 "hcpcs": _labels([b[0] for b in BILLING_CODES], code),
                 "modifier": _labels([b[1] or None for b in BILLING_CODES], code)}
        cols |= {c: df[c] for c in REPORTS["billing"].names[6:]}
    else:
        st = df["sep_type"].to_numpy()
        rs = df["reason"].to_numpy()
        sep = st >= 0
        cols |= {"peer_id": _peer_ids(df["pid"], pid_width),
                 "event": _labels(EVENT_LABELS, df["event_i"].to_numpy()),
                 "event_date": _dates(df["event_date"].to_numpy()), "hire_date": _dates(df["hire_date"].to_numpy()),
                 "employment_type": _labels(("PT", "FT"), df["ft"].to_numpy().astype(np.int64)),
                 "hourly_wage_band": _labels(WAGE_BANDS, df["band"].to_numpy()),
                 "separation_type": pl.select(pl.when(pl.Series(sep)).then(_labels(SEP_TYPES, np.maximum(st, 0)))
                                              .otherwise(None)).to_series(),
                 "separation_reason": pl.select(pl.when(pl.Series(sep))
                                                .then(_labels(SEPARATION_REASONS, np.maximum(rs, 0)))
                                                .otherwise(None)).to_series()}
    out = pl.DataFrame({name: cols[name].alias(name) for name in REPORTS[kind].names})
    return out.with_columns(pl.Series("a", a), pl.Series("q", qi))


def _peer_ids(pid: pl.Series, width: int) -> pl.Series:
    return pl.select(pl.concat_str([pl.lit("P"), pid.cast(pl.String).str.zfill(width)])).to_series()


def _write_report(df: pl.DataFrame, kind: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    prec = FLOAT_PRECISION[kind] or None
    df.select(REPORTS[kind].names).write_csv(path, float_precision=prec, line_terminator="\n", null_value="",
                                              date_format="%Y-%m-%d")


# ----------------------------------------------------------------------------------------------------
# Reference CSVs
# ----------------------------------------------------------------------------------------------------

def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def _write_rows(path: Path, header: list[str], rows: list[tuple[Any, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([_fmt(v) for v in row])


def _write_reference(folder: Path, regions: list[dict[str, Any]], ag: dict[str, np.ndarray],
                     qstart0: int) -> None:
    eff_floor = min(_days("2010-01-01"), qstart0)
    _write_rows(folder / "regions.csv", REFERENCE["regions"].names,
                [(r["region_id"], r["name"], r["population"], float(r["pct_rural"])) for r in regions])
    rows = []
    for i in range(len(ag["agency_id"])):
        rows.append((ag["agency_id"][i], ag["name"][i], regions[int(ag["region"][i])]["region_id"], ag["county"][i],
                     AGENCY_TYPES[int(ag["type"][i])], ag["ownership"][i], bool(ag["medicaid"][i]),
                     bool(ag["children"][i]), _iso(ag["active_from"][i]),
                     "" if ag["active_to"][i] >= FAR else _iso(ag["active_to"][i]), ag["email"][i]))
    _write_rows(folder / "agencies.csv", REFERENCE["agencies"].names, rows)
    _write_rows(folder / "credentials.csv", REFERENCE["credentials"].names, CREDENTIALS)
    codes = [b[:7] + (min(b[7], _iso(eff_floor)) if b[7] != CODE_CHANGE_DATE else b[7], b[8])
             for b in BILLING_CODES]
    codes = [c[:4] + (f"{c[4]:.2f}",) + c[5:] for c in codes]
    _write_rows(folder / "billing_codes.csv", REFERENCE["billing_codes"].names, codes)
    _write_rows(folder / "targets.csv", REFERENCE["targets"].names, TARGETS)
    _write_rows(folder / "policy.csv", REFERENCE["policy"].names, POLICY)
    _write_rows(folder / "user_roles.csv", REFERENCE["user_roles"].names, DEMO_USERS)


# ----------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------

def generate(out_dir: Path, *, states: int = 1, quarters: list[str] | None = None, seed: int = 7,
             with_stories: bool = True, layout: str | None = None) -> dict[str, Any]:
    """Write synthetic reference data and submissions under out_dir; return counts, files and story ids.

    layout "sample" (default for one state) writes out_dir/reference and out_dir/sample (bulk files per
    quarter and report, per-agency story files, manifest.csv); "single" (default for several states)
    writes out_dir/<report>.csv with every agency and quarter, out_dir/reference and out_dir/manifest.csv.
    Stories (with_stories) are placed in the first state; their ids are returned under "stories".
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    quarters = list(quarters or DEMO_QUARTERS)
    layout = layout or ("sample" if states == 1 else "single")
    if layout not in ("sample", "single"):
        raise ValueError(f"unknown layout {layout!r}")
    qstart = np.array([_days(quarter_start(q)) for q in quarters], dtype=np.int64)
    qend = np.array([_days(quarter_end(q)) for q in quarters], dtype=np.int64)
    nq = len(quarters)
    regions, ag, story_list = _build_world(states, seed, qstart, qend, with_stories)
    story = story_list[0] if story_list else {}
    sim = _simulate(ag, regions, qstart, qend, seed, {"lapse_region_idx": LAPSE_REGION} if with_stories else {})
    pid_width = sim.pop("pid_width")
    t_sim = time.perf_counter() - t0

    # stories chosen from the simulated data (first state only)
    stories: dict[str, Any] = {}
    late = missing = resub = None
    resub_q, last2 = nq - 2, [nq - 2, nq - 1]
    if with_stories and nq >= 4:
        stories, late, missing, resub = _pick_stories(sim, ag, regions, story, quarters)
        if layout == "single":  # one file per report: no late or corrected files to tell apart
            late = resub = None
            for key in ("late_submitter", "late_quarters", "resubmitting_agency", "resubmitted_quarter"):
                stories.pop(key)
    rows: dict[str, int] = {}
    agency_ids = pl.Series(list(ag["agency_id"]), dtype=pl.String)

    def keep(df: pl.DataFrame) -> pl.DataFrame:  # the missing submitter sends nothing for the last 2 quarters
        return df if missing is None else df.filter(~((pl.col("a") == missing) & pl.col("q").is_in(last2)))

    _write_reference(out_dir / "reference", regions, ag, int(qstart[0]))
    files: list[tuple[str, str, str]] = []
    if layout == "single":
        for k in REPORT_ORDER:
            df = keep(sim.pop(k))
            rows[k] = df.height
            _write_chunked(df, k, out_dir / f"{k}.csv", agency_ids, quarters, pid_width)
            del df
            files.append((f"{k}.csv", STATE_SUBMITTER, f"{_iso(qend[-1] + 20)}T09:00:00"))
        _write_rows(out_dir / "manifest.csv", ["file", "submitted_by", "submitted_at"], files)
    else:
        frames = {k: _to_contract(k, keep(sim.pop(k)), agency_ids, quarters, pid_width) for k in REPORT_ORDER}
        rows = {k: f.height for k, f in frames.items()}
        files = _write_sample(out_dir / "sample", frames, ag, quarters, qend, seed, late, resub)
    return {"layout": layout, "out_dir": str(out_dir), "states": states, "seed": seed,
            "quarters": [quarters[0], quarters[-1], nq], "agencies": len(ag["agency_id"]), "regions": len(regions),
            "rows": rows, "files": [f[0] for f in files], "stories": stories,
            "seconds": {"simulate": round(t_sim, 2), "total": round(time.perf_counter() - t0, 2)}}


def _pick_stories(sim: dict[str, pl.DataFrame], ag: dict[str, np.ndarray], regions: list[dict[str, Any]],
                  story: dict[str, Any], quarters: list[str]) -> tuple[dict[str, Any], int, int, int]:
    """Choose the late, missing and resubmitting agencies (first state) from what was simulated."""
    nq = len(quarters)
    last2 = [nq - 2, nq - 1]
    idx = lambda i: str(ag["agency_id"][i])  # noqa: E731
    taken = {story["denial_spike"], story["no_billing_rco"], *story["new"], *story["closed"]}
    state0 = np.flatnonzero((ag["state"] == 0) & ~ag["is_new"] & ~ag["closing"])
    present = {k: set(sim[k].lazy().filter(pl.col("q").is_in(last2)).select("a", "q").unique().collect().rows())
               for k in REPORT_ORDER}
    sizes = sim["certification"].lazy().filter(pl.col("q") == nq - 1).group_by("a").len().collect()
    size_of = dict(zip(sizes["a"].to_list(), sizes["len"].to_list()))
    full = [int(a) for a in state0 if a not in taken
            and all((int(a), qq) in present[k] for k in REPORT_ORDER for qq in last2)]
    full.sort(key=lambda a: (-size_of.get(a, 0), a))
    late = full[len(full) // 3]  # a mid-size agency that files all four reports
    taken.add(late)
    miss_cand = [int(a) for a in state0 if int(a) not in taken and size_of.get(int(a), 0) >= 8
                 and AGENCY_TYPES[int(ag["type"][a])] in ("OTP", "SUD_TREATMENT", "FQHC", "PEER_RUN")]
    missing = miss_cand[len(miss_cand) // 2]
    taken.add(missing)
    rows_q = sim["billing"].filter(pl.col("q") == nq - 2).group_by("a").len()
    nrows = dict(zip(rows_q["a"].to_list(), rows_q["len"].to_list()))
    resub = sorted((a for a in full if a not in taken and nrows.get(a, 0) >= 4), key=lambda a: (-nrows[a], a))[0]
    stories = {
        "lapse_region": regions[LAPSE_REGION]["region_id"],
        "denial_spike_agency": idx(story["denial_spike"]),
        "no_billing_rco": idx(story["no_billing_rco"]),
        "late_submitter": idx(late), "late_quarters": [quarters[q] for q in last2],
        "missing_submitter": idx(missing), "missing_quarters": [quarters[q] for q in last2],
        "resubmitting_agency": idx(resub), "resubmitted_quarter": quarters[nq - 2],
        "new_agencies": [idx(i) for i in story["new"]], "closed_agency": idx(story["closed"][0]),
    }
    return stories, late, missing, resub


def _write_chunked(df: pl.DataFrame, kind: str, path: Path, agency_ids: pl.Series, quarters: list[str],
                   pid_width: int, chunk_rows: int = 400_000) -> None:
    """One CSV for a whole report, converted to contract columns a slice at a time (bounded memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for i, lo in enumerate(range(0, max(df.height, 1), chunk_rows)):
            part = _to_contract(kind, df.slice(lo, chunk_rows), agency_ids, quarters, pid_width)
            part.select(REPORTS[kind].names).write_csv(
                fh, include_header=i == 0, float_precision=FLOAT_PRECISION[kind] or None, line_terminator="\n",
                null_value="", date_format="%Y-%m-%d")


def _write_sample(sample: Path, frames: dict[str, pl.DataFrame], ag: dict[str, np.ndarray], quarters: list[str],
                  qend: np.ndarray, seed: int, late: int | None, resub: int | None) -> list[tuple[str, str, str]]:
    """Bulk state backfill files per quarter and report, the per-agency story files and the manifest."""
    nq = len(quarters)
    resub_q = nq - 2
    _clean_sample(sample)
    prelim = _preliminary(frames["billing"], resub, resub_q) if resub is not None else None
    rng = np.random.default_rng([seed, 303])
    as_of = _days(DEMO_AS_OF)
    files: list[tuple[str, str, str]] = []
    for qi, quarter in enumerate(quarters):
        day = min(int(qend[qi]) + int(rng.integers(10, 26)), as_of - 1)
        for ri, k in enumerate(REPORT_ORDER):
            f = frames[k].filter(pl.col("q") == qi)
            if late is not None and qi >= nq - 2:
                f = f.filter(pl.col("a") != late)
            if prelim is not None and k == "billing" and qi == resub_q:
                f = pl.concat([f.filter(pl.col("a") != resub), prelim]).sort("a", maintain_order=True)
            rel = f"{quarter}/{k}.csv"
            _write_report(f, k, sample / rel)
            files.append((rel, STATE_SUBMITTER, f"{_iso(day)}T09:{5 * ri + 5:02d}:00"))
    if late is not None:
        email = str(ag["email"][late])
        for qi in (nq - 2, nq - 1):
            day = min(int(qend[qi]) + int(rng.integers(45, 71)), as_of - 1)
            for ri, k in enumerate(REPORT_ORDER):
                rel = f"agency/{ag['agency_id'][late]}_{quarters[qi]}_{k}.csv"
                _write_report(frames[k].filter((pl.col("a") == late) & (pl.col("q") == qi)), k, sample / rel)
                files.append((rel, email, f"{_iso(day)}T16:{10 + 3 * ri:02d}:00"))
    if resub is not None:
        bulk_day = next(f[2] for f in files if f[0] == f"{quarters[resub_q]}/billing.csv")[:10]
        day = min(_days(bulk_day) + 37, as_of - 1)
        rel = f"agency/{ag['agency_id'][resub]}_{quarters[resub_q]}_billing_resubmitted.csv"
        _write_report(frames["billing"].filter((pl.col("a") == resub) & (pl.col("q") == resub_q)), "billing",
                      sample / rel)
        files.append((rel, str(ag["email"][resub]), f"{_iso(day)}T11:42:00"))
    files.sort(key=lambda f: (f[2], f[0]))
    _write_rows(sample / "manifest.csv", ["file", "submitted_by", "submitted_at"], files)
    return files


def _preliminary(billing: pl.DataFrame, a: int, q: int) -> pl.DataFrame:
    """The first, uncorrected billing file of the resubmitting agency: one payer missing, claims pending."""
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


def _clean_sample(sample: Path) -> None:
    """Remove the files a previous run wrote (quarter folders, agency files, manifest); nothing else."""
    if not sample.exists():
        return
    for child in sample.iterdir():
        if child.is_dir() and (re.fullmatch(r"\d{4}-Q[1-4]", child.name) or child.name == "agency"):
            for f in child.glob("*.csv"):
                f.unlink()
            if not any(child.iterdir()):
                child.rmdir()
    (sample / "manifest.csv").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    from pipelines import settings

    p = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: data/, writing data/reference and data/sample)")
    p.add_argument("--states", type=int, default=1, help="number of fictional states (50 for the national benchmark)")
    p.add_argument("--quarters", type=int, default=None,
                   help=f"number of quarters ending {DEMO_LAST_QUARTER} (default: the 12 demo quarters)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-stories", action="store_true", help="leave out the demo stories")
    p.add_argument("--layout", choices=("sample", "single"), default=None)
    args = p.parse_args(argv)
    out = args.out or settings.DATA
    quarters = last_quarters(args.quarters) if args.quarters else None
    result = generate(out, states=args.states, quarters=quarters, seed=args.seed, with_stories=not args.no_stories,
                      layout=args.layout)
    result["files"] = len(result["files"])
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
