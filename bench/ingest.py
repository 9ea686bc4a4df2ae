"""Ingest benchmark: validate+load of a national-scale backfill against a plain DuckDB read_csv.

    .venv/bin/python bench/ingest.py                 # 50 states x 40 quarters (about 3M certification rows)
    .venv/bin/python bench/ingest.py --states 5      # a quicker, smaller run
    .venv/bin/python bench/ingest.py --whole-only    # only the whole-process figure (1M certification rows)
    .venv/bin/python bench/ingest.py --whole-only --profile   # and where its time goes

Generates the backfill once (cached under bench/out/), then for each report file, in a fresh process
each so peak memory is per case: (a) the baseline, `create table as select * from read_csv(file)` into
a new DuckDB file; (b) our path, `ingest()` (read, structure and type checks in polars, the GX suite,
reference and cross-report checks in DuckDB, one load transaction; the recomputation of the materialized KPI
views, which a normal load does in that transaction, and the snapshot copy are timed apart) into one
warehouse that accumulates the backfill in report order. Last, a pathological certification file in
which most rows break a rule. Writes bench/results/ingest.json and prints a Markdown table.

Then the whole-process figure, what a user of the CLI waits for: on the 18 states x 40 quarters certification
file (1,040,230 rows), `python -m pipelines validate FILE --report certification` and `python -m pipelines
ingest FILE --report certification`, each a fresh process into a fresh warehouse made by `python -m pipelines
init` (PEER_DB, PEER_SNAPSHOT in a temporary folder), against a fresh process running DuckDB's read_csv of the
same file into a new database file; median of 3 (--repeat), runs interleaved. Beside it, the in-process
`ingest()` of the same file. With --profile, one more run of each command under `python -X importtime` and
under cProfile says where the time goes (imports, read, types, rules, checks, load, refresh, publication).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ORDER = ("headcount", "certification", "retention", "billing")
ENV = {"PEER_AS_OF": "2026-11-15", "PEER_MAX_UPLOAD_MB": "4096"}


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

    gx_runner.warm_up()  # reads the suites (imports GX only if a rule needs it), reported separately
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
    env = {**os.environ, **ENV, "PEER_SNAPSHOT": str(Path(args[2]).with_name("published.duckdb"))}
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


BASELINE = ("import duckdb, sys; con = duckdb.connect(sys.argv[2]); "
            "con.execute('create table t as select * from read_csv(?)', [sys.argv[1]]); con.close()")
STAGES = [("import of the CLI module (polars, duckdb, typer, rich)", "pipelines/cli.py", "<module>"),
          ("read, in a child process", "pipelines/bounded_read.py", "read_file"),
          ("types", "pipelines/coercion.py", "type_cells"),
          ("derived columns", "pipelines/validation.py", "derive_columns"),
          ("value rules", "pipelines/gx_runner.py", "run"),
          ("reference and cross-report checks", "pipelines/checks.py", "run"),
          ("validate, all stages", "pipelines/validation.py", "validate"),
          ("load (loading.load)", "pipelines/loading.py", "load"),
          ("snapshot publication (snapshot.publish)", "pipelines/snapshot.py", "publish"),
          ("KPI refresh (metrics.refresh)", "pipelines/metrics.py", "refresh"),
          ("protected layer (publication.refresh)", "pipelines/publication.py", "refresh"),
          ("the command after the import (cli._run_files)", "pipelines/cli.py", "_run_files")]
"""Where a whole process spends its time: (label, file, function) whose cumulative cProfile time is shown (a
stage includes whatever it calls: a load publishes the snapshot, which refreshes the KPI tables)."""


def _timed(cmd: list[str], env: dict, expect: tuple[int, ...] = (0,)) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode not in expect:
        raise RuntimeError(f"{cmd[2:4]} exited {proc.returncode}: {proc.stderr[-3000:]}")
    return seconds, proc.stdout


def _fresh_warehouse(folder: Path, reference: Path) -> dict:
    """Environment of a new warehouse in `folder`, made by `python -m pipelines init`."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {**os.environ, **ENV, "PEER_DB": str(folder / "warehouse.duckdb"),
           "PEER_SNAPSHOT": str(folder / "published.duckdb"), "PEER_REFERENCE": str(reference)}
    _timed([sys.executable, "-m", "pipelines", "init"], env)
    return env


