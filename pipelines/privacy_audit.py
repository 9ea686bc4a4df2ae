"""An attacker's audit of the protected layer: how tightly can a restricted reader pin each hidden cell down?

For every quarter and family it writes what a reader can obtain as linear constraints: the values of the
shown cells, every additive relation (categories -> total, regions -> state, types -> all types), and every
published share (numerator = share x denominator, within the rounding of the shown figure). Then, for each
hidden cell, a linear program (HiGHS, through scipy) finds the smallest and largest values consistent with all
of it. An agency user also knows its own part of every cell (a lower bound), and is audited on what is left
once it is taken away. A hidden cell is exposed when that interval is narrower than WIDEST_PINNED or lies
inside 1-10.

Run it: ``python -m pipelines.privacy_audit [WAREHOUSE]`` (needs scipy, a development dependency).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass

import duckdb

from pipelines.publication import SMALLEST_SHOWN, Key, relations

WIDEST_PINNED = 10
SHARES = {  # shown percentages (rounded to 0.1 on pages; audited with that slack): category -> its family total
    "pub_certification_status": ("status_share_pct", "cert", "status"),
    "pub_separation_reasons": ("share_pct", "leavers_4q", "separation_reason"),
}
SCORECARD_SHARES = {"certified_pct": ("cert", "CERTIFIED_ACTIVE"), "retention_12m_pct": ("cohort", "RETAINED"),
                    "peer_fulltime_pct": ("peers", "FULLTIME"), "denial_rate_pct": ("units_adjudicated", "DENIED"),
                    "group_share_pct": ("units_billed", "GROUP")}


@dataclass(frozen=True)
class Exposure:
    quarter: str
    family: str
    cell: Key
    value: float
    low: float
    high: float
    agency: str | None


@dataclass
class Result:
    audited: int = 0
    narrowest: float = float("inf")
    exposures: list[Exposure] = None

    def __post_init__(self):
        self.exposures = self.exposures or []


def _problems(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[Key, tuple[float, bool]]]:
    found: dict[tuple[str, str], dict[Key, tuple[float, bool]]] = defaultdict(dict)
    for q, fam, ent, kind, cz, cat, value, hidden in con.execute(
            "select quarter, family, entity_id, agency_type, categorization, category, value, hidden "
            "from pub_cells").fetchall():
        found[(q, fam)][(ent, kind, cz, cat)] = (float(value), hidden)
    return found


def _shares(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[Key, Key, float]]]:
    """Published shares as (numerator cell, denominator cell, percent) per quarter and family."""
    found: dict[tuple[str, str], list[tuple[Key, Key, float]]] = defaultdict(list)
    for view, (column, family, category) in SHARES.items():
        cz = {"cert": "status", "leavers_4q": "reason"}[family]
        for q, ent, cat, pct in con.execute(
                f"select quarter, entity_id, {category}, {column} from {view} where {column} is not null").fetchall():
            found[(q, family)].append(((ent, "ALL", cz, cat), (ent, "ALL", "", ""), pct))
    cz_of = {"cert": "status", "cohort": "outcome", "peers": "schedule", "units_adjudicated": "outcome",
             "units_billed": "mode"}
    for column, (family, cat) in SCORECARD_SHARES.items():
        for q, ent, pct in con.execute(
                f"select quarter, entity_id, {column} from pub_scorecard where {column} is not null").fetchall():
            found[(q, family)].append(((ent, "ALL", cz_of[family], cat), (ent, "ALL", "", ""), pct))
    return found


def _own_parts(con: duckdb.DuckDBPyConnection, agency: str) -> dict[tuple[str, str], dict[Key, float]]:
    """One agency's part of every place cell it is in."""
    found: dict[tuple[str, str], dict[Key, float]] = defaultdict(dict)
    for q, fam, region, kind, cz, cat, value in con.execute(
            "select quarter, family, region_id, agency_type, categorization, category, value "
            "from pub_agency_cells where agency_id = ?", [agency]).fetchall():
        for ent in ("STATE", region):
            for k in ("ALL", kind):
                found[(q, fam)][(ent, k, cz, cat)] = float(value)
    return found


def audit(con: duckdb.DuckDBPyConnection, agencies: tuple[str | None, ...] = (None,)) -> Result:
    """Audit every hidden cell for the public (None) and for each agency user named."""
    import numpy as np
    from scipy.optimize import linprog

    result = Result()
    problems, shares = _problems(con), _shares(con)
    for agency in agencies:
        own = _own_parts(con, agency) if agency else {}
        for (q, fam), cells in problems.items():
            hidden = sorted(k for k, (_, h) in cells.items() if h)
            if not hidden:
                continue
            index = {k: i for i, k in enumerate(hidden)}
            known = {k: v for k, (v, h) in cells.items() if not h}
            eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []
            for total, parts in relations(set(cells)):
                row, rhs = np.zeros(len(hidden)), 0.0
                for key, sign in ((total, 1.0), *((p, -1.0) for p in parts)):
                    if key in index:
                        row[index[key]] += sign
                    else:
                        rhs -= sign * known[key]
                if row.any():
                    eq_rows.append(row), eq_rhs.append(rhs)
            for num, den, pct in shares.get((q, fam), []):
                for bound, sign in ((pct + 0.05, 1.0), (pct - 0.05, -1.0)):  # num <= (pct+.05)% den, >= (pct-.05)%
                    row, rhs = np.zeros(len(hidden)), 0.0
                    for key, coef in ((num, sign), (den, -sign * bound / 100)):
                        if key in index:
                            row[index[key]] += coef
                        elif key in known:
                            rhs -= coef * known[key]
                    if row.any():
                        ub_rows.append(row), ub_rhs.append(rhs)
            mine = own.get((q, fam), {})
            bounds = [(mine.get(k, 0.0), None) for k in hidden]
            for k in hidden:
                c = np.zeros(len(hidden))
                c[index[k]] = 1.0
                ends = []
                for sense in (1.0, -1.0):
                    solved = linprog(sense * c, A_eq=np.array(eq_rows) if eq_rows else None,
                                     b_eq=eq_rhs or None, A_ub=np.array(ub_rows) if ub_rows else None,
                                     b_ub=ub_rhs or None, bounds=bounds, method="highs")
                    ends.append(sense * solved.fun if solved.status == 0 else (None if sense < 0 else 0.0))
                low, high = ends[0], ends[1]
                taken = mine.get(k, 0.0)
                low, high = low - taken, (None if high is None else high - taken)
                width = float("inf") if high is None else high - low
                result.audited += 1
                result.narrowest = min(result.narrowest, width)
                inside = high is not None and low >= 1 and high <= SMALLEST_SHOWN - 1
                if width < WIDEST_PINNED or inside:
                    result.exposures.append(Exposure(q, fam, k, cells[k][0] - taken, low, high, agency))
    return result


def main(path: str = "data/published/warehouse.duckdb") -> int:
    con = duckdb.connect(path, read_only=True)
    biggest = [r[0] for r in con.execute(
        "select agency_id from pub_agency_cells where family = 'peers' and categorization = '' "
        "group by agency_id order by max(value) desc limit 3").fetchall()]
    result = audit(con, (None, *biggest))
    print(f"{result.audited} hidden cells audited (public and agencies {', '.join(biggest)}); narrowest "
          f"interval {result.narrowest:.1f}; {len(result.exposures)} exposed")
    for e in result.exposures[:20]:
        print(f"  {e}")
    return 1 if result.exposures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
