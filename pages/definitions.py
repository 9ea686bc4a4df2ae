"""Metric definitions, generated from the metric registry (the same text as docs/metrics.md)."""

import polars as pl
import streamlit as st

from dashboard import auth, widgets
from pipelines.metrics import METRICS

viewer = auth.require("definitions")

st.title("Metric definitions")
st.caption("Every number on these pages is one SQL view in the warehouse; analysts read the same views.")

definitions = pl.DataFrame({
    "metric": [m.label for m in METRICS],
    "unit": [m.unit for m in METRICS],
    "better": [{True: "higher", False: "lower", None: "-"}[m.higher_is_better] for m in METRICS],
    "formula": [m.formula for m in METRICS],
    "meaning": [m.description for m in METRICS],
    "source reports": [", ".join(m.reports) for m in METRICS],
    "read from": [f"{m.view}.{m.column}" for m in METRICS],
})
widgets.table(definitions, "metric-definitions")
