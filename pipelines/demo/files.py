"""Writing the demo's files: reference CSVs, report CSVs in contract columns, the sample folder and its manifest.

The ``sample`` layout holds one bulk state backfill file per quarter and report (``<quarter>/<report>.csv``),
the per-agency files of the stories (``agency/<agency>_<quarter>_<report>[_resubmitted].csv``) and
``manifest.csv`` (``file,submitted_by,submitted_at``: every sample file, in load order).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.contracts import AGENCY_TYPES, REFERENCE, REPORTS
from pipelines.demo import billing, certification, headcount, practices, retention
from pipelines.demo.columns import labels
from pipelines.demo.quarters import DEMO_AS_OF, FAR, days, iso
from pipelines.demo.reference import (
    BILLING_CODES,
    CODE_CHANGE_DATE,
    CREDENTIALS,
    DEMO_USERS,
    POLICY,
    STATE_MAINTAINED,
    state_file,
)

STATE_SUBMITTER = "state-backfill@dbh.example.gov"
QUARTERLY = ("headcount", "certification", "billing", "retention")
REPORT_ORDER = QUARTERLY + ("practices",)  # practices after headcount: its checks read the quarter's peers
FLOAT_PRECISION = {"headcount": 2, "certification": 1, "billing": 2, "retention": 0, "practices": 0}
CONVERTERS = {"headcount": headcount.to_contract, "certification": certification.to_contract,
              "billing": billing.to_contract, "retention": retention.to_contract, "practices": practices.to_contract}


def to_contract(kind: str, df: pl.DataFrame, agency_ids: pl.Series, quarters: list[str],
                pid_width: int) -> pl.DataFrame:
    """The report's contract columns in contract order, plus the agency and quarter indexes a and q."""
    a = df["a"].to_numpy()
    qi = df["q"].to_numpy()
    cols = {"agency_id": agency_ids.gather(a), "quarter": labels(quarters, qi)} | CONVERTERS[kind](df, pid_width)
    out = pl.DataFrame({name: cols[name].alias(name) for name in REPORTS[kind].names})
    return out.with_columns(pl.Series("a", a), pl.Series("q", qi))