def whole_process(file: Path, reference: Path, repeat: int) -> dict:
    """Median seconds of fresh processes: read_csv, CLI validate, CLI ingest (each on a fresh warehouse)."""
    runs: dict[str, list[float]] = {"read_csv": [], "validate": [], "ingest": []}
    status, load = {}, [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-whole-") as tmp:
        tmp = Path(tmp)
        for i in range(repeat):
            (tmp / "baseline.duckdb").unlink(missing_ok=True)
            runs["read_csv"].append(_timed([sys.executable, "-c", BASELINE, str(file), str(tmp / "baseline.duckdb")],
                                           {**os.environ})[0])
            for command in ("validate", "ingest"):
                env = _fresh_warehouse(tmp / "warehouse", reference)
                seconds, out = _timed([sys.executable, "-m", "pipelines", command, str(file), "--report",
                                       "certification", "--format", "json"], env, expect=(0, 1))
                runs[command].append(seconds)
                answer = json.loads(out)
                status[command] = answer.get("status", "valid" if answer["valid"] else "invalid")
            load.append(os.getloadavg()[0])
            print(f"  run {i + 1}/{repeat}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items())
                  + f" (load average {load[-1]:.1f})", flush=True)
    median = {k: statistics.median(v) for k, v in runs.items()}
    return {"runs": runs, "median": median, "status": status, "load_average": load,
            "ratio": {k: round(median[k] / median["read_csv"], 2) for k in ("validate", "ingest")}}


def profile(file: Path, reference: Path, out: Path) -> dict:
    """One more run of each command under -X importtime and under cProfile: seconds per stage."""
    import pstats

    result = {}
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        tmp = Path(tmp)
        for command in ("validate", "ingest"):
            args = ["-m", "pipelines", command, str(file), "--report", "certification", "--format", "json"]
            env = _fresh_warehouse(tmp / "warehouse", reference)
            proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                                  env=env, cwd=ROOT)
            imports: dict[str, float] = {}
            for line in proc.stderr.splitlines():  # "import time: self | cumulative | name", nesting by indent
                if line.startswith("import time:") and "|" in line and not line.rstrip().endswith("package"):
                    _, cumulative, name = line.split("|")
                    if not name[1:].startswith(" "):  # top level: imported by our code, not by another package
                        imports[name.strip()] = round(int(cumulative) / 1e6, 3)
            env = _fresh_warehouse(tmp / "warehouse", reference)
            stats_file = out / f"profile-{command}.pstats"
            _timed([sys.executable, "-m", "cProfile", "-o", str(stats_file), *args], env, expect=(0, 1))
            stats = pstats.Stats(str(stats_file)).stats  # {(file, line, function): (cc, nc, tt, ct, callers)}
            total = max(v[3] for v in stats.values())
            stages = {}
            for label, path, function in STAGES:
                times = [v[3] for (f, _, fn), v in stats.items() if f.endswith(path) and fn == function]
                if times:
                    stages[label] = round(max(times), 3)
            top = sorted(imports.items(), key=lambda kv: -kv[1])[:12]
            result[command] = {"total_profiled_s": round(total, 3), "stages_s": stages,
                               "imports_s": dict(top), "import_total_s": round(sum(imports.values()), 3),
                               "great_expectations_imported": any("great_expectations" in k for k in imports)}
    return result


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


def _generate(out: Path, states: int, quarters: int) -> Path:
    from pipelines import demo

    data = out / f"national-{states}x{quarters}"
    if not (data / "billing.csv").exists():
        print(f"Generating {states} states x {quarters} quarters into {data} ...", flush=True)
        info = demo.generate(data, states=states, quarters=demo.last_quarters(quarters, "2026-Q2"))
        print(f"  {info['rows']} in {info['seconds']['total']} s", flush=True)
    return data


def in_process(data: Path) -> list[dict]:
    """The backfill's files through `ingest()` in one process each (the table the benchmark always had)."""
    make_pathological(data / "certification.csv", data / "certification_pathological.csv")
    warehouse_db = data.parent / "bench-warehouse.duckdb"
    for leftover in data.parent.glob("bench-warehouse.duckdb*"):
        leftover.unlink()
    cases = [(k, data / f"{k}.csv") for k in ORDER] + [("certification (pathological)",
                                                       data / "certification_pathological.csv")]
    results = []
    for name, file in cases:
        print(f"{name}: baseline ...", end=" ", flush=True)
        base = _child(["baseline", str(file), str(data.parent / "baseline.duckdb")])
        print(f"{base['seconds']:.2f} s; ingest ...", end=" ", flush=True)
        ours = _child(["ingest", str(file), str(warehouse_db), str(data / "reference")])
        ratio = ours["seconds"] / base["seconds"]
        print(f"{ours['seconds']:.2f} s ({ours['status']}), ratio {ratio:.2f}", flush=True)
        results.append({"case": name, "file_mb": round(file.stat().st_size / 1e6, 1), "baseline": base,
                        "ingest": ours, "ratio": round(ratio, 2),
                        "rows_per_second": round(ours["rows"] / ours["seconds"])})
    return results


