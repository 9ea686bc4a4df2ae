"""What readers outside the state office may see (public and agency roles): counts of 1-10 people hidden.

privacy.suppress does the arithmetic; this module knows the warehouse's columns: which count people, and
which measures are computed from them. Pages pass every region or state figure they show a restricted
reader through protect() (or place(), which suppresses across every place before keeping the chosen
one, so a hidden region cannot be recovered from the state total and the other regions' views).
State roles see every figure unchanged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import polars as pl
import streamlit as st

from dashboard import auth
from dashboard.filters import Filters
from dashboard.privacy import Rule, Suppressed, suppress

PEOPLE = (  # columns that count people, as the views name them and as the pages' queries rename them
    "peer_headcount_count", "peer_fulltime_count", "supervisor_headcount_count", "trained_supervisor_count",
    "clinician_headcount_count", "cert_peer_count", "certified_active_count", "certified_or_provisional_count",
    "beneficiaries_count", "hires_count", "separations_count", "voluntary_separations_count",
    "turnover_window_separations_count", "window_separations_count", "retention_cohort_hires_count",
    "cohort_hires_count", "retained_12m_count", "headcount_count", "fulltime_count", "peer_count",
    "peers", "headcount", "people", "separations", "clinicians", "trained_supervisors", "certified_peers",
)
CORE = ("peer_headcount_count", "clinician_headcount_count", "trained_supervisor_count", "certified_active_count",
        "cert_peer_count", "retention_cohort_hires_count", "retained_12m_count", "peers", "clinicians",
        "trained_supervisors", "certified_peers")
"""The counts the integration index is computed from: a place with one of them hidden shows no index."""
_PEERS = ("peer_headcount_count", "peers")
DERIVED: dict[str, tuple[str, ...]] = {
    "peer_fte": _PEERS, "fte": ("headcount_count", "headcount"),
    "peer_fte_per_100k": _PEERS, "peer_vacancy_rate_pct": _PEERS,
    "peer_to_clinician_ratio": (*_PEERS, "clinician_headcount_count", "clinicians"),
    "peer_fulltime_pct": (*_PEERS, "peer_fulltime_count"),
    "fulltime_pct": ("fulltime_count", "headcount_count", "headcount"),
    "vacancy_rate_pct": ("headcount_count", "headcount"),
    "peers_per_trained_supervisor": (*_PEERS, "trained_supervisor_count", "trained_supervisors"),
    "certified_pct": ("cert_peer_count", "certified_active_count", "certified_peers", *_PEERS),
    "annualized_turnover_pct": ("turnover_window_separations_count", "window_separations_count"),
    "retention_12m_pct": ("retention_cohort_hires_count", "retained_12m_count", "cohort_hires_count"),
    "beneficiaries_per_peer_fte": ("beneficiaries_count", *_PEERS),
    "units_billed_per_peer_fte": _PEERS, "units_billed_per_billing_peer_fte": _PEERS,
    "units_paid_per_peer_fte": _PEERS,
    "share_pct": ("peer_count", "peers", "people", "separations", "peer_headcount_count"),
    "status_share_pct": ("peer_count",), "share_of_peer_fte_pct": ("peer_headcount_count",),
    "index_score": CORE, "stage": CORE, "sub_score": CORE,
}
NOTE = ("Counts of 1 to 10 people are shown as suppressed, with other cells hidden too where a total or "
        "a percentage would reveal them (small-cell suppression for readers outside the state office); "
        "stacked shares are of the figures shown.")


def restricted() -> bool:
    return auth.current().suppressed


def protect(frame: pl.DataFrame, *, groups: tuple = (), total: str | None = None,
            derived: dict[str, tuple[str, ...]] | None = None, chart: bool = False,
            drop: tuple[str, ...] = ()) -> pl.DataFrame:
    """The frame as the current reader may see it, without the helper columns in `drop`.

    For tables, hidden cells read "suppressed". For charts (`chart=True`) they are null, and a
    `suppressed` column names the hidden measures of each row (it is in the CSV download too).
    """
    if not restricted() or frame.is_empty():
        return frame.drop(drop, strict=False)
    rule = Rule(PEOPLE, {**DERIVED, **(derived or {})}, groups, total)
    return _remember(("protect", _content(frame), rule.groups, rule.total, _items(derived), chart, drop),
                     lambda: _shown(frame, suppress(frame, rule), chart, drop))


def _shown(frame: pl.DataFrame, result: Suppressed, chart: bool, drop: tuple[str, ...]) -> pl.DataFrame:
    if not chart:
        return result.frame.drop(drop, strict=False)
    hidden = [c for c in result.mask.columns if result.mask[c].any()]
    named = [c for c in hidden if c not in drop]  # the `suppressed` column names only what the view shows
    if not named:
        return frame.drop(drop, strict=False)
    nulled = frame.with_columns(pl.when(result.mask[c]).then(None).otherwise(pl.col(c)).alias(c) for c in hidden)
    names = pl.concat_list(pl.when(result.mask[c]).then(pl.lit(c)).otherwise(None) for c in named).list.drop_nulls()
    return nulled.with_columns(names.list.join(", ").replace("", None).alias("suppressed")).drop(drop, strict=False)


_MEMO: OrderedDict[tuple, pl.DataFrame] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def _content(frame: pl.DataFrame) -> tuple:
    return (tuple(frame.schema.items()), frame.height, int(frame.hash_rows(seed=1).sum()),
            int(frame.hash_rows(seed=2).sum()))


def _items(mapping: dict | None) -> tuple:
    return tuple(sorted((mapping or {}).items()))


def _remember(key: tuple, compute) -> pl.DataFrame:
    """What a restricted reader sees depends only on the data and the view, so every such reader of a page
    (and every rerun) shares one computation. Keyed by the frame's content, never by who is asking."""
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    value = compute()
    with _MEMO_LOCK:
        _MEMO[key] = value
        while len(_MEMO) > 256:
            _MEMO.popitem(last=False)
    return value