def write_report(df: pl.DataFrame, kind: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    prec = FLOAT_PRECISION[kind] or None
    df.select(REPORTS[kind].names).write_csv(path, float_precision=prec, line_terminator="\n", null_value="",
                                              date_format="%Y-%m-%d")


def write_chunked(df: pl.DataFrame, kind: str, path: Path, agency_ids: pl.Series, quarters: list[str],
                  pid_width: int, chunk_rows: int = 400_000) -> None:
    """One CSV for a whole report, converted to contract columns a slice at a time (bounded memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for i, lo in enumerate(range(0, max(df.height, 1), chunk_rows)):
            part = to_contract(kind, df.slice(lo, chunk_rows), agency_ids, quarters, pid_width)
            part.select(REPORTS[kind].names).write_csv(
                fh, include_header=i == 0, float_precision=FLOAT_PRECISION[kind] or None, line_terminator="\n",
                null_value="", date_format="%Y-%m-%d")


def fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def write_rows(path: Path, header: list[str], rows: list[tuple[Any, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([fmt(v) for v in row])


def write_reference(folder: Path, regions: list[dict[str, Any]], ag: dict[str, np.ndarray], qstart0: int) -> None:
    """regions, agencies, credentials, billing codes, policy and user roles; the state-maintained tables (targets,
    integration practices) are copied as committed when the folder is not data/reference itself."""
    eff_floor = min(days("2010-01-01"), qstart0)
    write_rows(folder / "regions.csv", REFERENCE["regions"].names,
               [(r["region_id"], r["name"], r["population"], float(r["pct_rural"])) for r in regions])
    rows = []
    for i in range(len(ag["agency_id"])):
        rows.append((ag["agency_id"][i], ag["name"][i], regions[int(ag["region"][i])]["region_id"], ag["county"][i],
                     AGENCY_TYPES[int(ag["type"][i])], ag["ownership"][i], bool(ag["medicaid"][i]),
                     bool(ag["children"][i]), iso(ag["active_from"][i]),
                     "" if ag["active_to"][i] >= FAR else iso(ag["active_to"][i]), ag["email"][i]))
    write_rows(folder / "agencies.csv", REFERENCE["agencies"].names, rows)
    write_rows(folder / "credentials.csv", REFERENCE["credentials"].names, CREDENTIALS)
    codes = [b[:7] + (min(b[7], iso(eff_floor)) if b[7] != CODE_CHANGE_DATE else b[7], b[8])
             for b in BILLING_CODES]
    codes = [c[:4] + (f"{c[4]:.2f}",) + c[5:] for c in codes]
    write_rows(folder / "billing_codes.csv", REFERENCE["billing_codes"].names, codes)
    write_rows(folder / "policy.csv", REFERENCE["policy"].names, POLICY)
    write_rows(folder / "user_roles.csv", REFERENCE["user_roles"].names, DEMO_USERS)
    for name in STATE_MAINTAINED:
        target = folder / f"{name}.csv"
        if not (target.exists() and target.samefile(state_file(name))):
            shutil.copyfile(state_file(name), target)


def write_sample(sample: Path, frames: dict[str, pl.DataFrame], ag: dict[str, np.ndarray], quarters: list[str],
                 qend: np.ndarray, seed: int, late: int | None, resub: int | None) -> list[tuple[str, str, str]]:
    """Bulk state backfill files per quarter and report, the per-agency story files and the manifest."""
    nq = len(quarters)
    resub_q = nq - 2
    clean_sample(sample)
    prelim = billing.preliminary(frames["billing"], resub, resub_q) if resub is not None else None
    rng = np.random.default_rng([seed, 303])
    as_of = days(DEMO_AS_OF)
    files: list[tuple[str, str, str]] = []
    for qi, quarter in enumerate(quarters):
        day = min(int(qend[qi]) + int(rng.integers(10, 26)), as_of - 1)
        for ri, k in enumerate(REPORT_ORDER):
            f = frames[k].filter(pl.col("q") == qi)
            if late is not None and qi >= nq - 2:
                f = f.filter(pl.col("a") != late)
            if prelim is not None and k == "billing" and qi == resub_q:
                f = pl.concat([f.filter(pl.col("a") != resub), prelim]).sort("a", maintain_order=True)
            if k not in QUARTERLY and frames[k].filter(pl.col("q") == qi).is_empty():
                continue  # not an assessment quarter
            rel = f"{quarter}/{k}.csv"
            write_report(f, k, sample / rel)
            files.append((rel, STATE_SUBMITTER, f"{iso(day)}T09:{5 * ri + 5:02d}:00"))
    if late is not None:
        email = str(ag["email"][late])
        for qi in (nq - 2, nq - 1):
            day = min(int(qend[qi]) + int(rng.integers(45, 71)), as_of - 1)
            for ri, k in enumerate(REPORT_ORDER):
                f = frames[k].filter((pl.col("a") == late) & (pl.col("q") == qi))
                if k not in QUARTERLY and f.is_empty():
                    continue
                rel = f"agency/{ag['agency_id'][late]}_{quarters[qi]}_{k}.csv"
                write_report(f, k, sample / rel)
                files.append((rel, email, f"{iso(day)}T16:{10 + 3 * ri:02d}:00"))
    if resub is not None:
        bulk_day = next(f[2] for f in files if f[0] == f"{quarters[resub_q]}/billing.csv")[:10]
        day = min(days(bulk_day) + 37, as_of - 1)
        rel = f"agency/{ag['agency_id'][resub]}_{quarters[resub_q]}_billing_resubmitted.csv"
        write_report(frames["billing"].filter((pl.col("a") == resub) & (pl.col("q") == resub_q)), "billing",
                     sample / rel)
        files.append((rel, str(ag["email"][resub]), f"{iso(day)}T11:42:00"))
    files.sort(key=lambda f: (f[2], f[0]))
    write_rows(sample / "manifest.csv", ["file", "submitted_by", "submitted_at"], files)
    return files


def clean_sample(sample: Path) -> None:
    """Remove the files a previous run wrote (quarter folders, agency files, manifest); nothing else."""
    if not sample.exists():
        return
    for child in sample.iterdir():
        if child.is_dir() and (re.fullmatch(r"\d{4}-Q[1-4]", child.name) or child.name == "agency"):
            for f in child.glob("*.csv"):
                f.unlink()
            if not any(child.iterdir()):
                child.rmdir()
    (sample / "manifest.csv").unlink(missing_ok=True)

