"""Submission season benchmark: many agencies uploading the next quarter's files into a national warehouse.

    .venv/bin/python bench/season.py                          # 50 states x 40 quarters, 8 submitters, 3 minutes
    .venv/bin/python bench/season.py --states 5 --minutes 1   # a quicker, smaller run
    .venv/bin/python bench/season.py --profile-only           # only where one submit's writer time goes

1. Builds, once (cached in bench/out/season-<N>/), a national warehouse: the bulk benchmark's generator
   (bench/ingest.py, `demo.generate` at N states) writes 41 quarters ending 2026-Q2; the first 40 are the
   history, loaded as pages.py loads its national warehouse (`ingest(publish=False, refresh=False)` per
   report, then one `metrics.refresh` and one `snapshot.publish`, as pipelines/demo_load.py does), with its
   own reference data (PEER_REFERENCE). Every run works on a fresh copy of it (bench/out/season-<N>/run/).
2. The season: the generator's rows of the last quarter, cut into one CSV per agency and report (headcount,
   certification, billing, retention), as an agency would upload them. They are queued in blocks of
   BLOCK agencies (each block's headcount files, then its certification files, ...), so an agency's four
   files arrive a few dozen submissions apart, as four uploads by one person would.
3. K submitter processes each take the next file from the shared queue, `upload.check` it against the
   published snapshot (`snapshot.reader()`, reopened when `snapshot.generation()` changes), then
   `upload.submit` it (acknowledged, confirmed), until M minutes have passed or the files run out. A "retry"
   (another load for the agency got in first, or the warehouse stayed busy) is checked and submitted again,
   as the page asks the user to, after RETRY_PAUSE_S, at most MAX_ATTEMPTS times and not after the M minutes.
4. A watcher process polls `snapshot.published_version()` every 0.2 s and records when each submission id
   first became visible, the snapshot generations seen and the temp copies in the snapshot folder.
5. PEER_WRITER_LOG gives every writer's turn (waited s, held s).

Then, on another fresh copy and alone, two submits per report are profiled (wall and CPU seconds of every stage
of the writer's turn: opening the warehouse, the load, each materialized table's refresh, the protected layer,
the commit, the audit record, the snapshot copy, closing) plus one cProfile run. Writes bench/results/season.json and prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import random
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
HISTORY_QUARTERS = 40
LAST_QUARTER = "2026-Q2"  # the generator's last quarter (bench/ingest.py); the season's quarter
KINDS = ("headcount", "certification", "billing", "retention")
AS_OF = "2026-11-15"
BLOCK = 25
RETRY_PAUSE_S = 1.0
MAX_ATTEMPTS = 5
POLL_S = 0.2
GOALS = {"per_minute": 100, "writer_p95_s": 0.5, "visible_p95_s": 30}
TEMP = re.compile(r"\.snapshot-(\d+)-.*\.duckdb(\.wal)?$")


# ---------------------------------------------------------------- build (once per scale)

def folder_of(states: int) -> Path:
    return OUT / f"season-{states}"


def generate(states: int) -> Path:
    """The generator's 41 quarters at `states` states (bench/ingest.py's generator and cache layout)."""
    from bench.ingest import _generate

    folder = folder_of(states)
    data = folder / f"national-{states}x{HISTORY_QUARTERS + 1}"
    if not (data / "manifest.csv").exists():  # written last: anything else is an interrupted generation
        shutil.rmtree(data, ignore_errors=True)
    return _generate(folder, states, HISTORY_QUARTERS + 1)


def split(data: Path, folder: Path) -> dict:
    """history/<kind>.csv (every quarter but the last) and files/<agency>_<quarter>_<kind>.csv (the last)."""
    import polars as pl

    index = folder / "files" / "index.json"
    if index.exists():
        return json.loads(index.read_text())
    t0 = time.perf_counter()
    (folder / "history").mkdir(parents=True, exist_ok=True)
    files_dir = folder / "files"
    shutil.rmtree(files_dir, ignore_errors=True)
    files_dir.mkdir(parents=True)
    files = []
    for kind in KINDS:
        source = pl.scan_csv(data / f"{kind}.csv", infer_schema=False)
        source.filter(pl.col("quarter") != LAST_QUARTER).sink_csv(folder / "history" / f"{kind}.csv")
        season = source.filter(pl.col("quarter") == LAST_QUARTER).collect()
        for (agency,), rows in season.partition_by("agency_id", as_dict=True, maintain_order=True).items():
            name = f"{agency}_{LAST_QUARTER}_{kind}.csv"
            rows.write_csv(files_dir / name, null_value="")
            files.append({"agency": agency, "kind": kind, "file": name, "rows": rows.height})
    doc = {"quarter": LAST_QUARTER, "files": files, "seconds": round(time.perf_counter() - t0, 1)}
    index.write_text(json.dumps(doc))
    return doc


def build(states: int) -> dict:
    """The national warehouse with 40 quarters of history, in season-<N>/base/ (once)."""
    folder = folder_of(states)
    base = folder / "base"
    marker = base / "built.json"
    if marker.exists():
        return json.loads(marker.read_text())
    data = generate(states)
    t0 = time.perf_counter()
    files = split(data, folder)
    print(f"  split into history and {len(files['files']):,} agency files in {time.perf_counter() - t0:.0f} s",
          flush=True)
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    db = base / "warehouse.duckdb"
    os.environ.update(env_for(base, data / "reference"))
    os.environ.pop("PEER_WRITER_LOG", None)
    import csv
    import datetime as dt

    from pipelines import gx_runner, metrics, snapshot, warehouse
    from pipelines.ingest import ingest

    with open(data / "manifest.csv", newline="") as fh:
        when = {row["file"]: dt.datetime.fromisoformat(row["submitted_at"]) for row in csv.DictReader(fh)}
    timings = {}
    gx_runner.warm_up()
    con = warehouse.connect(db)
    t = time.perf_counter()
    warehouse.init(con)
    timings["init"] = time.perf_counter() - t
    for kind in KINDS:  # headcount first: the others' cross-report checks read it
        t = time.perf_counter()
        outcome = ingest(con, folder / "history" / f"{kind}.csv", submitted_by="bench", role=None,
                         submitted_at=when[f"{kind}.csv"], publish=False, refresh=False)
        timings[f"ingest {kind}"] = time.perf_counter() - t
        print(f"  history {kind}: {outcome.status}, {outcome.validated.report.rows:,} rows in "
              f"{timings[f'ingest {kind}']:.1f} s", flush=True)
        if outcome.status != "loaded":
            raise RuntimeError(f"the history's {kind} file was {outcome.status}: "
                               f"{outcome.validated.report.counts()}")
    t = time.perf_counter()
    metrics.refresh(con)  # once for the whole history
    timings["refresh (full)"] = time.perf_counter() - t
    t = time.perf_counter()
    snapshot.publish(con)
    timings["publish"] = time.perf_counter() - t
    counts = dict(con.execute("select report, count(*) from submissions group by 1").fetchall())
    agencies = con.execute("select count(*) from agencies").fetchall()[0][0]
    con.close()
    doc = {"states": states, "history": f"{HISTORY_QUARTERS} quarters ending before {LAST_QUARTER}",
           "agencies": agencies, "submissions": counts, "reference": str(data / "reference"),
           "warehouse_mb": round(db.stat().st_size / 2**20, 1),
           "seconds": {k: round(v, 1) for k, v in timings.items()}, "built": time.strftime("%Y-%m-%d %H:%M")}
    marker.write_text(json.dumps(doc, indent=2))
    return doc


def env_for(folder: Path, reference: Path | str) -> dict:
    return {"PEER_DB": str(folder / "warehouse.duckdb"), "PEER_SNAPSHOT": str(folder / "published.duckdb"),
            "PEER_REFERENCE": str(reference), "PEER_AS_OF": AS_OF, "PEER_MAX_UPLOAD_MB": "4096",
            "GX_ANALYTICS_ENABLED": "false"}


def working_copy(states: int, name: str, built: dict) -> Path:
    """A fresh copy of the built warehouse, its audit log and its snapshot; the environment points at it."""
    base = folder_of(states) / "base"
    run = folder_of(states) / name
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    for entry in base.iterdir():
        if entry.suffix == ".duckdb":
            shutil.copyfile(entry, run / entry.name)
    for key in ("PEER_AUDIT", "PEER_ORIGINALS"):
        os.environ.pop(key, None)
    os.environ.update(env_for(run, built["reference"]))
    os.environ["PEER_WRITER_LOG"] = str(run / "writer.log")
    return run


def queue_of(states: int, limit: int | None = None) -> list[dict]:
    """The season's files in upload order: agencies shuffled (seeded), BLOCK at a time, each block's reports
    in KINDS order."""
    files = json.loads((folder_of(states) / "files" / "index.json").read_text())["files"]
    by_agency: dict[str, dict[str, dict]] = defaultdict(dict)
    for f in files:
        by_agency[f["agency"]][f["kind"]] = f
    agencies = sorted(by_agency)
    random.Random(2026).shuffle(agencies)
    ordered = []
    for lo in range(0, len(agencies), BLOCK):
        block = agencies[lo:lo + BLOCK]
        for kind in KINDS:
            ordered += [by_agency[a][kind] for a in block if kind in by_agency[a]]
    files_dir = folder_of(states) / "files"
    for f in ordered:
        f["path"] = str(files_dir / f["file"])
    return ordered[:limit] if limit else ordered


# ---------------------------------------------------------------- the season's processes

def submitter(worker: int, items: list[dict], counter, started, start_at, minutes: float, ready, out: str) -> None:
    from pipelines import gx_runner, snapshot, upload

    gx_runner.warm_up()  # the app warms GX at start-up
    con = snapshot.reader()
    seen = snapshot.generation()
    ready.put(worker)
    started.wait()
    deadline = start_at.value + minutes * 60
    with open(out, "a", encoding="utf-8") as fh:
        while time.time() < deadline:
            with counter.get_lock():
                n = counter.value
                counter.value += 1
            if n >= len(items):
                break
            item = items[n]
            data = Path(item["path"]).read_bytes()
            who = f"{item['agency'].lower()}@agency.example.org"
            rec = {"file": item["file"], "agency": item["agency"], "kind": item["kind"], "rows": item["rows"],
                   "worker": worker, "t_start": time.time(), "attempts": 0, "check_s": 0.0, "submit_s": 0.0,
                   "retries": []}
            try:
                while True:
                    now = snapshot.generation()
                    if now != seen:
                        con.close()
                        con = snapshot.reader()
                        seen = now
                    rec["attempts"] += 1
                    t0 = time.time()
                    checked = upload.check(con, item["file"], data, agency=item["agency"], quarter=LAST_QUARTER,
                                           kind=item["kind"], submitted_by=who, role="agency_submitter")
                    t1 = time.time()
                    rec["check_s"] += t1 - t0
                    rec["validation"] = {k: round(v, 4) for k, v in checked.validated.timings.items()}
                    if not checked.valid:
                        rec.update(status="rejected", submission_id=checked.rejection_id, t_end=t1,
                                   reasons=dict(Counter(f.code for f in checked.report.errors)))
                        break
                    result = upload.submit(checked, submitted_by=who, role="agency_submitter", acknowledged=True,
                                           confirmed=True)
                    t2 = time.time()
                    rec["submit_s"] += t2 - t1
                    rec["warnings"] = len(checked.report.warnings)
                    if result.status == "retry" and rec["attempts"] < MAX_ATTEMPTS and t2 < deadline:
                        rec["retries"].append(result.message[:160])
                        time.sleep(RETRY_PAUSE_S)
                        continue
                    rec.update(status=result.status, t_end=t2, submit_end=t2,
                               submission_id=result.submission_ids[0] if result.submission_ids else None)
                    if result.status == "retry":
                        rec["message"] = result.message[:300]
                    break
            except Exception as exc:  # recorded, and the season goes on
                rec.update(status="error", t_end=time.time(), message=f"{type(exc).__name__}: {exc}"[:500])
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
    con.close()


def watcher(stop, visible, out: str, target: str) -> None:
    from pipelines import snapshot

    target = Path(target)
    last = None
    peaks = {"temp_files": 0, "orphan_temp_files": 0}
    polls = 0
    with open(out, "a", encoding="utf-8") as fh:
        while not stop.is_set():
            t = time.time()
            version = snapshot.published_version(target)
            gen = snapshot.generation(target)
            temps = orphans = 0
            for entry in target.parent.iterdir():
                match = TEMP.match(entry.name)
                if match or entry.name.startswith(".snapshot-"):
                    temps += 1
                    if not match or not _alive(int(match.group(1))):
                        orphans += 1
            peaks["temp_files"] = max(peaks["temp_files"], temps)
            peaks["orphan_temp_files"] = max(peaks["orphan_temp_files"], orphans)
            polls += 1
            state = (version[0] if version else None, gen)
            if state != last:
                fh.write(json.dumps({"t": t, "max_id": state[0], "generation": list(gen) if gen else None,
                                     "temp_files": temps, "orphans": orphans}) + "\n")
                fh.flush()
                last = state
                if state[0] is not None:
                    visible.value = state[0]
            time.sleep(max(0.0, POLL_S - (time.time() - t)))
        fh.write(json.dumps({"peaks": peaks, "polls": polls}) + "\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- the season

def season(states: int, submitters: int, minutes: float, built: dict) -> dict:
    run = working_copy(states, "run", built)
    items = queue_of(states)
    ctx = mp.get_context("spawn")
    counter, start_at = ctx.Value("q", 0), ctx.Value("d", 0.0)
    started, stop, ready = ctx.Event(), ctx.Event(), ctx.Queue()
    visible = ctx.Value("q", 0)
    with _connect_ro(run / "published.duckdb") as con:
        first_id = con.execute("select coalesce(max(submission_id), 0) from submissions").fetchall()[0][0]
    watch = ctx.Process(target=watcher, args=(stop, visible, str(run / "watch.jsonl"),
                                              str(run / "published.duckdb")))
    watch.start()
    procs = [ctx.Process(target=submitter, args=(i, items, counter, started, start_at, minutes, ready,
                                                 str(run / f"submitter-{i}.jsonl"))) for i in range(submitters)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=600)
    load_before = os.getloadavg()
    start_at.value = time.time()
    started.set()
    print(f"season: {submitters} submitters, {len(items):,} files queued, {minutes:g} min ...", flush=True)
    for p in procs:
        p.join()
    done = time.time()
    load_after = os.getloadavg()
    results = [json.loads(line) for i in range(submitters)
               for line in (run / f"submitter-{i}.jsonl").read_text().splitlines()]
    last_id = max([r["submission_id"] for r in results if r.get("submission_id")] or [first_id])
    grace = float(os.environ.get("PEER_PUBLISH_EVERY_S", "10")) + 30
    while visible.value < last_id and time.time() - done < grace:
        time.sleep(POLL_S)
    stranded_wait = time.time() - done
    stop.set()
    watch.join()
    from pipelines import snapshot, writer

    with _connect_ro(run / "warehouse.duckdb") as con:
        warehouse_version = snapshot.warehouse_version(con)
        stored = con.execute("select status, count(*) from submissions where submission_id > ? group by 1",
                             [first_id]).fetchall()
    published = snapshot.published_version(run / "published.duckdb")
    leftover = [e.name for e in run.iterdir() if e.name.startswith(".snapshot-")]
    doc = analyse(results, run, start_at.value, minutes, first_id)
    doc.update({"files_queued": len(items), "submitters": submitters, "minutes": minutes,
                "load_average": {"before": [round(x, 2) for x in load_before],
                                 "after": [round(x, 2) for x in load_after]},
                "drain_s": round(done - start_at.value - minutes * 60, 1),
                "warehouse_after": {"version": list(warehouse_version), "stored": dict(stored),
                                    "mb": round((run / "warehouse.duckdb").stat().st_size / 2**20, 1)},
                "snapshot_after": list(published) if published else None,
                "snapshot_behind_after_run": published is None or published[0] < warehouse_version[0],
                "waited_for_last_publication_s": round(stranded_wait, 1),
                "temp_files_after_run": leftover,
                "writers_in_line_after_run": writer.waiting(run / "warehouse.duckdb")})
    return doc


@contextlib.contextmanager
def _connect_ro(path: Path):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def _r(x, digits=3):
    return None if x is None else round(x, digits)


def writer_turns(log: Path) -> list[dict]:
    turns = []
    if log.exists():
        for line in log.read_text().splitlines():
            epoch, waited, held, what = line.split("\t", 3)
            turns.append({"t": float(epoch), "waited": float(waited), "held": float(held), "what": what})
    return turns


def analyse(results: list[dict], run: Path, t0: float, minutes: float, first_id: int) -> dict:
    duration = minutes * 60
    watch = [json.loads(line) for line in (run / "watch.jsonl").read_text().splitlines()]
    peaks = next((w for w in watch if "peaks" in w), {"peaks": {}})
    changes = [w for w in watch if "t" in w]
    generations = {tuple(w["generation"]) for w in changes if w["generation"]}
    publications = len(generations) - 1  # the first is the copy the run started from

    def seen_at(sid: int) -> float | None:
        return next((w["t"] for w in changes if w["max_id"] is not None and w["max_id"] >= sid), None)

    loaded = [r for r in results if r["status"] == "loaded"]
    for r in loaded:
        at = seen_at(r["submission_id"])
        r["visible_after_s"] = None if at is None else max(0.0, at - r["submit_end"])
    warmup = min(30.0, duration / 5)
    end = min(t0 + duration, max([r["t_end"] for r in results] or [t0 + duration]))
    steady = [r for r in loaded if t0 + warmup <= r["t_end"] <= end]
    per_minute_steady = len(steady) / ((end - t0 - warmup) / 60) if end - t0 > warmup else None
    last = max([r["t_end"] for r in results] or [t0])
    per_minute_all = len(loaded) / ((last - t0) / 60) if last > t0 else None
    buckets = Counter(int((r["t_end"] - t0) // 30) for r in loaded)

    turns = [t for t in writer_turns(run / "writer.log") if t["t"] >= t0 - 1]
    loads = [t for t in turns if t["what"].startswith("loading the upload ")]
    final = {}
    for t in loads:  # a file's last turn is the one its submission came from (earlier ones were retries)
        final[t["what"].removeprefix("loading the upload ")] = t
    held = [final[r["file"]]["held"] for r in loaded if r["file"] in final]
    waited = [final[r["file"]]["waited"] for r in loaded if r["file"] in final]
    rejects = [t for t in turns if t["what"].startswith("recording the rejected upload ")]
    audit_turns = [t for t in turns if t["what"] == "audit"]
    busy = sum(t["held"] for t in loads + rejects)
    visible = [r["visible_after_s"] for r in loaded if r.get("visible_after_s") is not None]
    never = [r["submission_id"] for r in loaded if r.get("visible_after_s") is None]
    statuses = Counter(r["status"] for r in results)
    reasons: Counter = Counter()
    for r in results:
        if r["status"] == "rejected":
            reasons.update(r.get("reasons", {}))
    retry_msgs = Counter(m.split(".")[0] for r in results for m in r["retries"])
    checks = [r["check_s"] / r["attempts"] for r in results if r["attempts"]]

    def stats(values: list[float]) -> dict:
        return {"n": len(values), "p50": _r(percentile(values, 50)), "p95": _r(percentile(values, 95)),
                "max": _r(max(values) if values else None)}

    return {
        "accepted": len(loaded), "statuses": dict(statuses), "rejected_reasons": dict(reasons),
        "errors": [r["message"] for r in results if r["status"] == "error"][:10],
        "per_minute_steady": _r(per_minute_steady, 1), "per_minute_whole_run": _r(per_minute_all, 1),
        "steady_window_s": [round(warmup, 1), round(end - t0, 1)],
        "accepted_per_30s": [buckets.get(i, 0) for i in range(int(duration // 30) + 1)],
        "writer_held_s": stats(held), "writer_waited_s": stats(waited),
        "writer_busy_share": _r(busy / max(1e-9, last - t0), 3),
        "load_turns": len(loads), "load_turns_without_a_load": len(loads) - len(loaded),
        "rejection_turns": len(rejects), "audit_turns": stats([t["held"] for t in audit_turns]),
        "visible_after_s": stats(visible), "never_visible": never,
        "publications": publications, "copies_per_load": _r(publications / len(loaded) if loaded else None, 3),
        "peak_temp_files": peaks["peaks"].get("temp_files"),
        "peak_orphan_temp_files": peaks["peaks"].get("orphan_temp_files"), "watcher_polls": peaks.get("polls"),
        "check_s": stats(checks), "wall_s": stats([r["t_end"] - r["t_start"] for r in results]),
        "submissions_with_retries": sum(1 for r in results if r["retries"]),
        "retries": sum(len(r["retries"]) for r in results), "retry_reasons": dict(retry_msgs),
        "by_kind": {k: {"accepted": sum(1 for r in loaded if r["kind"] == k),
                        "held_p50": _r(percentile([final[r["file"]]["held"] for r in loaded
                                                   if r["kind"] == k and r["file"] in final], 50)),
                        "rows_p50": _r(percentile([r["rows"] for r in loaded if r["kind"] == k], 50), 0)}
                    for k in KINDS},
    }


# ---------------------------------------------------------------- where one submit's writer time goes

class Marks:
    """Timestamps of labelled moments; spans between them say where the time went."""

    def __init__(self):
        self.events: list[tuple[float, str]] = []
        self.cpu: list[float] = []  # CPU seconds (cpu_s) at each event

    def mark(self, label: str) -> None:
        self.events.append((time.perf_counter(), label))
        self.cpu.append(cpu_s())

    def clear(self) -> None:
        self.events, self.cpu = [], []

    def in_cpu(self) -> Marks:
        """The same events timed in CPU seconds instead of wall seconds."""
        other = Marks()
        other.events = [(c, e) for c, (_, e) in zip(self.cpu, self.events)]
        return other

    def wrap(self, module, name: str, label: str | None = None, arg_label=None):
        original = getattr(module, name)
        marks = self

        def wrapped(*args, **kwargs):
            tag = label or name
            if arg_label:
                tag = f"{tag} {arg_label(*args, **kwargs)}"
            marks.mark(f"start {tag}")
            try:
                return original(*args, **kwargs)
            finally:
                marks.mark(f"end {tag}")

        setattr(module, name, wrapped)
        return original

    def span(self, label: str) -> float:
        starts = [t for t, e in self.events if e == f"start {label}"]
        ends = [t for t, e in self.events if e == f"end {label}"]
        return sum(e - s for s, e in zip(starts, ends))

    def first(self, label: str, after: float = 0.0) -> float:
        return next(t for t, e in self.events if e == label and t >= after)

    def between(self, a: str, b: str) -> float:
        """Seconds from the first `a` to the first `b` after it; 0 when either did not happen."""
        try:
            ta = self.first(a)
            return self.first(b, ta) - ta
        except StopIteration:
            return 0.0


def profile_child(states: int, out: str) -> None:
    """In a fresh process on a fresh copy: check and submit one file per report, timing every stage of the
    writer's turn; one certification submit under cProfile."""
    import cProfile
    import pstats

    from pipelines import (audit, gx_runner, ingest, loading, metrics, originals, publication, snapshot,
                           upload, upload_changes, warehouse)

    gx_runner.warm_up()
    items = queue_of(states)
    picks = []
    for kind in KINDS:  # two agencies per report from the end of the queue (the season run took the start)
        picks += [i for i in reversed(items) if i["kind"] == kind][:2]
    m = Marks()
    m.wrap(warehouse, "connect", "open warehouse")
    m.wrap(originals, "keep", "keep original")
    m.wrap(ingest, "submit", "ingest.submit")
    m.wrap(ingest, "load", "load")
    m.wrap(upload_changes, "current_submissions", "current submissions")
    m.wrap(upload_changes, "before_after", "before/after")
    for name in ("_is_identical", "_supersede", "_insert_facts", "_store_warnings"):
        m.wrap(loading, name)
    m.wrap(loading, "publish_after", "publication")
    m.wrap(metrics, "refresh", "refresh")
    m.wrap(metrics, "has_quarter", "table", arg_label=lambda con, table: table)
    m.wrap(metrics, "_statement", "full", arg_label=lambda view: view.name)
    m.wrap(publication, "refresh", "protected layer")
    m.wrap(publication, "_build", "build", arg_label=lambda con, sql, table, since: table)
    m.wrap(publication, "solve", "solve (Python)")
    m.wrap(publication, "protect", "protect")
    m.wrap(publication, "view_sql", "view_sql")
    m.wrap(audit, "record", "audit record")
    m.wrap(snapshot, "publish", "snapshot.publish")
    m.wrap(snapshot, "copy_outside", "copy (child process)")
    m.wrap(snapshot, "_fsync", "fsync")
    m.wrap(snapshot, "remove_orphans", "remove orphans")
    log = Path(os.environ["PEER_WRITER_LOG"])
    runs = []
    for n, item in enumerate(picks):
        data = Path(item["path"]).read_bytes()
        con = snapshot.reader()
        m.clear()
        t0 = time.perf_counter()
        checked = upload.check(con, item["file"], data, agency=item["agency"], quarter=LAST_QUARTER, kind=item["kind"],
                               submitted_by="bench", role="agency_submitter")
        check_s = time.perf_counter() - t0
        con.close()
        check_marks = list(m.events)
        m.clear()
        before = len(writer_turns(log))
        profiler = cProfile.Profile() if n == 2 else None  # the first certification file
        cpu0 = cpu_s()
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        result = upload.submit(checked, submitted_by="bench", role="agency_submitter", acknowledged=True,
                               confirmed=True)
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(Path(out).with_suffix(".pstats")))
        submit_s = time.perf_counter() - t0
        cpu = cpu_s() - cpu0
        turn = [t for t in writer_turns(log)[before:] if t["what"].startswith("loading the upload")]
        runs.append(breakdown(m, item, checked, result, check_s, check_marks, submit_s,
                              turn[-1]["held"] if turn else None, profiled=profiler is not None))
        runs[-1]["submit_cpu_s"] = round(cpu, 3)
        in_cpu = breakdown(m.in_cpu(), item, checked, result, check_s, check_marks, submit_s, cpu, profiled=False)
        runs[-1]["cpu"] = {k: in_cpu[k] for k in ("writer", "refresh_tables", "protected_layer", "publication")}
        runs[-1]["load_average"] = round(os.getloadavg()[0], 2)
        print(f"  profiled {item['file']}: {result.status}, submit {submit_s:.2f} s", file=sys.stderr, flush=True)
    top = []
    stats = pstats.Stats(str(Path(out).with_suffix(".pstats"))).stats
    for (file, line, fn), v in sorted(stats.items(), key=lambda kv: -kv[1][3]):
        if "/pipelines/" in file and fn not in ("wrapped",):
            top.append({"function": f"{file.split('/pipelines/')[-1]}:{fn}", "cumulative_s": round(v[3], 3),
                        "calls": v[1]})
        if len(top) == 25:
            break
    Path(out).write_text(json.dumps({"runs": runs, "cprofile_top": top}, indent=2))


