"""Retention: rolling turnover, 12-month retention, tenure survival, why peers leave, and what they earn."""

import streamlit as st

from dashboard import auth, charts, data, disclosure, kpis, palette, queries, widgets

viewer = auth.require("retention")

f = widgets.titled("Retention")

as_of, quarter = data.as_of(), f.quarter_to
st.caption(f"{f.describe()} · {widgets.as_of_text()}")
widgets.scope_note(f)
disclosure.note()

left, right = st.columns(2)
with left:
    turnover = disclosure.place(queries.place_trend(f, "kpi_scorecard", "annualized_turnover_pct"), f,
                                show="regions")
    widgets.chart(charts.line(turnover, "quarter", "value", "place",
                              f"Annualized peer turnover (%), rolling 4 quarters, {f.quarter_from} to {quarter}",
                              "Separations / average peer headcount x 4 / quarters in window", "Turnover (%)",
                              target=kpis.target_of("annualized_turnover_pct")),
                  turnover, "annualized-turnover", as_of)
with right:
    retention = disclosure.place(queries.place_trend(f, "kpi_scorecard", "retention_12m_pct"), f,
                                 show="regions")
    widgets.chart(charts.line(retention, "quarter", "value", "place",
                              f"12-month retention of new peers (%), {f.quarter_from} to {quarter}",
                              "Share of peers hired 12-24 months before quarter end still employed",
                              "Retained at 12 months (%)", target=kpis.target_of("retention_12m_pct"),
                              y_domain=(0, 100)), retention, "retention-12m", as_of)

st.subheader("How long peers stay")
if disclosure.restricted():  # each step of a survival curve is a handful of people leaving
    disclosure.state_only("The tenure survival curve")
elif (curve := queries.survival(f)).is_empty():
    widgets.empty_state("No hires or separations reported yet for these filters.")
else:
    medians = curve.unique("place", maintain_order=True)
    widgets.chart(charts.steps(curve, "tenure_month", "still_employed_pct", "place",
                               "Peers still employed by months since hire (Kaplan-Meier)",
                               "Median tenure: " + "; ".join(f"{p} {'not reached' if m is None else f'{m} months'}"
                                                             for p, m in zip(medians["place"],
                                                                             medians["median_tenure_months"])),
                               "Months since hire", "Still employed (%)"), curve, "tenure-survival", as_of)

if disclosure.restricted():
    quarter = f"{int(quarter[:4]) - (quarter[-1] != '4')}-Q4"  # the latest window published to them
st.subheader(f"Why peers leave, 4 quarters to {quarter}")
reasons = disclosure.place(queries.separation_reasons(f, quarter), f)
if reasons.is_empty():
    widgets.empty_state("No separations reported in the 4 quarters to the end of the range.")
elif disclosure.restricted():  # a running share would give away the hidden reasons: plain bars
    reasons = reasons.drop("cumulative_share_pct")
    widgets.chart(charts.bars(reasons, "reason", "separations", f"Separations by reason, 4 quarters to {quarter}",
                              f.place, "Separations", colours="reason"), reasons, "separation-reasons", as_of)
else:
    drift = queries.reason_share_trend(f, "ROLE_DRIFT")
    if drift.height:
        st.warning(f"**Role drift** (peers pulled into non-peer duties) accounts for {drift['share_pct'][-1]:.1f}% "
                   f"of separations in the 4 quarters to {quarter}, against {drift['share_pct'][0]:.1f}% in the "
                   f"window ending {drift['quarter'][0]}.", icon=":material/swap_horiz:")
    left, right = st.columns([3, 2])
    with left:
        widgets.chart(charts.pareto(reasons, "reason", "separations", "cumulative_share_pct",
                                    f"Separations by reason, 4 quarters to {quarter}", f"{f.place}; Pareto order",
                                    "Separations"), reasons, "separation-reasons", as_of)
    with right:
        widgets.chart(charts.line(drift, "quarter", "share_pct", None, "Role drift share of separations (%)",
                                  "Rolling 4 quarters", "Share (%)", colours=palette.REASONS["ROLE_DRIFT"]),
                      drift, "role-drift-share", as_of)

st.subheader(f"Wage bands of peers hired and peers who left, 4 quarters to {quarter}")
if disclosure.restricted():  # hires and leavers of one quarter by band: a handful of people per cell
    disclosure.state_only("Wage bands of peers hired and peers who left")
elif (bands := disclosure.place(queries.wage_bands(f, quarter), f)).is_empty():
    widgets.empty_state("No hires or separations with a wage band in this window.")
else:
    widgets.chart(charts.grouped(bands, "wage_band", "share_pct", "peers_who",
                                 f"Hourly wage band of peers hired and peers who left (%), 4 quarters to {quarter}",
                                 f"{f.place}; share of each group", "Share (%)", colours="measure"), bands,
                  "wage-bands", as_of)
