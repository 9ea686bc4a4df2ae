"""Small UI pieces every page uses: downloadable tables, charts with their data, empty states."""

from __future__ import annotations

import json
import re

import altair as alt
import polars as pl
import streamlit as st

from dashboard import disclosure
from pipelines import csv_safe


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV of a shown frame: lists joined with '; ', text that a spreadsheet would run as a formula
    (starting with = + - @ tab or CR) prefixed with an apostrophe (pipelines.csv_safe)."""
    return csv_safe.csv_bytes(frame)


def table(frame: pl.DataFrame, name: str, caption: str | None = None, row_level: bool = False, **kwargs):
    """A table with a CSV download of exactly what is shown (built when clicked); returns st.dataframe's
    value (its selection, when selectable). `row_level`: rows of a report (a peer, a line of a file), downloadable only by those who may export them."""
    from dashboard import auth

    shown = st.dataframe(frame, hide_index=True, width="stretch", **kwargs)
    if row_level and not auth.current().may_export_rows:
        st.caption(":material/lock: Downloads of row-level data are for state analysts and administrators.")
    else:
        st.download_button(f"Download {name} (CSV)", lambda: csv_bytes(frame), file_name=f"{name}.csv",
                           mime="text/csv", key=f"dl-{name}", icon=":material/download:", on_click="ignore")
    if caption:
        st.caption(caption)
    return shown


def png(chart_obj: alt.TopLevelMixin) -> bytes:
    """The chart rendered to PNG offline (vl-convert), at twice screen resolution."""
    import vl_convert

    return vl_convert.vegalite_to_png(json.dumps(chart_obj.to_dict()), scale=2)


def chart(chart_obj: alt.TopLevelMixin, frame: pl.DataFrame, name: str, as_of: str, **kwargs):
    """An Altair chart, its as-of date, its data as CSV and the picture as PNG (rendered on click)."""
    shown = st.altair_chart(chart_obj, width="stretch", **kwargs)
    note, buttons = st.columns([3, 2], vertical_alignment="center")
    note.caption(f"Data as of {as_of}. Source: accepted quarterly agency reports.")
    with buttons.container(horizontal=True, horizontal_alignment="right"):
        st.download_button("CSV", lambda: csv_bytes(frame), file_name=f"{name}.csv", mime="text/csv",
                           key=f"dl-chart-{name}", icon=":material/download:", on_click="ignore",
                           help="The data behind this chart")
        st.download_button("PNG", lambda: png(chart_obj), file_name=f"{name}.png", mime="image/png",
                           key=f"png-chart-{name}", icon=":material/image:", on_click="ignore",
                           help="This chart as a picture")
    return shown


def scope_note(filters) -> None:
    """Say what the agency-type filter leaves out, where a page mixes place totals and agency rows."""
    if filters.agency_type and disclosure.restricted():
        st.caption(":material/filter_alt: Figures shown outside the state office cover every agency type: split by "
                   "type, most would rest on one or two agencies.")
    elif note := filters.scope_note():
        st.caption(f":material/filter_alt: {note}")


def titled(title: str):
    """Title a page that needs data; stop with what to do when the warehouse holds none yet.
    Returns the global filters."""
    from dashboard import filters

    f = filters.current()
    st.title(title)
    if not f.quarter_to:
        empty_state(NO_DATA)
        st.stop()
    return f


def plain(text: object) -> str:
    """Text from a user or the address (a file name, a provider's display name) made safe inside markdown,
    on one line: no links, images, emphasis, headings, lists, icons, colours or HTML."""
    one_line = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(text))
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&^])", r"\\\1", one_line)


def count_text(value: int | None) -> str:
    """A count as a card shows it: 1,234, or "suppressed" where the layer hides it."""
    return disclosure.SUPPRESSED if value is None else f"{int(value):,}"


def empty_state(message: str) -> None:
    st.info(message, icon=":material/info:")


NO_DATA = ("No accepted submissions yet. Load the demo state with `make demo` (or "
           "`python -m pipelines demo`), or ingest agency files with `python -m pipelines ingest FILE`.")
NO_MATCH = ("No reports match these filters. Widen the quarter range, or clear the region or agency type "
            "in the sidebar.")
