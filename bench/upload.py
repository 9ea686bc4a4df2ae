"""Upload benchmark: time to a verdict for a typical agency file once Great Expectations is warm.

    .venv/bin/python bench/upload.py                  # 1,999-row files, 7 repeats
    .venv/bin/python bench/upload.py --rows 500 --repeats 3

Builds the demo warehouse once (cached under bench/out/upload/), copies it, then for each report
takes agency AG0067's 2026-Q3 file from data/sample/agency/ and pads it to --rows rows (new peer or
payer ids; headcount keeps its one row per role). Times `pipelines.upload.check()`, what the upload
page runs before showing the verdict (read, types, GX suite, reference and cross-report checks,
keeping the original, the replacement lookup and before/after totals), and then `submit()` once.
Writes bench/results/upload.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out" / "upload"
AGENCY, QUARTER = "AG0067", "2026-Q3"


def padded(kind: str, rows: int) -> bytes:
    """The agency's real file, grown to `rows` data rows with fresh ids (same values otherwise)."""
    source = ROOT / "data" / "sample" / "agency" / f"{AGENCY}_{QUARTER}_{kind}.csv"
    with open(source, newline="") as fh:
        header, *body = list(csv.reader(fh))
    if kind != "headcount":
        key = header.index("payer_id" if kind == "billing" else "peer_id")
        grown = []
        for i in range(rows):
            row = list(body[i % len(body)])
            if i >= len(body):
                row[key] = f"{'MCO-X' if kind == 'billing' else 'PB'}{i:06d}"
            grown.append(row)
        body = grown
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    return buf.getvalue().encode()


def warehouse_copy() -> Path:
    from pipelines.demo_load import build_demo

    OUT.mkdir(parents=True, exist_ok=True)
    demo = OUT / "demo.duckdb"
    if not demo.exists():
        os.environ["PEER_SNAPSHOT"] = str(OUT / "demo-published.duckdb")
        build_demo(db=demo)
    work = OUT / "work.duckdb"
    shutil.copyfile(demo, work)
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1999)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cold = "great_expectations" not in sys.modules
    db = warehouse_copy()
    cold = cold and "great_expectations" not in sys.modules  # building the demo imports GX too
    os.environ.update(PEER_DB=str(db), PEER_SNAPSHOT=str(OUT / "published.duckdb"),
                      PEER_ORIGINALS=str(OUT / "originals"))
    from pipelines import upload
    from pipelines import gx_runner, warehouse

    t0 = time.perf_counter()
    gx_runner.warm_up()
    warm = time.perf_counter() - t0
    con = warehouse.connect(db)
    warehouse.init(con)
    results = []
    for kind in ("headcount", "certification", "billing", "retention"):
        data = padded(kind, args.rows)
        upload.check(con, f"{kind}.csv", data, agency=AGENCY, quarter=QUARTER)  # first run of this suite
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            checked = upload.check(con, f"{kind}.csv", data, agency=AGENCY, quarter=QUARTER)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        status = upload.submit(checked, submitted_by="bench", acknowledged=True, confirmed=True).status
        submit_s = time.perf_counter() - t
        results.append({"report": kind, "rows": checked.report.rows, "valid": checked.valid,
                        "warnings": len(checked.report.warnings), "verdict_median_s": round(statistics.median(times), 3),
                        "verdict_max_s": round(max(times), 3), "submit_s": round(submit_s, 3), "status": status,
                        "stages": checked.validated.timings})
    con.close()
    doc = {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
                      f"{platform.python_version()}", "load_average": os.getloadavg()[0],
           "gx_warm_up_s": round(warm, 2) if cold else None, "repeats": args.repeats,
           "results": results}
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "upload.json").write_text(json.dumps(doc, indent=2) + "\n")
    if cold:
        print(f"GX warm-up (once per process, in the background when the app starts): {warm:.2f} s\n")
    print("| report | rows | verdict median s | verdict max s | submit s | status |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['report']} | {r['rows']:,} | {r['verdict_median_s']:.3f} | {r['verdict_max_s']:.3f} | "
              f"{r['submit_s']:.3f} | {r['status']} |")


if __name__ == "__main__":
    main()
