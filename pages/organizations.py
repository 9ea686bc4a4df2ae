"""Organizations: every agency's integration index, stage and components; select one to open its profile."""

import streamlit as st

from dashboard import auth, data, queries, widgets

viewer = auth.require("organizations")

f = widgets.titled("Organizations")

quarter = f.quarter_to
agencies = queries.agency_table(f, quarter)
st.caption(f"{f.describe()} · agencies that reported in {quarter} · data as of {data.as_of()}. "
           "Sort by any column; select a row to open the agency's profile.")

left, right = st.columns([1, 2])
stages = left.multiselect("Stage", ["Emerging", "Developing", "Integrated"], key="org-stage",
                          placeholder="Every stage")
search = right.text_input("Find an agency (id or name)", key="org-search").strip().lower()
if stages:
    agencies = agencies.filter(agencies["stage"].is_in(stages))
if search:
    agencies = agencies.filter(agencies["agency_id"].str.to_lowercase().str.contains(search, literal=True)
                               | agencies["agency_name"].str.to_lowercase().str.contains(search, literal=True))

if agencies.is_empty():
    widgets.empty_state(widgets.NO_MATCH)
    st.stop()

st.write(f"**{agencies.height}** {'agency' if agencies.height == 1 else 'agencies'}")
picked = widgets.table(
    agencies, "organizations", key="org-table", on_select="rerun", selection_mode="single-row",
    column_config={
        "index_score": st.column_config.ProgressColumn("Integration index", min_value=0, max_value=100,
                                                       format="%.0f"),
        "index_trend": st.column_config.LineChartColumn("Index trend", y_min=0, y_max=100),
        "agency_id": st.column_config.TextColumn("Agency", pinned=True),
        "agency_name": "Name", "region_id": "Region", "agency_type": "Type", "stage": "Stage",
        "peer_to_clinician_ratio": st.column_config.NumberColumn("Peer : clinician FTE", format="%.2f"),
        "certified_pct": st.column_config.NumberColumn("% certified", format="%.1f"),
        "peers_per_trained_supervisor": st.column_config.NumberColumn("Peers per trained supervisor"),
        "retention_12m_pct": st.column_config.NumberColumn("12-month retention %", format="%.1f"),
        "billing_sustainability_pct": st.column_config.NumberColumn("Billing sustainability %", format="%.1f"),
    })
rows = picked.selection.rows if picked else []
if rows:
    st.switch_page("pages/agency.py", query_params={"agency": agencies["agency_id"][rows[0]]})
