"""SQL workbench benchmark: how long a trivial query takes, cold and warm, at the query layer and end to end.

    .venv/bin/python bench/workbench.py              # median of 10 of each
    .venv/bin/python bench/workbench.py --repeats 20

On the demo state's published snapshot (built once under bench/out/workbench-demo/), for `select 1` and
`select count(*) from agencies`:

- **one child per query**: `sandbox_process.run`, a fresh process for the query (what `python -m pipelines
  query` does, and what the workbench did for every query before it kept workers warm);
- **pool cold / warm**: `sandbox_process.Pool.run`, the first query of a new pool (the worker starts) and
  the queries after it (the same worker answers);
- **page cold / warm**: the SQL workbench page through AppTest, from pressing Run to the rerun done with the
  result table sent: with no worker in the process (the pool emptied just before), and with a warm one.

Writes bench/results/workbench.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out" / "workbench-demo"
QUERIES = ("select 1", "select count(*) from agencies")


def demo_snapshot() -> Path:
    """The demo warehouse and its published snapshot (built once); the settings point at them."""
    db, snap = OUT / "warehouse.duckdb", OUT / "published" / "warehouse.duckdb"
    os.environ.update({"PEER_DB": str(db), "PEER_SNAPSHOT": str(snap)})
    os.environ.pop("PEER_AS_OF", None)
    if not snap.exists():
        from pipelines.demo_load import build_demo

        OUT.mkdir(parents=True, exist_ok=True)
        build_demo(db=db)
    return snap


def median_s(samples: list[float]) -> float:
    return round(statistics.median(samples), 4)


def query_layer(repeats: int) -> dict:
    from pipelines import sandbox_process

    rows = {}
    for sql in QUERIES:
        child = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            sandbox_process.run(sql)
            child.append(time.perf_counter() - t0)
        cold, warm = [], []
        for _ in range(repeats):
            pool = sandbox_process.Pool(size=1)
            try:
                t0 = time.perf_counter()
                pool.run(sql)
                cold.append(time.perf_counter() - t0)
                if not warm:
                    for _ in range(repeats):
                        t0 = time.perf_counter()
                        pool.run(sql)
                        warm.append(time.perf_counter() - t0)
            finally:
                pool.close()
        rows[sql] = {"one child per query": median_s(child), "pool cold": median_s(cold),
                     "pool warm": median_s(warm)}
    return rows


def page(repeats: int) -> dict:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from dashboard.serve import route_with_navigation
    from pipelines import sandbox_process

    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # route through app.py as the served app does (dashboard.serve)
        original(self, *args, **kwargs)
        route_with_navigation()

    PagesManager.__init__ = init
    rows = {}
    for sql in QUERIES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        at.switch_page("pages/sql.py").run()
        at.text_area(key="sql_text").input(sql).run()
        cold, warm = [], []
        for _ in range(repeats):
            sandbox_process.POOL.close()  # no worker: this Run starts one
            t0 = time.perf_counter()
            at.button(key="sql_run").click().run()
            cold.append(time.perf_counter() - t0)
            assert not at.exception and not at.error and len(at.dataframe) == 1, (at.exception, at.error)
        pids = sandbox_process.POOL.pids()
        for _ in range(repeats):
            t0 = time.perf_counter()
            at.button(key="sql_run").click().run()
            warm.append(time.perf_counter() - t0)
            assert not at.exception and not at.error and len(at.dataframe) == 1
        assert sandbox_process.POOL.pids() == pids, "the warm worker was replaced"
        rows[sql] = {"page cold": median_s(cold), "page warm": median_s(warm)}
    return rows


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
            f"{platform.python_version()}, load average {load:.1f} at the start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    demo_snapshot()
    started = machine()
    layer = query_layer(args.repeats)
    pages = page(args.repeats)
    rows = [{"query": sql, **layer[sql], **pages[sql]} for sql in QUERIES]
    result = {"machine": started, "measured": time.strftime("%Y-%m-%d %H:%M"), "repeats": args.repeats,
              "load_after": round(os.getloadavg()[0], 1), "seconds (median)": rows}
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "workbench.json").write_text(json.dumps(result, indent=2) + "\n")
    columns = ["one child per query", "pool cold", "pool warm", "page cold", "page warm"]
    print(f"\nMachine: {result['machine']}; load average {result['load_after']} at the end; "
          f"median of {args.repeats}, seconds\n")
    print("| query | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for row in rows:
        print(f"| `{row['query']}` | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
