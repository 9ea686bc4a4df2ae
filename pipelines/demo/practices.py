"""The practices self-assessment: semiannual leadership and peer ratings of every practice item, with action plans.

Each agency has a latent maturity (0-4 scale) that depends on its region and type and improves at its own pace;
an item's rating is that maturity plus the item's difficulty and the agency's own strength at the item, rounded
and clipped to 0-4. Peer staff rate the same items a little lower (by an agency-wide optimism of the leadership),
and only where peers took part (respondents at most the peers on staff that quarter). Items rated 2 or less may
get an action plan that moves PLANNED -> IN_PROGRESS -> DONE over the assessments (a done plan lifts the item by
one point); an open plan is always due in the assessment quarter or later.

Stories: agencies with role-drift separations rate ROLE_DRIFT_REVIEW low and their peers lower still; the lapsing
region rates SUP_TRAINED and TRAIN_CERTIFICATION low until its supervision-training plans (started in one year)
are done; a handful of agencies show a peer-voice gap of 2 points on CULTURE_INCLUSION; the late submitter has
overdue actions; two agencies fall back after losing funding (FUNDING_LOSS separations).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.contracts import ACTION_OWNERS, ACTION_STATUSES, AGENCY_TYPES, PEER_ROLES, ROLES, SEPARATION_REASONS
from pipelines.demo.columns import labels, when
from pipelines.demo.quarters import days
from pipelines.demo.reference import practice_items

NONE, PLANNED, IN_PROGRESS, DONE = range(4)
# maturity (rating points) by region position in the state and by agency type
REGION_MATURITY = (0.55, 0.25, -0.1, 0.0, -0.6)
TYPE_MATURITY = {"PEER_RUN": 0.35, "RCO": 0.3, "FAMILY_RUN": 0.3, "YOUTH_ORG": 0.2, "HOSPITAL_ED": -0.35,
                 "INPATIENT_PSYCH": -0.4, "JAIL_REENTRY": -0.3, "OTP": -0.1, "FQHC": -0.15}
ITEM_DIFFICULTY = {"POL_ROLES": 0.4, "TRAIN_INITIAL": 0.4, "BUYIN_TEAM_MEETINGS": 0.3, "POL_NEEDS": 0.2,
                   "SUP_REGULAR": 0.2, "HIRE_POSTINGS": 0.1, "LEAD_FUNDING": -0.2, "SUP_TRAINED": -0.2,
                   "HIRE_PEER_PANELS": -0.4, "RET_PAY_REVIEW": -0.5, "RET_CAREER_PATH": -0.6, "POL_ADVOCACY": -0.3}
DOMAIN_OWNER = {"LEADERSHIP": "EXECUTIVE", "POLICY": "PROGRAM_DIRECTOR", "STAFF_BUY_IN": "CLINICAL_DIRECTOR",
                "ROLE_CLARITY": "PEER_SUPERVISOR", "RECRUITMENT_HIRING": "HR", "TRAINING": "HR",
                "SUPERVISION": "PEER_SUPERVISOR", "RETENTION_CAREER": "HR", "CULTURE_INCLUSION": "PROGRAM_DIRECTOR",
                "FAMILY_YOUTH": "PROGRAM_DIRECTOR"}
ROLE_DRIFT = SEPARATION_REASONS.index("ROLE_DRIFT")
FUNDING_LOSS = SEPARATION_REASONS.index("FUNDING_LOSS")
PEER_ROLE_I = [ROLES.index(r) for r in PEER_ROLES]


def ordinal(quarter: str) -> int:
    return int(quarter[:4]) * 4 + int(quarter[-1]) - 1


def quarter_label(k: int) -> str:
    return f"{k // 4}-Q{k % 4 + 1}"


def assessment_quarters(quarters: list[str], due: tuple[str, ...] = ("Q2", "Q4")) -> list[int]:
    """Indexes of the quarters in which the self-assessment is due."""
    return [i for i, q in enumerate(quarters) if q[-2:] in due]


def practices(sim: dict[str, pl.DataFrame], ag: dict[str, np.ndarray], quarters: list[str], qstart: np.ndarray,
              qend: np.ndarray, seed: int, stories: dict[str, Any]) -> pl.DataFrame:
    """One row per active agency, assessment quarter and practice item that applies to it.

    stories: lapse_region (global region index or -1), late (agency index or None), state0 (agency indexes of
    the first state that carry no other story, or empty without stories).
    """
    rng = np.random.default_rng([seed, 404])
    items = practice_items()
    n_ag, n_it = len(ag["agency_id"]), len(items)
    codes = [it["practice_code"] for it in items]
    col = {c: i for i, c in enumerate(codes)}
    child_only = np.array([it["applies_to"] == "SERVES_CHILDREN" for it in items])
    item_from = np.array([days(it["active_from"]) for it in items])
    item_to = np.array([days(it["active_to"]) if it["active_to"] else 10**7 for it in items])
    owner = np.array([ACTION_OWNERS.index(DOMAIN_OWNER.get(it["domain"], "OTHER")) for it in items])
    assess = assessment_quarters(quarters)
    qord = np.array([ordinal(q) for q in quarters])

    # peers on staff and separations by reason, per agency and quarter
    hc = sim["headcount"].filter(pl.col("role_i").is_in(PEER_ROLE_I)).group_by("a", "q").agg(pl.col("headcount").sum())
    peers = np.zeros((n_ag, len(quarters)), dtype=np.int64)
    peers[hc["a"].to_numpy(), hc["q"].to_numpy()] = hc["headcount"].to_numpy()
    seps = sim["retention"].filter(pl.col("event_i") == 1).group_by("a", "q", "reason").len()
    drift = np.zeros_like(peers)
    loss = np.zeros_like(peers)
    for reason, arr in ((ROLE_DRIFT, drift), (FUNDING_LOSS, loss)):
        f = seps.filter(pl.col("reason") == reason)
        arr[f["a"].to_numpy(), f["q"].to_numpy()] = f["len"].to_numpy()

    # latent maturity: level + yearly trend, by agency
    tarr = np.array([AGENCY_TYPES[t] for t in ag["type"]])
    has_peers = peers.max(axis=1) > 0
    level = (1.45 + np.array(REGION_MATURITY)[ag["region"] % 5] + np.array([TYPE_MATURITY.get(t, 0.0) for t in tarr])
             - 0.5 * ~has_peers + rng.normal(0, 0.6, n_ag))
    trend = rng.uniform(-0.05, 0.65, n_ag)  # rating points a year
    strength = rng.normal(0, 0.5, (n_ag, n_it)) + np.array([ITEM_DIFFICULTY.get(c, 0.0) for c in codes])
    optimism = rng.uniform(0.0, 0.6, n_ag)  # how much higher the leadership rates than its peers
    respond = rng.uniform(0.35, 0.9, n_ag)
    plan_p = rng.uniform(0.08, 0.3, n_ag)

    # stories (first state): lapse region, funding loss, peer-voice gap, late submitter
    lapse = ag["region"] == stories.get("lapse_region", -1)
    plan_at = min(assess, key=lambda i: abs(i - (len(quarters) - 6))) if assess else -1
    state0 = np.asarray(stories.get("state0", []), dtype=np.int64)
    fall = np.zeros(n_ag, dtype=np.int64) - 1  # quarter index of the funding loss
    gap_agencies = np.zeros(0, dtype=np.int64)
    if len(state0) and len(quarters) >= 8:
        window = slice(len(quarters) - 8, len(quarters) - 4)
        cand = [a for a in state0 if has_peers[a] and loss[a, window].sum() > 0 and peers[a].min() >= 3
                and not lapse[a]]
        cand.sort(key=lambda a: (-loss[a, window].sum(), -level[a], a))
        for a in cand[:2]:
            fall[a] = window.start + int(np.argmax(loss[a, window] > 0))
            level[a] = max(level[a], 2.9)
            trend[a] = max(trend[a], 0.3)
        steady = [a for a in state0 if peers[a].min() >= 4 and fall[a] < 0 and not lapse[a]]
        gap_agencies = rng.choice(steady, size=min(5, len(steady)), replace=False)
    late = stories.get("late")
    weak = np.zeros(0, dtype=np.int64)

    status = np.zeros((n_ag, n_it), dtype=np.int64)
    due = np.full((n_ag, n_it), -1, dtype=np.int64)
    lift = np.zeros((n_ag, n_it))
    frames = []
    t0 = qstart[assess[0]] if assess else 0
    for j, qi in enumerate(assess):
        years = (qstart[qi] - t0) / 365.25
        active = (ag["active_from"] <= qend[qi]) & (ag["active_to"] >= qstart[qi])
        m = level + trend * years
        m = np.where((fall >= 0) & (qi > fall), m - 1.5, m)
        raw = m[:, None] + strength + lift + rng.normal(0, 0.25, (n_ag, n_it))
        lead = np.clip(np.rint(raw), 0, 4).astype(np.int64)
        peer_raw = raw - optimism[:, None] + rng.normal(0, 0.35, (n_ag, n_it))
        peer = np.clip(np.rint(peer_raw), 0, 4).astype(np.int64)
        resp = np.minimum(rng.binomial(peers[:, qi], respond), peers[:, qi])
        resp = np.where((peers[:, qi] > 0) & (resp == 0), 1, resp)
        # action plans: done plans close, open plans advance, weak items may start one
        was = status.copy()
        status = np.where(was == DONE, NONE, status)
        adv = rng.random((n_ag, n_it))
        status = np.where(was == PLANNED, np.where(adv < 0.8, IN_PROGRESS, PLANNED), status)
        status = np.where(was == IN_PROGRESS, np.where(adv < 0.6, DONE, IN_PROGRESS), status)
        start = (was == NONE) | (was == DONE)
        status = np.where(start & (lead <= 2) & (rng.random((n_ag, n_it)) < plan_p[:, None]), PLANNED, status)
        offset = rng.choice([1, 2, 3, 4], size=(n_ag, n_it), p=[0.05, 0.3, 0.4, 0.25])
        new_plan = (status == PLANNED) & (was != PLANNED)
        due = np.where(new_plan, qord[qi] + offset, due)
        # an open plan about to pass its due quarter is usually re-planned (always when already past it)
        near = (status != NONE) & (status != DONE) & (due < qord[qi] + 2)
        slipped = near & ((due < qord[qi]) | (rng.random((n_ag, n_it)) < 0.8))
        due = np.where(slipped, qord[qi] + offset, due)
        lift = np.where((status == DONE) & (was != DONE), lift + 1.0, lift)
        lead = np.where((status == DONE) & (was != DONE), np.minimum(lead + 1, 4), lead)
        # stories
        recent = drift[:, max(0, qi - 3): qi + 1].sum(axis=1) >= 2
        k = col["ROLE_DRIFT_REVIEW"]
        lead[recent, k] = 1  # planning a review, and the peers see none yet
        peer[recent, k] = 0
        if plan_at in assess:  # the lapsing region: supervision-training plans, then better ratings
            phase = j - assess.index(plan_at)  # < 0 before the plans, 0 planned, 1 in progress, 2 done
            for code in ("SUP_TRAINED", "TRAIN_CERTIFICATION"):
                k = col[code]
                status[lapse, k] = (PLANNED, IN_PROGRESS, DONE)[phase] if 0 <= phase <= 2 else NONE
                due[lapse, k] = qord[plan_at] + (2 if phase == 0 else 4)
                lead[lapse, k] = np.minimum(lead[lapse, k], 1) if phase < 0 else (1, 2, 3)[min(phase, 2)]
                peer[lapse, k] = np.minimum(peer[lapse, k], lead[lapse, k] - (phase < 2))
        for k in (col["CULT_INCLUSION"], col["CULT_FEEDBACK"]):
            lead[gap_agencies, k] = np.maximum(lead[gap_agencies, k], 3)
            peer[gap_agencies, k] = lead[gap_agencies, k] - 2
        fallen = (fall >= 0) & (qi > fall)
        lead[fallen, col["LEAD_FUNDING"]] = 0
        if late is not None and j >= len(assess) - 3:
            phase = j - (len(assess) - 3)
            if phase == 0:  # three weak items whose plans slip past their due quarter
                weak = np.argsort(lead[late] + strength[late] / 10, kind="stable")[:3]
            status[late, weak] = (PLANNED, IN_PROGRESS, IN_PROGRESS)[phase]
            due[late, weak] = qord[qi] + (2, 1, 0)[phase]
        peer = np.minimum(np.maximum(peer, 0), 4)
        # rows: active agencies x items in force that apply to them
        applies = ((~child_only)[None, :] | ag["children"][:, None]) & active[:, None]
        applies &= ((item_from <= qend[qi]) & (item_to >= qstart[qi]))[None, :]
        a_idx, i_idx = np.nonzero(applies)
        frames.append(pl.DataFrame({
            "a": a_idx, "q": np.full(len(a_idx), qi), "item": i_idx, "lead": lead[a_idx, i_idx],
            "peer": np.where(resp[a_idx] > 0, peer[a_idx, i_idx], -1), "resp": resp[a_idx],
            "status_i": status[a_idx, i_idx], "owner_i": owner[i_idx],
            "due": np.where((status[a_idx, i_idx] == NONE), -1, due[a_idx, i_idx]),
        }))
    out = pl.concat(frames) if frames else pl.DataFrame(schema={"a": pl.Int64, "q": pl.Int64})
    return out.sort("a", "q", "item")


def to_contract(df: pl.DataFrame, pid_width: int) -> dict[str, pl.Series]:
    codes = [it["practice_code"] for it in practice_items()]
    peer = df["peer"].to_numpy()
    status = df["status_i"].to_numpy()
    due = df["due"].to_numpy()
    return {"practice_code": labels(codes, df["item"].to_numpy()), "rating_leadership": df["lead"],
            "rating_peers": when(peer >= 0, pl.Series(peer)), "peer_respondents_count": df["resp"],
            "action_status": labels(ACTION_STATUSES, status),
            "action_owner": when(status != NONE, labels(ACTION_OWNERS, df["owner_i"].to_numpy())),
            "action_due_quarter": when(due >= 0, pl.Series([quarter_label(int(k)) if k >= 0 else "" for k in due],
                                                          dtype=pl.String))}
