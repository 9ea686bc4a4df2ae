"""Protected layer benchmark: what it costs per load, and how it stands up to the LP audit.

    .venv/bin/python bench/privacy.py                # demo state, and 50 states x 40 quarters
    .venv/bin/python bench/privacy.py --states 5     # a quicker, smaller "national" run
    .venv/bin/python bench/privacy.py --demo-only    # the demo state alone

For each warehouse (the demo state; the national backfill of bench/pages.py, built once and cached under
bench/out/): the time to rebuild the protected layer (pipelines.publication.refresh, which every load runs
inside its transaction after the materialized KPI views), best of three on a copy; its hidden and shown
cells; then the LP audit (pipelines.privacy_audit) as the public and as the agencies with the most peers
(at national scale, of the latest quarters only: --audited-quarters).
Writes bench/results/privacy.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(db: Path, agencies: int, quarters: int | None = None) -> dict:
    import duckdb

    from pipelines import privacy_audit, publication

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(db, copy)
        con = duckdb.connect(str(copy))
        times = []
        for _ in range(3):
            start = time.perf_counter()
            con.execute("begin")
            hidden = publication.refresh(con)
            con.execute("commit")
            times.append(time.perf_counter() - start)
        cells = con.execute("select count(*) from pub_cells").fetchall()[0][0]
        largest = privacy_audit.largest_agencies(con, agencies)
        if quarters:  # audit the latest quarters only (the layer of each quarter is its own problem)
            con.execute("delete from pub_cells where quarter not in (select distinct quarter from pub_cells "
                        "order by quarter desc limit ?)", [quarters])
        start = time.perf_counter()
        result = privacy_audit.audit(con, (None, *largest))
        audit_s = time.perf_counter() - start
        con.close()
    return {"refresh_s": round(min(times), 3), "refresh_runs_s": [round(t, 3) for t in times], "cells": cells,
            "hidden": hidden, "audited": result.audited, "narrowest": result.narrowest,
            "narrowest_agencies": result.narrowest_agencies,
            "exposed": len(result.exposures), "inconsistent": len(result.inconsistent),
            "audited_agencies": largest, "audit_s": round(audit_s, 1)}


def main() -> None:
    from bench.ingest import machine
    from bench.pages import build_demo_warehouse, build_national_warehouse

    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=50)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--agencies", type=int, default=3, help="agency users audited (the largest)")
    parser.add_argument("--audited-quarters", type=int, default=4,
                        help="national scale: audit the latest N quarters (every quarter of the demo is audited)")
    parser.add_argument("--demo-only", action="store_true", help="skip the national warehouse")
    args = parser.parse_args()
    rows = {"demo": measure(build_demo_warehouse(), args.agencies)}
    if not args.demo_only:
        rows[f"national {args.states}x{args.quarters}"] = measure(
            build_national_warehouse(args.states, args.quarters), args.agencies, args.audited_quarters)
    out = ROOT / "bench" / "results" / "privacy.json"
    earlier = json.loads(out.read_text()).get("results", {}) if args.demo_only and out.exists() else {}
    out.write_text(json.dumps({"machine": machine(), "results": {**earlier, **rows}}, indent=2))
    print("| warehouse | layer refresh s (best of 3) | cells | hidden | audited | narrowest (people, units) | "
          "narrowest (agencies) | exposed | audit s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['refresh_s']} | {r['cells']:,} | {r['hidden']:,} | {r['audited']:,} | "
              f"{r['narrowest']} | {r['narrowest_agencies']} | {r['exposed']} | {r['audit_s']} |")


if __name__ == "__main__":
    main()
