"""Medicaid billing: what peer services bring in, where claims are denied, and who employs peers but bills nothing."""

import streamlit as st

from dashboard import auth, charts, data, disclosure, filters, kpis, queries, widgets

viewer = auth.require("billing")

f = filters.current()
st.title("Medicaid billing")
series = disclosure.place(queries.scorecards(f), f)
if series.is_empty():
    widgets.empty_state(widgets.NO_DATA if not f.quarter_from else widgets.NO_MATCH)
    st.stop()

as_of, quarter = data.as_of(), series["quarter"][-1]
st.caption(f"{f.describe()} · latest quarter with reports: **{quarter}** · {widgets.as_of_text()}")
widgets.scope_note(f)
disclosure.note()
kpis.cards(kpis.BILLING_CARDS, series, here="billing")

left, right = st.columns(2)
with left:
    units = kpis.long(series, {"units_billed_count": "Units billed", "units_paid_count": "Units paid",
                               "units_denied_count": "Units denied"})
    widgets.chart(charts.line(units, "quarter", "value", "measure",
                              f"Medicaid peer units (15 min) by quarter, {f.quarter_from} to {quarter}", f.place,
                              "Units", ",.0f", colours="measure"), units, "units-by-quarter", as_of)
with right:
    dollars = kpis.long(series, {"amount_billed_usd": "Billed", "amount_paid_usd": "Paid"})
    widgets.chart(charts.line(dollars, "quarter", "value", "measure",
                              f"Medicaid dollars billed and paid by quarter, {f.quarter_from} to {quarter}", f.place,
                              "US dollars", "$,.0f", colours="measure"), dollars, "dollars-by-quarter", as_of)

st.subheader("Funding mix of peer positions")  # full width, as the billing codes below: seven columns need it
if disclosure.restricted():
    disclosure.state_only("The funding mix of peer positions")
else:
    funding = disclosure.place(queries.funding_mix(f), f).drop("peer_headcount_count")
    widgets.chart(charts.stacked(funding, "quarter", "peer_fte", "funding",
                                 f"Peer FTE by primary funding source, {f.quarter_from} to {quarter}",
                                 f"{f.place}; share of peer FTE", "Share of peer FTE", normalize=True,
                                 colours="funding"),
                  funding, "funding-mix", as_of)

st.subheader(f"Billing codes, {quarter}")
if disclosure.restricted():
    disclosure.state_only("Billing by code")
else:
    widgets.table(queries.billing_codes(f, quarter), "billing-codes")

st.subheader("Denial rate by agency and quarter")
if f.scope == ():
    disclosure.state_only("Billing agency by agency")
    st.stop()
if f.scope:
    st.caption(f"Your agencies only: {', '.join(f.scope)}.")
every = st.toggle("Show every agency (default: the 25 with the highest peak denial rate)", key="denial-every")
grid = queries.denial_grid(f, None if every else 25)
if grid.is_empty():
    widgets.empty_state(widgets.NO_MATCH)
else:
    clicked = widgets.chart(charts.heatmap(grid, "quarter", "agency", "denial_rate_pct",
                                 f"Denial rate (% of adjudicated units) by agency, {f.quarter_from} to {quarter}",
                                 f"{f.place} · {filters.type_label(f.agency_type)} · agencies that billed; darker = "
                                 "more denied; blank = no claims decided that quarter", "Denial rate (%)",
                                 scheme="orangered", x_title="Quarter",
                                 extra_tooltips=("units_denied",), row_px=18, value_domain=(0, 50),
                                 open_top=True, select="agency"), grid, "denial-rate-by-agency",
                            as_of, key="denial-grid", on_select="rerun")
    charts.open_clicked_agency(clicked)  # a click on a row opens that agency's profile

left, right = st.columns(2)
with left:
    st.subheader(f"Units per peer FTE against % certified, {quarter}")
    scatter = queries.billing_vs_certification(f, quarter)
    clicked = widgets.chart(charts.scatter(scatter, "certified_pct", "units_per_peer_fte", "agency",
                                 f"Units billed per peer FTE against % certified, {quarter}",
                                 "One point per agency with peers; size = peer FTE", "% certified",
                                 "Units per peer FTE", colour="agency_type", size="peer_fte", x_domain=(0, 100),
                                 select="agency"),
                            scatter, "units-vs-certified", as_of, key="units-vs-certified", on_select="rerun")
    charts.open_clicked_agency(clicked)
with right:
    st.subheader(f"Peers employed but not billing, {quarter}")
    silent = queries.not_billing(f, quarter)
    if silent.is_empty():
        widgets.empty_state("Every agency with peers billed Medicaid in this quarter.")
    else:
        widgets.table(silent, "peers-not-billing", column_order=(widgets.AGENCY_LINK, "peers", "peer_fte"),
                      caption="Agencies with peer staff and no Medicaid peer units (often grant funded); their type "
                      "and region are in the CSV.")