def place(frame: pl.DataFrame, f: Filters, *, show: str = "place", groups: tuple = ("quarter",),
          chart: bool = True, derived: dict[str, tuple[str, ...]] | None = None,
          drop: tuple[str, ...] = ()) -> pl.DataFrame:
    """Rows of the state and every region (columns level, entity_id), protected together, then the ones the
    view shows: `show` "place" (the filters' region, or the state), or "regions" (every region and the
    state; the chosen region and the state when one is chosen). `groups`: the additive groups among places.
    """
    if show == "place" or f.region:
        wanted = (pl.col("level") == f.level) & (pl.col("entity_id") == f.entity_id)
        wanted = wanted | (pl.col("level") == "state") if show == "regions" else wanted
    else:
        wanted = pl.lit(True)
    if not restricted() or frame.is_empty():
        return frame.filter(wanted).drop("level", "entity_id", *drop, strict=False)
    rule = Rule(PEOPLE, {**DERIVED, **(derived or {})}, groups, "is_state")

    def compute() -> pl.DataFrame:
        marked = frame.with_columns(is_state=pl.col("level") == "state")
        result = suppress(marked, rule)  # over every place, so no view gives away another's hidden cell
        keep = marked.select(wanted).to_series()
        kept = Suppressed(result.frame.filter(keep), result.hidden, result.mask.filter(keep))
        return _shown(marked.filter(keep), kept, chart, drop).drop("is_state", "level", "entity_id", strict=False)

    return _remember(("place", _content(frame), f.level, f.entity_id, show, rule.groups, _items(derived), chart,
                      drop), compute)


def beside_own(frame: pl.DataFrame, *, derived: dict[str, tuple[str, ...]] | None = None,
               drop: tuple[str, ...] = ()) -> pl.DataFrame:
    """Region and state rows shown beside an agency user's own agency (its `level` = 'agency' rows, shown as
    they are). A place figure is hidden where it rests on 1-10 people, and also where taking away the
    agency's own figure would leave 1-10 (the rest of the region could be one other agency)."""
    if not restricted() or frame.is_empty():
        return frame.drop(drop, strict=False)
    on = [c for c in ("quarter",) if c in frame.columns]
    rule = Rule(PEOPLE, {**DERIVED, **(derived or {})}, groups=("level", *on))  # each row on its own
    own, places = frame.filter(pl.col("level") == "agency"), frame.filter(pl.col("level") != "agency")
    counts = [c for c in PEOPLE if c in frame.columns and frame.schema[c].is_numeric()]
    mine = own.select(*on, *counts).rename({c: f"{c}__own" for c in counts})
    joined = places.join(mine, on=on, how="left") if on else places.join(mine.head(1), how="cross")
    rest = joined.with_columns((pl.col(c) - pl.col(f"{c}__own").fill_null(0)).alias(c) for c in counts)
    small, left_over = suppress(places, rule).mask, suppress(rest.select(places.columns), rule).mask
    either = small.select(pl.col(c) | left_over[c] for c in small.columns)
    shown = _shown(places, Suppressed(places, 0, either), chart=True, drop=())
    return pl.concat([own, shown], how="diagonal_relaxed").drop(drop, strict=False)


def note() -> None:
    """Say so under a view whose figures may be suppressed."""
    if restricted():
        st.caption(f":material/visibility_off: {NOTE}")


def state_only(what: str) -> None:
    """In place of agency-level detail a public reader may not see."""
    st.info(f"{what} is available to state staff and, for their own agency, to agency users.",
            icon=":material/lock:")
