"""What readers outside the state office (public and agency roles) see: the protected publication layer.

The writer computes that layer with every load (pipelines.publication): pub_* views that hold only
the region and state figures such readers may see, hidden cells already null and named in a `suppressed`
column. Query functions read `view(name)`: the kpi_* view for state roles, its pub_* twin for everyone
else. This module only chooses the layer and shows its marks; it decides nothing about suppression.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import auth
from dashboard.filters import Filters

SUPPRESSED = "suppressed"  # what a hidden cell reads in tables and CSV downloads
NOTE = ("Small counts are suppressed for readers outside the state office: a figure resting on 1 to 10 people "
        "(or on fewer than 3 agencies) is not shown, nor any figure that would let it be worked out from "
        "totals, percentages or your own agency's figures. Charts draw such cells grey or mark the missing point "
        "with a grey cross, “suppressed” in the legend and tooltip; tables read “suppressed”. Breakdowns in which "
        "almost every figure would rest on a handful of people or agencies are for state staff only. Figures "
        "over a rolling 4 quarters (turnover, 12-month retention, reasons for leaving) "
        "and the integration index, which scores retention, are published once a year, for the window ending "
        "in Q4. Practice ratings and action counts are published for the quarters the self-assessment is due, "
        "for places with at least 3 assessed agencies.")


def restricted() -> bool:
    return auth.current().suppressed


def view(name: str) -> str:
    """The view a query reads: `kpi_<x>` for state roles, the protected `pub_<x>` for everyone else."""
    return "pub_" + name.removeprefix("kpi_") if restricted() else name


def _marked(frame: pl.DataFrame) -> pl.DataFrame:
    """Cells named in the `suppressed` column read SUPPRESSED (for tables); the column itself is kept."""
    if "suppressed" not in frame.columns:
        return frame
    names = frame["suppressed"].fill_null("").str.split(", ")
    return frame.with_columns(
        pl.when(names.list.contains(c)).then(pl.lit(SUPPRESSED)).otherwise(pl.col(c).cast(pl.String)).alias(c)
        for c in frame.columns if c != "suppressed" and names.list.contains(c).any())


def protect(frame: pl.DataFrame, *, chart: bool = False) -> pl.DataFrame:
    """A frame of the layer as shown: for tables, hidden cells read "suppressed"; for charts they stay null
    and the `suppressed` column (in the CSV too) names the hidden measures of each row."""
    if "suppressed" in frame.columns and not frame["suppressed"].is_not_null().any():
        frame = frame.drop("suppressed")
    return frame if chart else _marked(frame)


def place(frame: pl.DataFrame, f: Filters, *, show: str = "place", chart: bool = True) -> pl.DataFrame:
    """Rows of the state and every region (columns level, entity_id), keeping the ones the view shows: `show`
    "place" (the filters' region, or the state) or "regions" (every region and the state; the chosen region
    and the state when one is chosen)."""
    if show == "place" or f.region:
        wanted = (pl.col("level") == f.level) & (pl.col("entity_id") == f.entity_id)
        wanted = wanted | (pl.col("level") == "state") if show == "regions" else wanted
    else:
        wanted = pl.lit(True)
    return protect(frame.filter(wanted).drop("level", "entity_id", strict=False), chart=chart)


def note() -> None:
    """Say once, under a page's title, that its figures may be suppressed."""
    if restricted():
        st.caption(f":material/visibility_off: {NOTE}")


def state_only(what: str, own_agency: bool = False) -> None:
    """In place of detail readers outside the state office may not see (`own_agency`: agency users see their
    own agency's in its profile): one short line; why is said once per page, in note()."""
    who = "state staff and, for their own agency, to agency users" if own_agency else "state staff only"
    st.info(f"{what} is available to {who}.", icon=":material/lock:")
