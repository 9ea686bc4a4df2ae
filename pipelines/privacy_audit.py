"""An attacker's audit of the protected layer: how tightly can a restricted reader pin each hidden cell down?

It harvests what restricted readers can obtain: every figure of the pub_* views (the only place their
pages and CSV downloads read from), each count mapped to the cell it shows and each share to its
numerator and denominator. Per quarter and family it writes all of that as linear constraints with every
additive relation among the cells (categories -> total, regions -> state, types -> all types), and for
each hidden cell asks a linear program (HiGHS, through scipy) for the smallest and largest values
consistent with everything published. An agency user also knows its own part of every cell (a lower
bound) and is audited on what is left once that is taken away. A hidden cell is exposed when its interval
is narrower than WIDEST_PINNED or lies inside 1-10; a hidden cell found in the clear is exposed outright.
Counts of agencies (stage transitions: regions -> state, from x to categories -> the agencies compared, which
readers are granted) are held to their own standard: a hidden one is exposed when pinned narrower than
AGENCIES_PINNED or inside 1 to FEWEST_AGENCIES - 1. The practice families carry ratings' item and respondent
counts that no reader ever sees: there is nothing to solve, and the tests check their suppression pattern.

``python -m pipelines.privacy_audit [SNAPSHOT]`` audits the public and the three largest agencies
(scipy is a development dependency).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field

import duckdb

from pipelines.publication import (FAMILIES, FEWEST_AGENCIES, KEYS, PRACTICE_ROUND, SMALLEST_SHOWN, TOTAL, YEAR_END,
                                   Key, published, relations)

WIDEST_PINNED = 10
AGENCIES_PINNED = FEWEST_AGENCIES - 1
"""A hidden count of agencies pinned narrower than this (to one value, or to two neighbours) is exposed."""
RATED = {f.name for f in FAMILIES if f.rated}
BY_AGENCY = {f.name for f in FAMILIES if f.by_agency}
PSEUDO = (YEAR_END, PRACTICE_ROUND)
GRANTED = ("transitions",)
"""Families whose shown totals readers are granted though no view shows them (the agencies compared)."""
VALUES = {"peer_fte": "peer_fte_billing"}
"""Columns that show a cell's value though their names do not end in _count or _usd."""
SLACK = 1e-6
SHARE_SLACK = 1e-4
"""Shares are harvested unrounded; +-0.0001 points still pins any count below 10,000 to +-0.01."""
Problem = tuple[str, str]  # (quarter, family)


@dataclass(frozen=True)
class Exposure:
    quarter: str
    family: str
    cell: Key
    value: float
    low: float | None
    high: float | None
    agency: str | None


@dataclass
class Result:
    audited: int = 0
    narrowest: float = float("inf")
    narrowest_agencies: float = float("inf")
    """The narrowest interval of a hidden count of agencies (held to AGENCIES_PINNED)."""
    exposures: list[Exposure] = field(default_factory=list)
    inconsistent: list[tuple[Problem, Key, float]] = field(default_factory=list)
    """Figures readers see that are not the layer's own cell values: its arithmetic would not be theirs."""


@dataclass
class Harvest:
    """What a restricted reader holds: cell values, and shares (numerator, denominator, percent)."""

    values: dict[Problem, dict[Key, float]] = field(default_factory=lambda: defaultdict(dict))
    shares: dict[Problem, list[tuple[Key, Key, float]]] = field(default_factory=lambda: defaultdict(list))


def _cell(ref: str, kind: str, categorization: dict[tuple[str, str], str]) -> tuple[str, Key]:
    family, _, category = ref.partition(":")
    return family, ("", kind, categorization.get((family, category), "") if category else "", category)


def _expand(ref: str, row: dict) -> str:
    """'peers:{role}' -> 'peers:FAMILY_PEER' for this row ('practice:{domain}' -> 'practice' for domain ALL)."""
    while "{" in ref:
        head, rest = ref.split("{", 1)
        column, tail = rest.split("}", 1)
        if row[column] == TOTAL and head.endswith(":") and not tail and "{" not in head:
            return head[:-1]
        ref = f"{head}{row[column]}{tail}"
    return ref


