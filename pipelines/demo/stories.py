"""The demo's stories: agencies a viewer can find (a late and a missing submitter, a corrected billing file)
chosen from what was simulated. The world's own stories (the lapsing region, the denial spike, the RCO that bills
nothing, new and closed agencies) are placed when the agencies are built."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.contracts import AGENCY_TYPES
from pipelines.demo.files import QUARTERLY
from pipelines.demo.world import LAPSE_REGION


def pick_stories(sim: dict[str, pl.DataFrame], ag: dict[str, np.ndarray], regions: list[dict[str, Any]],
                 story: dict[str, Any], quarters: list[str]) -> tuple[dict[str, Any], int, int, int]:
    """Choose the late, missing and resubmitting agencies (first state) from what was simulated."""
    nq = len(quarters)
    last2 = [nq - 2, nq - 1]
    idx = lambda i: str(ag["agency_id"][i])  # noqa: E731
    taken = {story["denial_spike"], story["no_billing_rco"], *story["new"], *story["closed"]}
    state0 = np.flatnonzero((ag["state"] == 0) & ~ag["is_new"] & ~ag["closing"])
    present = {k: set(sim[k].lazy().filter(pl.col("q").is_in(last2)).select("a", "q").unique().collect().rows())
               for k in QUARTERLY}
    sizes = sim["certification"].lazy().filter(pl.col("q") == nq - 1).group_by("a").len().collect()
    size_of = dict(zip(sizes["a"].to_list(), sizes["len"].to_list()))
    full = [int(a) for a in state0 if a not in taken
            and all((int(a), qq) in present[k] for k in QUARTERLY for qq in last2)]
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