def whole(data: Path, repeat: int, with_profile: bool) -> dict:
    """The whole-process figure on one certification file, the in-process one beside it, and the profile."""
    file, reference = data / "certification.csv", data / "reference"
    print(f"Whole process, {file} ({file.stat().st_size / 1e6:.0f} MB):", flush=True)
    doc = {"file": str(file.relative_to(ROOT) if file.is_relative_to(ROOT) else file),
           "file_mb": round(file.stat().st_size / 1e6, 1), **whole_process(file, reference, repeat)}
    with tempfile.TemporaryDirectory(prefix="bench-inproc-") as tmp:
        ours = _child(["ingest", str(file), str(Path(tmp) / "warehouse.duckdb"), str(reference)])
    doc["rows"] = ours["rows"]
    doc["in_process"] = {"validate": round(sum(ours["stages"].values()), 3), "validate_load": round(ours["seconds"], 3),
                         "refresh": round(ours["refresh_seconds"], 3), "publish": round(ours["publish_seconds"], 3),
                         "stages": ours["stages"]}
    if with_profile:
        print("Profiling (-X importtime, cProfile) ...", flush=True)
        doc["profile"] = profile(file, reference, data.parent)
    return doc


def print_whole(doc: dict) -> None:
    m, ip = doc["median"], doc["in_process"]
    print(f"\n{doc['rows']:,} rows, {doc['file_mb']} MB; whole processes, median of {len(doc['runs']['read_csv'])} "
          f"(1-minute load average {min(doc['load_average']):.1f} to {max(doc['load_average']):.1f}):\n")
    print("| command | whole process s | ratio to read_csv | in process s |")
    print("|---|---|---|---|")
    print(f"| duckdb read_csv (baseline) | {m['read_csv']:.2f} | 1.0 | |")
    print(f"| validate ({doc['status']['validate']}) | {m['validate']:.2f} | {doc['ratio']['validate']} | "
          f"{ip['validate']:.2f} |")
    print(f"| ingest ({doc['status']['ingest']}) | {m['ingest']:.2f} | {doc['ratio']['ingest']} | "
          f"{ip['validate_load'] + ip['refresh'] + ip['publish']:.2f} (validate+load {ip['validate_load']:.2f}, "
          f"refresh {ip['refresh']:.2f}, publish {ip['publish']:.2f}) |")
    for command, prof in doc.get("profile", {}).items():
        print(f"\n{command}, profiled ({prof['total_profiled_s']:.2f} s under cProfile; imports "
              f"{prof['import_total_s']:.2f} s, GX imported: {prof['great_expectations_imported']}):")
        print("  (cumulative: a stage includes what it calls)")
        for label, seconds in prof["stages_s"].items():
            print(f"  {label}: {seconds:.2f} s")
        print("  largest imports: " + ", ".join(f"{k} {v:.2f}" for k, v in prof["imports_s"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--states", type=int, default=50)
    parser.add_argument("--quarters", type=int, default=40, help="quarters ending 2026-Q2")
    parser.add_argument("--whole-states", type=int, default=18,
                        help="states of the whole-process file (18 x 40 quarters: 1,040,230 certification rows)")
    parser.add_argument("--repeat", type=int, default=3, help="whole-process runs per command (median)")
    parser.add_argument("--whole-only", action="store_true", help="only the whole-process figure")
    parser.add_argument("--profile", action="store_true", help="also profile the whole-process commands")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, file, db, *rest = args.child
        result = (run_baseline(Path(file), Path(db)) if mode == "baseline"
                  else run_ingest(Path(file), Path(db), Path(rest[0])))
        print(json.dumps(result))
        return

    target = ROOT / "bench" / "results" / "ingest.json"
    target.parent.mkdir(exist_ok=True)
    doc = json.loads(target.read_text()) if args.whole_only and target.exists() else {}
    if not args.whole_only:
        results = in_process(_generate(args.out, args.states, args.quarters))
        doc = {"states": args.states, "quarters": args.quarters, "results": results}
    doc["whole_process"] = whole(_generate(args.out, args.whole_states, 40), args.repeat, args.profile)
    doc["machine"], doc["measured_at"] = machine(), time.strftime("%Y-%m-%d %H:%M")
    target.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nMachine: {doc['machine']}")
    if not args.whole_only:
        print()
        print("| case | rows | file MB | read_csv s | validate+load s | ratio | rows/s | peak RSS MB | stages (s) "
              "| then refresh s | then publish s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in doc["results"]:
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["ingest"]["stages"].items())
            print(f"| {r['case']} | {r['ingest']['rows']:,} | {r['file_mb']} | {r['baseline']['seconds']:.2f} | "
                  f"{r['ingest']['seconds']:.2f} ({r['ingest']['status']}) | {r['ratio']} | "
                  f"{r['rows_per_second']:,} | {r['ingest']['peak_rss_mb']:.0f} | {stages} | "
                  f"{r['ingest']['refresh_seconds']:.2f} | {r['ingest']['publish_seconds']:.2f} |")
    print_whole(doc["whole_process"])

if __name__ == "__main__":
    main()