def harvest(con: duckdb.DuckDBPyConnection) -> Harvest:
    """Every count and share of the pub_* views, as cells; without the views (a bare pub_cells), the shown cells."""
    found = Harvest()
    categorization = dict(((f, c), z) for f, z, c in con.execute(
        "select distinct family, categorization, category from pub_cells where categorization <> ''").fetchall())
    views = {r[0] for r in con.execute("select view_name from duckdb_views()").fetchall()}
    if not views & {"pub_" + v.removeprefix("kpi_") for v in KEYS}:
        for q, fam, ent, kind, cz, cat, value in con.execute(
                "select quarter, family, entity_id, agency_type, categorization, category, value from pub_cells "
                "where not hidden").fetchall():
            found.values[(q, fam)][(ent, kind, cz, cat)] = float(value)
        return found
    for q, fam, ent, kind, value in con.execute(
            "select quarter, family, entity_id, agency_type, value from pub_cells where categorization = '' and "
            f"not hidden and family in ({', '.join(repr(f) for f in GRANTED)})").fetchall():
        found.values[(q, fam)][(ent, kind, "", "")] = float(value)
    for view in KEYS:
        name = "pub_" + view.removeprefix("kpi_")
        frame = con.execute(f"select * from {name}").fetch_df().to_dict("records")
        rules = published(view)
        for row in frame:
            kind = row.get("agency_type", "ALL")
            for column, refs in rules.items():
                value = row.get(column)
                if value is None or value != value or any(r.startswith("=") for r in refs):
                    continue
                refs = [_expand(r, row) for r in refs if "@" not in r and not r.startswith("=") and r not in PSEUDO]
                if any(r.partition(":")[0] in RATED for r in refs):
                    continue  # ratings: their cells' values (items, respondents) are never shown
                if column in VALUES:
                    refs = [VALUES[column]]
                if len(refs) == 1 and (column.endswith(("_count", "_usd")) or column in VALUES):
                    family, key = _cell(refs[0], kind, categorization)
                    found.values[(row["quarter"], family)][(row["entity_id"], *key[1:])] = float(value)
                elif len(refs) >= 2 and ":" not in refs[0] and refs[1].startswith(refs[0] + ":") and \
                        column.endswith("_pct"):
                    family, total = _cell(refs[0], kind, categorization)
                    _, part = _cell(refs[1], kind, categorization)
                    found.shares[(row["quarter"], family)].append(
                        ((row["entity_id"], *part[1:]), (row["entity_id"], *total[1:]), float(value)))
    return found


def _cells(con: duckdb.DuckDBPyConnection) -> dict[Problem, dict[Key, tuple[float, bool]]]:
    found: dict[Problem, dict[Key, tuple[float, bool]]] = defaultdict(dict)
    for q, fam, ent, kind, cz, cat, value, hidden in con.execute(
            "select quarter, family, entity_id, agency_type, categorization, category, value, hidden "
            "from pub_cells").fetchall():
        found[(q, fam)][(ent, kind, cz, cat)] = (float(value), hidden)
    return found


def _own_parts(con: duckdb.DuckDBPyConnection, agency: str) -> dict[Problem, dict[Key, float]]:
    """One agency's part of every place cell it is in."""
    found: dict[Problem, dict[Key, float]] = defaultdict(dict)
    for q, fam, region, cz, cat, value in con.execute(
            "select quarter, family, region_id, categorization, category, value "
            "from pub_agency_cells where agency_id = ?", [agency]).fetchall():
        for ent in ("STATE", region):
            found[(q, fam)][(ent, "ALL", cz, cat)] = float(value)
    return found


def _constraints(cells: dict[Key, tuple[float, bool]], known: dict[Key, float],
                 shares: list[tuple[Key, Key, float]], unknown: list[Key]):
    import numpy as np

    index = {k: i for i, k in enumerate(unknown)}
    eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []
    for total, parts in relations(set(cells)):
        row, rhs = np.zeros(len(unknown)), 0.0
        for key, sign in ((total, 1.0), *((p, -1.0) for p in parts)):
            if key in index:
                row[index[key]] += sign
            else:
                rhs -= sign * known[key]
        if row.any():
            eq_rows.append(row), eq_rhs.append(rhs)
    for num, den, pct in shares:  # num = pct% of den, within SLACK either way
        for bound, sign in ((pct + SHARE_SLACK, 1.0), (pct - SHARE_SLACK, -1.0)):
            row, rhs = np.zeros(len(unknown)), SLACK
            for key, coef in ((num, sign), (den, -sign * bound / 100)):
                if key in index:
                    row[index[key]] += coef
                else:
                    rhs -= coef * known.get(key, cells.get(key, (0.0,))[0])
            if row.any():
                ub_rows.append(row), ub_rhs.append(rhs)
    return eq_rows, eq_rhs, ub_rows, ub_rhs


