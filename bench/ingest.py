"""Ingest benchmark: validate+load of a national-scale backfill against a plain DuckDB read_csv.

    .venv/bin/python bench/ingest.py                 # 50 states x 40 quarters (about 3M certification rows)
    .venv/bin/python bench/ingest.py --states 5      # a quicker, smaller run

Generates the backfill once (cached under bench/out/), then for each report file, in a fresh process
each so peak memory is per case: (a) the baseline, `create table as select * from read_csv(file)` into
a new DuckDB file; (b) our path, `ingest()` (read, structure and type checks in polars, the GX suite,
reference and cross-report checks in DuckDB, one load transaction; the recomputation of the materialized KPI
views, which a normal load does in that transaction, and the snapshot copy are timed apart) into one
warehouse that accumulates the backfill in report order. Last, a pathological certification file in
which most rows break a rule. Writes bench/results/ingest.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ORDER = ("headcount", "certification", "retention", "billing")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_baseline(file: Path, db: Path) -> dict:
    import duckdb

    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    t0 = time.perf_counter()
    con.execute("create table t as select * from read_csv(?)", [str(file)])
    rows = con.execute("select count(*) from t").fetchall()[0][0]
    con.close()
    return {"seconds": time.perf_counter() - t0, "rows": rows, "peak_rss_mb": peak_rss_mb()}


def run_ingest(file: Path, db: Path, reference: Path) -> dict:
    from pipelines import gx_runner, metrics, snapshot, warehouse
    from pipelines.ingest import ingest

    gx_runner.warm_up()  # one-off import cost, reported separately
    con = warehouse.connect(db)
    if warehouse.schema_version(con) == 0:
        warehouse.init(con)
        warehouse.load_reference(con, reference)
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    outcome = ingest(con, file, submitted_by="bench", role=None, publish=False, refresh=False)
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    if outcome.status == "loaded":  # what ingest(refresh=True) adds inside the load transaction
        metrics.refresh(con)
    refresh = time.perf_counter() - t1
    t1 = time.perf_counter()
    snapshot.publish(con)
    publish = time.perf_counter() - t1
    con.close()
    report = outcome.validated.report
    return {"seconds": total, "refresh_seconds": refresh, "publish_seconds": publish, "rows": report.rows,
            "status": outcome.status,
            "peak_rss_mb": peak_rss_mb(),
            "rss_after_imports_mb": rss_before, "stages": outcome.validated.timings,
            "errors": sum(n for c, n in report.counts().items() if report.severity_of(c) == "error"),
            "warnings": sum(n for c, n in report.counts().items() if report.severity_of(c) == "warning"),
            "submissions": len(outcome.load.submission_ids)}


def _child(args: list[str]) -> dict:
    env = {**os.environ, "PEER_AS_OF": "2026-11-15", "PEER_MAX_UPLOAD_MB": "4096",
           "PEER_SNAPSHOT": str(Path(args[2]).with_name("published.duckdb"))}
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_pathological(source: Path, target: Path, share: float = 0.9) -> None:
    """Copy of the certification file where `share` of the rows carry a status that is not allowed."""
    import polars as pl

    if target.exists():
        return
    frame = pl.read_csv(source, infer_schema=False)
    bad = (pl.int_range(pl.len()) % 10) < int(share * 10)
    frame.with_columns(pl.when(bad).then(pl.lit("ACTIVE")).otherwise(pl.col("status")).alias("status")) \
        .write_csv(target)


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal"))) / 1024 / 1024
    import duckdb
    import great_expectations
    import polars

    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, "
            f"duckdb {duckdb.__version__}, polars {polars.__version__}, great-expectations "
            f"{great_expectations.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--states", type=int, default=50)
    parser.add_argument("--quarters", type=int, default=40, help="quarters ending 2026-Q2")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, file, db, *rest = args.child
        result = (run_baseline(Path(file), Path(db)) if mode == "baseline"
                  else run_ingest(Path(file), Path(db), Path(rest[0])))
        print(json.dumps(result))
        return

    from pipelines import demo

    data = args.out / f"national-{args.states}x{args.quarters}"
    if not (data / "billing.csv").exists():
        print(f"Generating {args.states} states x {args.quarters} quarters into {data} ...", flush=True)
        info = demo.generate(data, states=args.states, quarters=demo.last_quarters(args.quarters, "2026-Q2"))
        print(f"  {info['rows']} in {info['seconds']['total']} s", flush=True)
    make_pathological(data / "certification.csv", data / "certification_pathological.csv")
    warehouse_db = args.out / "bench-warehouse.duckdb"
    for leftover in args.out.glob("bench-warehouse.duckdb*"):
        leftover.unlink()
    cases = [(k, data / f"{k}.csv") for k in ORDER] + [("certification (pathological)",
                                                       data / "certification_pathological.csv")]
    results = []
    for name, file in cases:
        print(f"{name}: baseline ...", end=" ", flush=True)
        base = _child(["baseline", str(file), str(args.out / "baseline.duckdb")])
        print(f"{base['seconds']:.2f} s; ingest ...", end=" ", flush=True)
        ours = _child(["ingest", str(file), str(warehouse_db), str(data / "reference")])
        ratio = ours["seconds"] / base["seconds"]
        print(f"{ours['seconds']:.2f} s ({ours['status']}), ratio {ratio:.2f}", flush=True)
        results.append({"case": name, "file_mb": round(file.stat().st_size / 1e6, 1), "baseline": base,
                        "ingest": ours, "ratio": round(ratio, 2),
                        "rows_per_second": round(ours["rows"] / ours["seconds"])})
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    doc = {"machine": machine(), "states": args.states, "quarters": args.quarters, "results": results,
           "measured_at": time.strftime("%Y-%m-%d %H:%M")}
    (ROOT / "bench" / "results" / "ingest.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nMachine: {doc['machine']}\n")
    print("| case | rows | file MB | read_csv s | validate+load s | ratio | rows/s | peak RSS MB | stages (s) "
          "| then refresh s | then publish s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in r["ingest"]["stages"].items())
        print(f"| {r['case']} | {r['ingest']['rows']:,} | {r['file_mb']} | {r['baseline']['seconds']:.2f} | "
              f"{r['ingest']['seconds']:.2f} ({r['ingest']['status']}) | {r['ratio']} | {r['rows_per_second']:,} | "
              f"{r['ingest']['peak_rss_mb']:.0f} | {stages} | {r['ingest']['refresh_seconds']:.2f} | "
              f"{r['ingest']['publish_seconds']:.2f} |")


if __name__ == "__main__":
    main()