def cpu_s() -> float:
    """CPU seconds of this process (every thread: DuckDB's too) and of its finished children (the copy)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def breakdown(m: Marks, item: dict, checked, result, check_s: float, check_marks, submit_s: float,
              held: float | None, profiled: bool) -> dict:
    """Seconds per stage of one check and one submit (see Marks)."""
    tables = [e.removeprefix("start table ") for _, e in m.events if e.startswith("start table ")]
    per_table = {}
    stamps = [(t, e) for t, e in m.events]
    for i, table in enumerate(tables):  # a table's refresh lasts from its has_quarter() to the next one's
        start = next(t for t, e in stamps if e == f"start table {table}")
        nxt = (f"start table {tables[i + 1]}" if i + 1 < len(tables) else "start protected layer")
        per_table[table] = next(t for t, e in stamps if e == nxt and t > start) - start
    full = {e.removeprefix("start full "): None for _, e in m.events if e.startswith("start full ")}
    layer = {"pub_agency_cells": m.span("build pub_agency_cells"), "pub_cells (place cells)": m.span("build pub_cells"),
             "suppression (solve, Python)": m.span("solve (Python)")}
    if m.span("protected layer"):
        layer["practice rounds"] = m.between("start protected layer", "start build pub_agency_cells")
        if m.span("view_sql"):  # a full refresh recreates the pub_* views; an incremental one keeps them
            layer["shown refs, stage grid"] = m.between("end protect", "start view_sql")
            layer["pub_* views recreated"] = m.between("start view_sql", "end protected layer")
            layer["  of which view_sql's catalog lookups"] = m.span("view_sql")
        else:
            layer["shown refs, stage grid"] = m.between("end protect", "end protected layer")
    load = m.span("load")
    refresh = m.span("refresh")
    parts = {"is identical": m.span("_is_identical"), "supersede": m.span("_supersede"),
             "insert facts": m.span("_insert_facts"), "store warnings": m.span("_store_warnings")}
    publication = m.span("publication")  # the refresh runs inside it, at publication (snapshot.publish)
    session = {"open warehouse": m.span("open warehouse"), "keep original": m.span("keep original"),
               "ingest.submit": m.span("ingest.submit")}
    writer = {
        "open warehouse (connect)": session["open warehouse"],
        "keep original (file + row)": session["keep original"],
        "load: checks, insert submission, supersede, facts, warnings, commit": load - publication,
        "refresh at publication: materialized KPI tables": refresh - m.span("protected layer"),
        "refresh at publication: protected layer": m.span("protected layer"),
        "audit record (own file, own lock)": m.span("audit record"),
        "publication (checkpoint + copy + fsync)": publication - refresh,
    }
    if held is not None:
        writer["close warehouse (checkpoint on close) and the rest"] = held - sum(writer.values())
    pub = {"snapshot.publish": m.span("snapshot.publish"), "copy (child process)": m.span("copy (child process)"),
           "fsync": m.span("fsync"), "remove orphans": m.span("remove orphans")}
    pub["checkpoint and the rest"] = pub["snapshot.publish"] - refresh - pub["copy (child process)"] - pub["fsync"] \
        - pub["remove orphans"]
    cm = Marks()
    cm.events = check_marks
    return {"file": item["file"], "kind": item["kind"], "rows": item["rows"], "status": result.status,
            "profiled": profiled, "check_s": round(check_s, 3),
            "check": {**{k: round(v, 3) for k, v in checked.validated.timings.items()},
                      "current submissions": round(cm.span("current submissions"), 3)},
            "submit_s": round(submit_s, 3), "held_s": _r(held),
            "writer": {k: round(v, 3) for k, v in writer.items()},
            "load_parts": {k: round(v, 4) for k, v in parts.items()},
            "refresh_tables": {k: round(v, 3) for k, v in per_table.items()},
            "refreshed_whole": list(full),
            "protected_layer": {k: round(v, 3) for k, v in layer.items()},
            "publication": {k: round(v, 3) for k, v in pub.items()},
            "published": pub["snapshot.publish"] > 0}


def profile(states: int, built: dict) -> dict:
    import subprocess

    run = working_copy(states, "profile", built)
    out = run / "profile.json"
    proc = subprocess.run([sys.executable, __file__, "--states", str(states), "--profile-child", str(out)],
                          env={**os.environ}, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(proc.stderr[-4000:] if proc.returncode else "")
    if proc.returncode:
        raise RuntimeError("profile failed")
    return json.loads(out.read_text())


# ---------------------------------------------------------------- report

def machine() -> dict:
    import duckdb
    import polars

    mem = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal"))) / 1024 / 1024
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "polars": polars.__version__}


def code_state() -> dict:
    """The commit measured, and the project files changed in the working tree beside it."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.rstrip()

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted": [ln[3:] for ln in git("status", "--short", "pipelines").splitlines()]}


