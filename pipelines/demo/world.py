"""The fictional states: regions, local authorities and agencies, with each agency's simulation parameters."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np

from pipelines.contracts import ROLES
from pipelines.demo.draws import exact, largest_remainder
from pipelines.demo.quarters import EPOCH, FAR, days

AGENCY_EPOCH = "2015-01-01"  # active_from of agencies that reported from the start
FAMILY, YOUTH = ROLES.index("FAMILY_PEER"), ROLES.index("YOUTH_PEER")

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


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def build_world(states: int, seed: int, qstart: np.ndarray, qend: np.ndarray,
                with_stories: bool) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], list[dict[str, Any]]]:
    """Regions, agencies (reference columns plus simulation parameters) for every state."""
    nq = len(qstart)
    wstart = int(qstart[0])
    first_from = days(AGENCY_EPOCH)
    if first_from > wstart - 365:
        first_from = days(dt.date((EPOCH + dt.timedelta(days=wstart)).year - 1, 1, 1))
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
            has_peers[idx] = exact(rng, len(idx), cfg["peers"])
            medicaid[idx] = exact(rng, len(idx), cfg["medicaid"])
            children[idx] = exact(rng, len(idx), cfg["children"])
            ownership[idx] = rng.choice(["public", "nonprofit", "forprofit"], size=len(idx), p=cfg["own"])
            cand = idx[has_peers[idx] & medicaid[idx]]
            bills[cand] = exact(rng, len(cand), cfg["bill"])
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
            slots[members] = largest_remainder(int(round(target)), weight[members], 2)
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
            domain = f"{slug(towns[k])}-{tag}" + (f"-{s + 1:02d}" if states > 1 else "")
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
                email=f"reports@{domain}.example.org", has_peers=bool(has_peers[k]), bills=bool(bills[k]),
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
