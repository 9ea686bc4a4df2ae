"""Certification: status mix over time, credential mix, certification by region and role, expiring soon."""

import datetime as dt

import streamlit as st

from dashboard import auth, charts, data, disclosure, filters, palette, queries, widgets
from pipelines.contracts import label

viewer = auth.require("certification")

f = widgets.titled("Certification")

as_of, quarter = data.as_of(), f.quarter_to
mix = disclosure.place(queries.status_mix(f), f)
if mix.is_empty():
    widgets.empty_state(widgets.NO_MATCH)
    st.stop()
quarter = mix["quarter"][-1]
st.caption(f"{f.describe()} · peer workers on the certification report · {widgets.as_of_text()}")
widgets.scope_note(f)
disclosure.note()

st.subheader("Certification status mix over time")
widgets.chart(charts.stacked(mix, "quarter", "peers", "status",
                             f"Share of peer workers by certification status, {f.quarter_from} to {quarter}",
                             f"{f.place}; every peer role", "Share of peer workers", normalize=True,
                             colours=charts.STATUS_COLOURS), mix, "certification-status-mix", as_of)

left, right = st.columns(2)
with left:
    st.subheader(f"Credential mix, {quarter}")
    if disclosure.restricted():  # a second breakdown of the same peers: state staff only
        disclosure.state_only("The credential mix")
    else:
        credentials = disclosure.place(queries.credential_mix(f, quarter), f)
        widgets.chart(charts.bars(credentials, "credential_title", "peers", f"Peer workers by credential, {quarter}",
                                  f"{f.place}; 'No credential yet' = in training", "Peer workers"),
                      credentials, "credential-mix", as_of)
with right:
    st.subheader(f"% certified by region and role, {quarter}")
    if disclosure.restricted():  # region x role x status: almost every cell a handful of people
        disclosure.state_only("Certification by region and role")
    else:
        grid = queries.certified_by_region_and_role(quarter)
        widgets.chart(charts.heatmap(grid, "role", "place", "certified_pct",
                                     f"% actively certified by region and role, {quarter}",
                                     f"Status “{label('CERTIFIED_ACTIVE')}”; family, youth and forensic peers "
                                     "included; hover for headcounts",
                                     "% certified", scheme="greens", extra_tooltips=("peers",),
                                     value_domain=(0, 100), x_sort=palette.ROLE_ORDER, y_sort=palette.place_order(),
                                     select="place"),
                      grid, "certified-by-region-and-role", as_of, key="certified-grid",
                      on_select=charts.focus_on_click("certified-grid", "place"))

st.subheader("Action list: certifications expiring in the next 90 days")
if f.scope == ():
    disclosure.state_only("The list of expiring credentials, peer by peer,", own_agency=True)
    st.stop()
expiring = queries.expiring_list(f)
st.caption(f"Credentials with the status “{label('CERTIFIED_ACTIVE')}” in each agency's latest certification "
           f"report that expire between {widgets.date_text(as_of)} and "
           f"{widgets.date_text(dt.date.fromisoformat(as_of) + dt.timedelta(days=90))}, soonest first · {f.place} · "
           f"{filters.type_label(f.agency_type)}")
if expiring.is_empty():
    widgets.empty_state("No credentials expire in the next 90 days for these filters.")
else:
    widgets.table(expiring, "expiring-certifications", row_level=True, column_order=(
        widgets.AGENCY_LINK, "days_to_expiry", "expiration_date", "peer_id", "role", "credential",
        widgets.REGION_LINK))