def audit(con: duckdb.DuckDBPyConnection, agencies: tuple[str | None, ...] = (None,)) -> Result:
    """Audit every hidden cell for the public (None) and for each agency user named."""
    import numpy as np
    from scipy.optimize import linprog

    result, cells_of, got = Result(), _cells(con), harvest(con)
    for agency in agencies:
        own = _own_parts(con, agency) if agency else {}
        for problem, cells in cells_of.items():
            if problem[1] in RATED:
                continue
            known = got.values.get(problem, {})
            if agency is None:
                result.inconsistent += [(problem, k, v) for k, v in known.items()
                                        if k not in cells or abs(cells[k][0] - v) > SLACK]
            hidden = [k for k, (_, h) in cells.items() if h]
            for k in hidden:
                if k in known:  # shown in the clear somewhere
                    result.exposures.append(Exposure(*problem, k, cells[k][0], known[k], known[k], agency))
            unknown = sorted(k for k in cells if k not in known)
            audited = [k for k in hidden if k not in known]
            if not audited:
                continue
            eq_rows, eq_rhs, ub_rows, ub_rhs = _constraints(cells, known, got.shares.get(problem, []), unknown)
            mine = own.get(problem, {})
            cap = 10 * max(v for v, _ in cells.values()) + 1000  # "no upper bound", kept finite for the solver
            bounds = [(mine.get(k, 0.0), cap) for k in unknown]
            where = {k: i for i, k in enumerate(unknown)}
            for k in audited:
                objective = np.zeros(len(unknown))
                objective[where[k]] = 1.0
                ends = []
                for sense in (1.0, -1.0):
                    solved = linprog(sense * objective, A_eq=np.array(eq_rows) if eq_rows else None,
                                     b_eq=eq_rhs or None, A_ub=np.array(ub_rows) if ub_rows else None,
                                     b_ub=ub_rhs or None, bounds=bounds, method="highs")
                    if solved.status != 0:  # the true values are a solution: anything else means a wrong harvest
                        raise RuntimeError(f"{problem}: {solved.message}")
                    ends.append(sense * solved.fun)
                taken = mine.get(k, 0.0)
                low, high = ends[0] - taken, (None if ends[1] >= cap - 1 else ends[1] - taken)
                width = float("inf") if high is None else high - low
                result.audited += 1
                agencies = problem[1] in BY_AGENCY
                pinned, smallest = (AGENCIES_PINNED, FEWEST_AGENCIES) if agencies else (WIDEST_PINNED, SMALLEST_SHOWN)
                if agencies:
                    result.narrowest_agencies = min(result.narrowest_agencies, width)
                else:
                    result.narrowest = min(result.narrowest, width)
                inside = high is not None and low >= 1 - SLACK and high <= smallest - 1 + SLACK
                if width < pinned - SLACK or inside:
                    result.exposures.append(Exposure(*problem, k, cells[k][0] - taken, low, high, agency))
    return result


def largest_agencies(con: duckdb.DuckDBPyConnection, n: int = 3) -> list[str]:
    """The agencies with the most peers at their peak: the ones whose own figures take the most away."""
    return [r[0] for r in con.execute(
        "select agency_id from pub_agency_cells where family = 'peers' and categorization = '' "
        "group by agency_id order by max(value) desc, agency_id limit ?", [n]).fetchall()]


def main(path: str = "data/published/warehouse.duckdb") -> int:
    con = duckdb.connect(path, read_only=True)
    biggest = largest_agencies(con)
    result = audit(con, (None, *biggest))
    print(f"{result.audited} hidden cells audited (the public, and agencies {', '.join(biggest)}); narrowest "
          f"interval {result.narrowest:.1f} (counts of agencies: {result.narrowest_agencies:.1f}); "
          f"{len(result.exposures)} exposed; {len(result.inconsistent)} figures inconsistent with the layer")
    for e in [*result.exposures, *result.inconsistent][:20]:
        print(f"  {e}")
    return 1 if result.exposures or result.inconsistent else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
