"""The state's targets (data/reference/targets.csv, the `targets` table): floors, targets, stretches, bands,
pillar weights and stage thresholds, read from one place by the pages and the docs.

The SQL views read the same table (the ``score_of`` and ``band_of`` macros in pipelines.metrics); ``Target.score``
and ``Target.band`` are the same rules for values computed outside SQL (and a test keeps the two in step).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import settings

BANDS = ("red", "amber", "green")
BAND_COLOURS = {"red": "#D55E00", "amber": "#E69F00", "green": "#009E73"}
BAND_WORDS = {"red": "well below target", "amber": "below target", "green": "at or beyond target"}
NO_PEERS = "No peer workforce"


@dataclass(frozen=True)
class Target:
    """One row of targets.csv."""

    component: str
    label: str
    pillar: str
    metric: str | None
    direction: str | None
    floor: float | None
    target: float | None
    stretch: float | None
    weight: float | None
    contractual: bool

    @property
    def higher(self) -> bool:
        return self.direction != "lower"

    def _better(self, a: float, b: float) -> bool:
        """a is at or beyond b in the good direction."""
        return a >= b if self.higher else a <= b

    def score(self, value: float | None) -> float | None:
        """0 at or beyond the floor, 70 at the target, 100 at or beyond the stretch, linear between."""
        if value is None or None in (self.floor, self.target, self.stretch):
            return None
        if not self._better(value, self.floor) or value == self.floor:
            return 0.0
        if self._better(value, self.stretch):
            return 100.0
        if self._better(value, self.target):
            return 70.0 + 30.0 * (value - self.target) / (self.stretch - self.target)
        return 70.0 * (value - self.floor) / (self.target - self.floor)

    def band(self, value: float | None) -> str | None:
        """red below the midpoint of floor and target, amber up to the target, green at or beyond it."""
        if value is None or self.target is None or self.floor is None:
            return None
        if self._better(value, self.target):
            return "green"
        return "amber" if self._better(value, (self.floor + self.target) / 2) else "red"


def _number(text: str | None) -> float | None:
    return float(text) if text not in (None, "") else None


def from_rows(rows: list[dict]) -> dict[str, Target]:
    """Targets by component from rows shaped like targets.csv (strings or typed values)."""
    found = {}
    for r in rows:
        contractual = r.get("contractual")
        found[r["component"]] = Target(
            r["component"], r["label"], r["pillar"], r.get("metric") or None, r.get("direction") or None,
            *(_number(r.get(k)) if isinstance(r.get(k), str) else r.get(k)
              for k in ("floor", "target", "stretch", "weight")),
            contractual if isinstance(contractual, bool) else str(contractual).lower() == "true")
    return found


def from_csv(path: Path | None = None) -> dict[str, Target]:
    """Targets from the reference folder's targets.csv (the docs read this)."""
    path = path or settings.reference_dir() / "targets.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return from_rows(list(csv.DictReader(fh)))


def from_warehouse(con: duckdb.DuckDBPyConnection) -> dict[str, Target]:
    """Targets as loaded in a warehouse or snapshot (the pages read this)."""
    cur = con.execute("select * from targets")
    names = [d[0] for d in cur.description]
    return from_rows([dict(zip(names, row)) for row in cur.fetchall()])


def for_metric(targets: dict[str, Target], metric_id: str) -> Target | None:
    """The target set for a registry metric, if the state set one. The integration index's target is the
    Integrated stage, its bands the stages (red Emerging, amber Developing, green Integrated)."""
    if metric_id == "integration_index" and {"stage_developing", "stage_integrated"} <= targets.keys():
        (_, _), (_, developing), (_, integrated) = stages(targets)
        return Target("integration_index", "Integrated stage", "stage", metric_id, "higher",
                      2 * developing - integrated, integrated, 100.0, None, False)
    return next((t for t in targets.values() if t.metric == metric_id and t.target is not None), None)


def stages(targets: dict[str, Target]) -> list[tuple[str, float]]:
    """Scored stages with the lowest index of each, from the stage rows."""
    return [("Emerging", 0.0), ("Developing", targets["stage_developing"].target),
            ("Integrated", targets["stage_integrated"].target)]


def stage_rule(targets: dict[str, Target]) -> str:
    """The thresholds as people read them: Emerging < 40 ≤ Developing < 70 ≤ Integrated."""
    (_, _), (_, developing), (_, integrated) = stages(targets)
    return f"Emerging < {developing:g} ≤ Developing < {integrated:g} ≤ Integrated"
