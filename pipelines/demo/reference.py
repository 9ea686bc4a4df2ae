"""Reference data that does not depend on the simulation: credentials, billing codes, policy and demo users, plus
the state-maintained tables (targets, integration practices) read from data/reference as committed."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from pipelines import settings
from pipelines.demo.quarters import DEMO_AS_OF

CODE_CHANGE_DATE = "2025-01-01"  # H2015 retired, H2016 introduced

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


STATE_MAINTAINED = ("targets", "integration_practices")
"""Reference tables the state maintains by hand: the generator copies them, never writes them."""


def state_file(name: str) -> Path:
    """The committed CSV of a state-maintained reference table."""
    return settings.REFERENCE_DIR / f"{name}.csv"


def practice_items() -> list[dict[str, str]]:
    """The practice items of the self-assessment, in file order (integration_practices.csv as committed)."""
    with state_file("integration_practices").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
