"""Small UI pieces every page uses: downloadable tables, charts with their data, empty states."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode()


def table(frame: pl.DataFrame, name: str, caption: str | None = None, **kwargs) -> None:
    """A table with a CSV download of exactly what is shown."""
    st.dataframe(frame, hide_index=True, width="stretch", **kwargs)
    st.download_button(f"Download {name} (CSV)", _csv(frame), file_name=f"{name}.csv", mime="text/csv",
                       key=f"dl-{name}", icon=":material/download:")
    if caption:
        st.caption(caption)


def chart(chart_obj: alt.Chart, frame: pl.DataFrame, name: str, as_of: str) -> None:
    """An Altair chart, its as-of date, and the data behind it as CSV."""
    st.altair_chart(chart_obj, width="stretch")
    left, right = st.columns([3, 1])
    left.caption(f"Data as of {as_of}. Source: accepted quarterly agency reports.")
    right.download_button("Chart data (CSV)", _csv(frame), file_name=f"{name}.csv", mime="text/csv",
                          key=f"dl-chart-{name}", icon=":material/download:")


def empty_state(message: str) -> None:
    st.info(message, icon=":material/info:")


NO_DATA = ("No accepted submissions yet. Load the demo state with `make demo` (or "
           "`python -m pipelines demo`), or ingest agency files with `python -m pipelines ingest FILE`.")
