"""Regions: staffing per capita, integration components, rankings and trends; pick a region to focus."""

import streamlit as st

from dashboard import auth, charts, data, disclosure, kpis, palette, queries, widgets

viewer = auth.require("regions")

f = widgets.titled("Regions")

as_of, quarter = data.as_of(), f.quarter_to
found = queries.regions_in_quarter(quarter)
regions = disclosure.protect(found, chart=True)
st.caption(f"{quarter} (the end of the selected range) · {widgets.as_of_text()}. Region figures cover every "
           "agency type. Click a bar, or a region's name in the scorecard, to focus the dashboard on that region.")
disclosure.note()


def _focus_region() -> None:
    """A click on the ranking sets the sidebar's region filter (which every page reads)."""
    points = st.session_state["region-ranking"].selection.get("pick", [])
    if points:
        st.session_state["filter_region"] = points[0]["region_id"]


st.subheader(f"Peer FTE per 100,000 residents, {quarter}")
ranked = regions.sort("peer_fte_per_100k", descending=True, nulls_last=True)
widgets.chart(charts.ranked(ranked, "region", "peer_fte_per_100k", "region_id", f.region,
                            f"Peer FTE per 100,000 residents by region, {quarter}",
                            "Ranked; the focused region is highlighted", "Peer FTE per 100k"),
              ranked, "peer-fte-per-100k-by-region", as_of, key="region-ranking",
              on_select=_focus_region)

st.subheader(f"Integration index components by region, {quarter}")
components = disclosure.protect(queries.region_components(quarter), chart=True)
widgets.chart(charts.heatmap(components, "component", "region", "sub_score",
                             f"Integration sub-scores (0-100) by region and component, {quarter}",
                             "Each sub-score: 0 at the state's floor, 70 at its target, 100 at its stretch; hover for the values",
                             "Sub-score", ",.0f", scheme="viridis", extra_tooltips=("value", "target"),
                             value_domain=(0, 100), x_sort="component_order", y_sort=palette.place_order(),
                             select="region"),
              components, "integration-components-by-region", as_of, key="region-components",
              on_select=charts.focus_on_click("region-components", "region"))

st.subheader("Trends by region")
trend_metrics = {"peer_fte_per_100k": "Peer FTE per 100k", "index_score": "Integration index",
                 "certified_pct": "% certified", "annualized_turnover_pct": "Annualized turnover (%)",
                 "denial_rate_pct": "Denial rate (%)", "peers_per_trained_supervisor": "Peers per trained supervisor"}
measure = st.segmented_control("Measure", list(trend_metrics), format_func=trend_metrics.get,
                               default="peer_fte_per_100k", key="region-trend-measure") or "peer_fte_per_100k"
SHARES = {"index_score", "certified_pct", "denial_rate_pct"}  # on a fixed 0-100 axis
trend = disclosure.protect(queries.region_trends(f, measure), chart=True)
title = f"{trend_metrics[measure]} by region, {f.quarter_from} to {f.quarter_to}"
target = kpis.target_of("integration_index" if measure == "index_score" else measure)
widgets.panels(charts.small_multiples(trend, "quarter", "value", "region", title, trend_metrics[measure],
                                      target=target, y_domain=(0, 100) if measure in SHARES else None),
               trend, f"{measure}-trend-by-region", as_of, title,
               "One chart per region, same scale; dashed: the state's target. Click a point to focus on its region.",
               key="region-trends", on_select=lambda key: charts.focus_on_click(key, "region"))

st.subheader(f"Region scorecard, {quarter}")
scorecard = disclosure.protect(found)
staffing, outcomes = st.tabs(["Staffing", "Certification, turnover, billing and index"])
with staffing:
    widgets.table(scorecard, "region-scorecard", column_order=(
        widgets.REGION_LINK, "population", "peers", "peer_fte_per_100k", "peer_to_clinician_ratio",
        "peers_per_trained_supervisor"), caption="The CSV holds both tabs and the counts behind the rates "
        "(clinicians, trained supervisors, certified peers, separations).")
with outcomes:
    widgets.table(scorecard, "region-scorecard-outcomes", download=False, column_order=(
        widgets.REGION_LINK, "certified_pct", "annualized_turnover_pct", "denial_rate_pct", "index_score", "stage"))
