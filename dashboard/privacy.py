"""Small-cell suppression for published tables (CMS cell-size policy). Pure polars: no streamlit.

Counts of people from 1 to 10 are never shown; 0 and 11+ are. Complementary suppression then hides one
more cell wherever a lone hidden cell could be recomputed from its group's total, and derived columns
(rates, percentages, per-FTE) are hidden wherever a count they are computed from is hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

SUPPRESSED = "suppressed"  # what a hidden cell shows, in tables and CSV downloads
SMALLEST_SHOWN = 11


@dataclass(frozen=True)
class Rule:
    """What to suppress in one kind of frame. Columns it names that a frame lacks are ignored.

    counts: columns holding counts of people.
    derived: column -> the count columns it is computed from; hidden in any row where one of them is.
    groups: columns whose equal values form one additive group (() = the whole frame is one group), or a
        tuple of such tuples for several groupings at once, e.g. (("quarter",), ("region_id",)) for a
        quarter x region table whose row and column totals are both published.
    total: a boolean column, True on a group's total row (not a partner, but itself subject to 1-10).
    """

    counts: tuple[str, ...]
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups: tuple[str, ...] | tuple[tuple[str, ...], ...] = ()
    total: str | None = None


@dataclass(frozen=True)
class Suppressed:
    """frame: for display (hidden cells read SUPPRESSED); hidden: how many cells; mask: True where hidden."""

    frame: pl.DataFrame
    hidden: int
    mask: pl.DataFrame


def _groupings(rule: Rule, columns: list[str]) -> list[tuple[str, ...]]:
    """The rule's groupings as tuples of columns present in the frame (an all-absent one = whole frame)."""
    nested = rule.groups if rule.groups and isinstance(rule.groups[0], tuple) else (rule.groups,)
    return list(dict.fromkeys(tuple(c for c in g if c in columns) for g in nested))


def _groups(frame: pl.DataFrame, by: tuple[str, ...], is_total: list[bool]) -> list[tuple[list[int], list[int]]]:
    """(detail rows, total rows) of each group, row indices in frame order."""
    keys = frame.select(by).rows() if by else [()] * frame.height
    found: dict[tuple, tuple[list[int], list[int]]] = {}
    for i, key in enumerate(keys):
        found.setdefault(key, ([], []))[1 if is_total[i] else 0].append(i)
    return list(found.values())


def suppress(frame: pl.DataFrame, rule: Rule) -> Suppressed:
    """Hide 1-10 counts, their complementary partners and the derived cells that would reveal them."""
    counts = [c for c in dict.fromkeys(rule.counts) if c in frame.columns]
    values = {c: frame[c].to_list() for c in counts}
    hide = {c: [v is not None and 1 <= v < SMALLEST_SHOWN for v in values[c]] for c in counts}

    flags = frame[rule.total].to_list() if rule.total in frame.columns else [False] * frame.height
    is_total = [v is True for v in flags]
    groups = [g for by in _groupings(rule, frame.columns) for g in _groups(frame, by, is_total)]
    changed = True
    while changed:  # only ever adds hidden cells, so it ends
        changed = False
        for c in counts:
            h, v = hide[c], values[c]
            for details, totals in groups:
                if sum(h[i] for i in details) != 1:
                    continue
                partners = [i for i in details if not h[i] and v[i]]  # not hidden, not 0, not null
                targets = [min(partners, key=v.__getitem__)] if partners else [i for i in totals if v[i] is not None]
                for i in targets:
                    if not h[i]:
                        h[i] = changed = True

    for col, sources in rule.derived.items():
        present = [s for s in sources if s in hide]
        if col in frame.columns and present:
            hide[col] = [any(hide[s][i] for s in present) for i in range(frame.height)]

    display = frame.with_columns(
        pl.when(pl.Series(m, dtype=pl.Boolean)).then(pl.lit(SUPPRESSED))
        .otherwise(pl.col(c).cast(pl.String)).alias(c)
        for c, m in hide.items() if any(m)
    )
    mask = pl.DataFrame(hide, schema={c: pl.Boolean for c in hide})
    return Suppressed(display, sum(sum(m) for m in hide.values()), mask)
