"""generate(): build the world, simulate the people, derive the reports and write the files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.demo.billing import billing
from pipelines.demo.certification import certification
from pipelines.demo.files import (
    REPORT_ORDER,
    STATE_SUBMITTER,
    to_contract,
    write_chunked,
    write_reference,
    write_rows,
    write_sample,
)
from pipelines.demo.headcount import headcount
from pipelines.demo.practices import practices
from pipelines.demo.quarters import DEMO_QUARTERS, days, iso, quarter_end, quarter_start
from pipelines.demo.retention import retention
from pipelines.demo.spells import simulate_spells
from pipelines.demo.stories import pick_stories
from pipelines.demo.world import LAPSE_REGION, build_world


def simulate(ag: dict[str, np.ndarray], qstart: np.ndarray, qend: np.ndarray, seed: int,
             lapse_region: int) -> dict[str, Any]:
    """The four quarterly reports as frames of codes (agency index a, quarter index q, ...) plus pid_width."""
    rng = np.random.default_rng([seed, 202])
    slots, spells = simulate_spells(ag, qstart, qend, rng)
    salt = seed * 7919 + 17
    cert = certification(spells, ag, qstart, qend, lapse_region, salt)
    events = retention(spells, qstart, qend)
    heads = headcount(cert, slots, ag, qstart, qend, rng, salt)
    bills = billing(cert, ag, qstart, rng, salt)
    return {"headcount": heads, "certification": cert, "billing": bills, "retention": events,
            "pid_width": spells["pid_width"]}


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
    qstart = np.array([days(quarter_start(q)) for q in quarters], dtype=np.int64)
    qend = np.array([days(quarter_end(q)) for q in quarters], dtype=np.int64)
    nq = len(quarters)
    regions, ag, story_list = build_world(states, seed, qstart, qend, with_stories)
    story = story_list[0] if story_list else {}
    sim = simulate(ag, qstart, qend, seed, LAPSE_REGION if with_stories else -1)
    pid_width = sim.pop("pid_width")
    t_sim = time.perf_counter() - t0

    # stories chosen from the simulated data (first state only)
    stories: dict[str, Any] = {}
    late = missing = resub = None
    last2 = [nq - 2, nq - 1]
    practice_stories: dict[str, Any] = {"lapse_region": LAPSE_REGION if with_stories else -1}
    if with_stories and nq >= 4:
        stories, late, missing, resub = pick_stories(sim, ag, regions, story, quarters)
        taken = {story["denial_spike"], story["no_billing_rco"], late, missing, resub}
        practice_stories |= {"late": late, "state0": [a for a in np.flatnonzero(ag["state"] == 0) if a not in taken
                                                      and not ag["is_new"][a] and not ag["closing"][a]]}
    sim["practices"] = practices(sim, ag, quarters, qstart, qend, seed, practice_stories)
    if with_stories and nq >= 4:
        if layout == "single":  # one file per report: no late or corrected files to tell apart
            late = resub = None
            for key in ("late_submitter", "late_quarters", "resubmitting_agency", "resubmitted_quarter"):
                stories.pop(key)
    rows: dict[str, int] = {}
    agency_ids = pl.Series(list(ag["agency_id"]), dtype=pl.String)

    def keep(df: pl.DataFrame) -> pl.DataFrame:  # the missing submitter sends nothing for the last 2 quarters
        return df if missing is None else df.filter(~((pl.col("a") == missing) & pl.col("q").is_in(last2)))

    write_reference(out_dir / "reference", regions, ag, int(qstart[0]))
    files: list[tuple[str, str, str]] = []
    if layout == "single":
        for k in REPORT_ORDER:
            df = keep(sim.pop(k))
            rows[k] = df.height
            write_chunked(df, k, out_dir / f"{k}.csv", agency_ids, quarters, pid_width)
            del df
            files.append((f"{k}.csv", STATE_SUBMITTER, f"{iso(qend[-1] + 20)}T09:00:00"))
        write_rows(out_dir / "manifest.csv", ["file", "submitted_by", "submitted_at"], files)
    else:
        frames = {k: to_contract(k, keep(sim.pop(k)), agency_ids, quarters, pid_width) for k in REPORT_ORDER}
        rows = {k: f.height for k, f in frames.items()}
        files = write_sample(out_dir / "sample", frames, ag, quarters, qend, seed, late, resub)
    return {"layout": layout, "out_dir": str(out_dir), "states": states, "seed": seed,
            "quarters": [quarters[0], quarters[-1], nq], "agencies": len(ag["agency_id"]), "regions": len(regions),
            "rows": rows, "files": [f[0] for f in files], "stories": stories,
            "seconds": {"simulate": round(t_sim, 2), "total": round(time.perf_counter() - t0, 2)}}