def table(doc: dict) -> str:
    s = doc["season"]

    def met(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "**not met**")

    held, vis = s["writer_held_s"], s["visible_after_s"]
    rows = [
        ("accepted submissions per minute, sustained", f"{s['per_minute_steady']} (whole run "
         f"{s['per_minute_whole_run']}; {s['accepted']} accepted)", f">= {GOALS['per_minute']}",
         met(s["per_minute_steady"] is not None and s["per_minute_steady"] >= GOALS["per_minute"])),
        ("writer time per submission (held), p50 / p95", f"{held['p50']} / {held['p95']} s (max {held['max']})",
         f"p95 < {GOALS['writer_p95_s']} s", met(held["p95"] is not None and held["p95"] < GOALS["writer_p95_s"])),
        ("time in line for the writer's turn, p50 / p95", f"{s['writer_waited_s']['p50']} / "
         f"{s['writer_waited_s']['p95']} s", "", ""),
        ("accepted to visible in the snapshot, p50 / p95", f"{vis['p50']} / {vis['p95']} s (max {vis['max']}; "
         f"never: {len(s['never_visible'])})", f"p95 < {GOALS['visible_p95_s']} s",
         met(vis["p95"] is not None and vis["p95"] < GOALS["visible_p95_s"] and not s["never_visible"])),
        ("check (validation against the snapshot), p50 / p95", f"{s['check_s']['p50']} / {s['check_s']['p95']} s",
         "", ""),
        ("publications (snapshot generations) / copies per load", f"{s['publications']} / {s['copies_per_load']}",
         "", ""),
        ("rejected", f"{s['statuses'].get('rejected', 0)} {s['rejected_reasons'] or ''}".strip(), "", ""),
        ("retries (check + submit again)", f"{s['retries']} on {s['submissions_with_retries']} files "
         f"{s['retry_reasons'] or ''}".strip(), "", ""),
        ("other outcomes", ", ".join(f"{k} {v}" for k, v in s["statuses"].items() if k not in ("loaded", "rejected"))
         or "none", "", ""),
        ("peak temp files / peak orphans in the snapshot folder", f"{s['peak_temp_files']} / "
         f"{s['peak_orphan_temp_files']}", "", ""),
        ("orphan temp files after the run", str(len(s["temp_files_after_run"])), "0",
         met(not s["temp_files_after_run"])),
    ]
    lines = ["| measure | result | goal | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def profile_table(prof: dict) -> str:
    runs = prof["runs"]
    stages = list(runs[0]["writer"])
    lines = ["| stage of the writer's turn | " + " | ".join(f"{r['kind']} ({r['rows']} rows)" for r in runs) + " |",
             "|---|" + "---|" * len(runs)]
    for st in stages:
        lines.append(f"| {st} | " + " | ".join(f"{r['writer'].get(st, 0):.3f}" for r in runs) + " |")
    lines.append("| **held (writer log)** | " + " | ".join(f"**{r['held_s']}**" for r in runs) + " |")
    lines.append("| published by this turn | " + " | ".join("yes" if r["published"] else "no" for r in runs) + " |")
    lines.append("| CPU s of the submit (all threads, copy included) | " + " | ".join(
        f"{r.get('submit_cpu_s', 0):.2f}" for r in runs) + " |")
    lines.append("| load average (1 min) after | " + " | ".join(f"{r.get('load_average', 0):.1f}" for r in runs) + " |")
    lines.append("| check (not in the turn) | " + " | ".join(f"{r['check_s']:.3f}" for r in runs) + " |")
    for unit in ("wall", "cpu"):
        if unit == "cpu" and "cpu" not in runs[0]:
            continue
        lines += ["", f"| {unit} s | " + " | ".join(r["kind"] for r in runs) + " |", "|---|" + "---|" * len(runs)]
        keys = (("writer", ""), ("refresh_tables", "table "), ("protected_layer", "layer: "),
                ("publication", "publish: "))
        for key, label in keys[unit == "wall":]:
            for st in runs[0][key]:
                whole = " (whole)" if key == "refresh_tables" and st in runs[0]["refreshed_whole"] else ""
                lines.append(f"| {label}{st}{whole} | " + " | ".join(
                    f"{(r if unit == 'wall' else r['cpu'])[key].get(st, 0):.3f}" for r in runs) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--states", type=int, default=50)
    parser.add_argument("--submitters", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--profile-only", action="store_true", help="build if needed, then only the profile")
    parser.add_argument("--no-profile", action="store_true", help="the season only")
    parser.add_argument("--profile-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_child:
        profile_child(args.states, args.profile_child)
        return
    target = ROOT / "bench" / "results" / "season.json"
    t0 = time.perf_counter()
    print(f"building the national warehouse ({args.states} states; cached in {folder_of(args.states)}) ...",
          flush=True)
    built = build(args.states)
    print(f"  {built['agencies']:,} agencies, {sum(built['submissions'].values()):,} submissions, "
          f"{built['warehouse_mb']} MB; built in {sum(built['seconds'].values()):.0f} s "
          f"({built['seconds']})", flush=True)
    doc = json.loads(target.read_text()) if args.profile_only and target.exists() else {}
    doc.update({"machine": machine(), "measured": time.strftime("%Y-%m-%d %H:%M"), "states": args.states,
                "warehouse": {**built, "reference": os.path.relpath(built["reference"], ROOT)}})
    doc.pop("code", None)
    if not args.profile_only:
        doc["season"] = {"measured": time.strftime("%Y-%m-%d %H:%M"), "code": code_state(),
                         **season(args.states, args.submitters, args.minutes, built)}
    if not args.no_profile:
        print("profiling one submit per report ...", flush=True)
        doc["profile"] = {"measured": time.strftime("%Y-%m-%d %H:%M"), "code": code_state(),
                          **profile(args.states, built)}
    doc["seconds_total"] = round(time.perf_counter() - t0, 1)
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(doc, indent=2) + "\n")
    mc = doc["machine"]
    print(f"\nMachine: {mc['nproc']} cores ({mc['cpu']}), {mc['ram_gib']} GiB RAM, Python {mc['python']}, "
          f"duckdb {mc['duckdb']}, polars {mc['polars']}; {args.states} states "
          f"({built['agencies']:,} agencies, {built['warehouse_mb']} MB warehouse)\n")
    if "season" in doc:
        s = doc["season"]
        print(f"{s['submitters']} submitters, {s['minutes']:g} min; load average before/after "
              f"{s['load_average']['before'][0]} / {s['load_average']['after'][0]}\n")
        print(table(doc))
    if "profile" in doc:
        print()
        print(profile_table(doc["profile"]))


if __name__ == "__main__":
    main()
