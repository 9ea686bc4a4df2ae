"""Page benchmark: each dashboard page's AppTest render time at demo scale and at national scale.

    .venv/bin/python bench/pages.py                  # demo state, and 50 states x 40 quarters
    .venv/bin/python bench/pages.py --states 5       # a quicker, smaller "national" run

Builds two warehouses under bench/out/ (once; reused while they exist): the demo state through
`build_demo`, and a national one loaded with `ingest()` from the bulk benchmark's generated backfill
(bench/ingest.py's generator and cache), with its own reference data (PEER_REFERENCE). Then, in a fresh
process per scale, it opens each page with
AppTest: the first render (cold: the page's queries run against the views) and the median of three
re-renders (warm: the data cache holds the results until the next load). Writes bench/results/pages.json
and prints a Markdown table with the national/demo ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
PAGES = ("pages/overview.py", "pages/regions.py", "pages/organizations.py", "pages/agency.py",
         "pages/certification.py", "pages/retention.py", "pages/billing.py", "pages/submissions.py",
         "pages/upload.py", "pages/sql.py", "pages/definitions.py", "pages/audit.py")
PUBLIC = ("pages/overview.py", "pages/regions.py", "pages/certification.py", "pages/retention.py",
          "pages/billing.py")
"""Also timed as a signed-out member of the public: every figure goes through small-cell suppression."""


def build_demo_warehouse() -> Path:
    from pipelines.demo_load import build_demo

    db = OUT / "pages-demo" / "warehouse.duckdb"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        os.environ["PEER_SNAPSHOT"] = str(db.parent / "published.duckdb")
        build_demo(db=db)
    return db


def build_national_warehouse(states: int, quarters: int) -> Path:
    from bench.ingest import ORDER
    from pipelines import demo, gx_runner, snapshot, warehouse
    from pipelines.ingest import ingest

    data = OUT / f"national-{states}x{quarters}"
    db = OUT / f"pages-national-{states}x{quarters}" / "warehouse.duckdb"
    if db.exists():
        return db
    if not (data / "manifest.csv").exists():
        demo.generate(data, states=states, quarters=demo.last_quarters(quarters, "2026-Q2"))
    db.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update({"PEER_AS_OF": "2026-11-15", "PEER_MAX_UPLOAD_MB": "4096",
                       "PEER_SNAPSHOT": str(db.parent / "published.duckdb")})
    gx_runner.warm_up()
    con = warehouse.connect(db)
    warehouse.init(con)
    warehouse.load_reference(con, data / "reference")
    import csv
    import datetime as dt

    with open(data / "manifest.csv", newline="") as fh:
        when = {row["file"]: dt.datetime.fromisoformat(row["submitted_at"]) for row in csv.DictReader(fh)}
    for kind in ORDER:  # submitted when the manifest says, so the compliance grid is not all "late"
        outcome = ingest(con, data / f"{kind}.csv", submitted_by="bench", role=None, submitted_at=when[f"{kind}.csv"],
                         publish=False)
        print(f"  national {kind}: {outcome.status}", file=sys.stderr)
    snapshot.publish(con)
    con.close()
    return db


def measure(db: Path, repeats: int) -> dict:
    """In this process: every page's cold and warm render with AppTest, on the warehouse `db`."""
    import duckdb
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from dashboard.serve import route_with_navigation

    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # route through app.py as the served app does (dashboard.serve)
        original(self, *args, **kwargs)
        route_with_navigation()

    PagesManager.__init__ = init
    con = duckdb.connect(str(db), read_only=True)
    busiest = con.execute("select agency_id from headcount group by 1 order by count(*) desc, 1 limit 1").fetchall()
    con.close()
    t0 = time.perf_counter()
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()  # app start: init, reference, views
    results = {"app start": {"cold_s": round(time.perf_counter() - t0, 3)}}

    def timed(page: str, principal: str | None = None) -> dict:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        if principal is not None:  # demo mode's role switcher; the default is the state administrator
            at.session_state["demo_principal"] = principal
        if page != PAGES[0]:  # a new session lands on the overview, then opens the page
            at.run()
            at.switch_page(page)
        if page.endswith("agency.py"):
            at.query_params["agency"] = busiest[0][0]
        t0 = time.perf_counter()
        at.run()
        cold = time.perf_counter() - t0
        assert not at.exception, (page, at.exception)
        assert not page.endswith("agency.py") or at.title[0].value != "Agency profile", "no agency shown"
        warm = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t0)
        return {"cold_s": round(cold, 3), "warm_s": round(statistics.median(warm), 3),
                "charts": len(at.get("vega_lite_chart")), "tables": len(at.dataframe)}

    for page in PAGES:
        results[page] = timed(page)
    for page in PUBLIC:
        results[f"{page} (public)"] = timed(page, "")
    return results


def _child(db: Path, repeats: int, reference: Path) -> dict:
    env = {**os.environ, "PEER_DB": str(db), "PEER_SNAPSHOT": str(db.with_name("published.duckdb")),
           "PEER_REFERENCE": str(reference), "GX_ANALYTICS_ENABLED": "false"}
    env.pop("PEER_AS_OF", None)
    proc = subprocess.run([sys.executable, __file__, "--child", str(db), str(repeats)], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=50)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), int(args.child[1]))))
        return
    from bench.ingest import machine

    print("building warehouses (once)...", file=sys.stderr)
    demo_db = build_demo_warehouse()
    national_db = build_national_warehouse(args.states, args.quarters)
    demo_times = _child(demo_db, args.repeats, ROOT / "data" / "reference")
    national_times = _child(national_db, args.repeats, OUT / f"national-{args.states}x{args.quarters}" / "reference")
    print(f"app start: demo {demo_times['app start']['cold_s']:.2f} s, national "
          f"{national_times['app start']['cold_s']:.2f} s", file=sys.stderr)
    rows = [{"page": "app start", "demo": demo_times["app start"], "national": national_times["app start"]}]
    for page in (*PAGES, *(f"{p} (public)" for p in PUBLIC)):
        d, n = demo_times[page], national_times[page]
        rows.append({"page": page, "demo": d, "national": n,
                     "warm_ratio": round(n["warm_s"] / d["warm_s"], 2) if d["warm_s"] else None,
                     "cold_ratio": round(n["cold_s"] / d["cold_s"], 2) if d["cold_s"] else None})
    result = {"machine": machine(), "national": f"{args.states} states x {args.quarters} quarters",
              "measured": time.strftime("%Y-%m-%d"), "pages": rows}
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "pages.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nMachine: {result['machine']}; national = {result['national']}\n")
    print("| page | demo cold s | demo warm s | national cold s | national warm s | warm ratio | cold ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows[1:]:
        print(f"| {r['page']} | {r['demo']['cold_s']:.2f} | {r['demo']['warm_s']:.2f} | {r['national']['cold_s']:.2f} "
              f"| {r['national']['warm_s']:.2f} | {r['warm_ratio']} | {r['cold_ratio']} |")


if __name__ == "__main__":
    main()
