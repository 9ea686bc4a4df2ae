"""Metric definitions, generated from the metric registry (the same text as docs/metrics.md)."""

import polars as pl
import streamlit as st

from dashboard import auth, data, widgets
from pipelines import targets
from pipelines.metrics import METRICS, metric

viewer = auth.require("definitions")

st.title("Metric definitions")
st.caption("Every number on these pages is one SQL view in the warehouse; analysts read the same views.")

ids = [m.id for m in METRICS]
wanted = st.query_params.get("metric")
wanted = wanted if wanted in ids else None  # a known id or nothing: the address is never echoed
chosen = st.selectbox("Metric", ids, index=ids.index(wanted) if wanted else None, key=f"definition-{wanted}",
                      format_func=lambda i: metric(i).label, placeholder="Choose a metric to read its definition")
if chosen:
    if st.query_params.get("metric") != chosen:
        st.query_params["metric"] = chosen  # a definition is a link, as the KPI cards use it
    m = metric(chosen)
    better = {True: "higher is better", False: "lower is better", None: "neither higher nor lower is better"}
    with st.container(border=True):
        st.subheader(m.label)
        st.markdown(widgets.plain(m.description))
        st.markdown(f"**Formula:** {widgets.plain(m.formula)}")
        st.caption(f"Unit: {m.unit or 'a label'} · {better[m.higher_is_better]} · from the "
                   f"{', '.join(m.reports)} {'report' if len(m.reports) == 1 else 'reports'} · read from "
                   f"`{m.view}.{m.column}`")
elif "metric" in st.query_params:
    del st.query_params["metric"]

definitions = pl.DataFrame({
    "metric": [m.label for m in METRICS],
    "unit": [m.unit or None for m in METRICS],
    "better": [{True: "higher", False: "lower", None: None}[m.higher_is_better] for m in METRICS],
    "formula": [m.formula for m in METRICS],
    "meaning": [m.description for m in METRICS],
    "source reports": [", ".join(m.reports) for m in METRICS],
    "read from": [f"{m.view}.{m.column}" for m in METRICS],
})
widgets.table(definitions, "metric-definitions", column_order=("metric", "unit", "better", "source reports",
                                                                "read from"),
              column_config={"better": st.column_config.TextColumn("Better", help="Which direction is better")},
              caption="Choose a metric above for what it means and its formula; the CSV has every definition in "
                      "full.")

st.subheader("The state's targets")
st.caption("Floors, targets and stretches (data/reference/targets.csv, the `targets` table): a workforce component "
           "scores 0 at or beyond its floor, 70 at its target and 100 at or beyond its stretch. Bands: red below "
           "the midpoint of floor and target, amber up to the target, green at or beyond it. Contractual targets "
           "carry funding consequences.")
state_targets = data.targets()


def _by_unit(t: targets.Target, value: float | None) -> str | None:
    """A floor, target or stretch in its metric's unit and format (a weight or threshold as a plain number)."""
    if value is None:
        return None
    return metric(t.metric).format_value(value) if t.metric else widgets.number_text(value, ".2f" if value < 1
                                                                                     else ",.0f")


widgets.table(pl.DataFrame([{
    "measure": t.label, "role": t.pillar, "better": t.direction, "floor": _by_unit(t, t.floor),
    "target": _by_unit(t, t.target), "stretch": _by_unit(t, t.stretch), "weight": t.weight,
    "contractual": t.contractual} for t in state_targets.values()],
    schema_overrides={"floor": pl.String, "target": pl.String, "stretch": pl.String, "better": pl.String}),
    "state-targets", column_config={"measure": st.column_config.TextColumn("Measure", pinned=True),
                                    "floor": st.column_config.TextColumn("Floor", alignment="right"),
                                    "target": st.column_config.TextColumn("Target", alignment="right"),
                                    "stretch": st.column_config.TextColumn("Stretch", alignment="right"),
                                    "weight": st.column_config.NumberColumn("Weight", format="%.2f")})
st.caption(f"Stages: {targets.stage_rule(state_targets)}; an agency with no peer headcount is in its own stage, "
           f"“{targets.NO_PEERS}”, never scored 0.")
