"""Metric definitions, generated from the metric registry (the same text as docs/metrics.md)."""

import polars as pl
import streamlit as st

from dashboard import auth, data, widgets
from pipelines import targets
from pipelines.metrics import METRICS

PILLAR_ROLES = {"workforce": "workforce pillar component", "index": "pillar weight in the index",
                "stage": "stage threshold (index)", "kpi": "target shown, not scored", "practice": "practice pillar"}

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

st.subheader("The state's targets")
st.caption("Floors, targets and stretches (data/reference/targets.csv, the `targets` table): a workforce component "
           "scores 0 at or beyond its floor, 70 at its target and 100 at or beyond its stretch. Bands: red below "
           "the midpoint of floor and target, amber up to the target, green at or beyond it. Contractual targets "
           "carry funding consequences.")
state_targets = data.targets()
widgets.table(pl.DataFrame([{
    "measure": t.label, "role": PILLAR_ROLES.get(t.pillar, t.pillar), "better": t.direction or "-",
    "floor": t.floor, "target": t.target, "stretch": t.stretch, "weight": t.weight,
    "contractual": "yes" if t.contractual else "no"} for t in state_targets.values()]), "state-targets")
st.caption(f"Stages: {targets.stage_rule(state_targets)}; an agency with no peer headcount is in its own stage, "
           f"“{targets.NO_PEERS}”, never scored 0.")
