"""Organizations: every agency's integration index, stage and components; select one to open its profile."""

import streamlit as st

from dashboard import auth, queries, widgets

viewer = auth.require("organizations")

f = widgets.titled("Organizations")

quarter = f.quarter_to
agencies = queries.agency_table(f, quarter)
st.caption(f"{f.describe()} · agencies that reported in {quarter} · {widgets.as_of_text()}. Sort by any column; "
           "an agency's name opens its profile in a new tab, selecting its row opens it here.")

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

st.write(f"**{widgets.plural(agencies.height, 'agency', 'agencies')}**")
picked = widgets.table(
    agencies, "organizations", key="org-table", on_select="rerun", selection_mode="single-row",
    column_config={
        "index_score": st.column_config.ProgressColumn("Integration index", min_value=0, max_value=100,
                                                       format="%.0f"),
        "index_trend": st.column_config.LineChartColumn("Index trend", y_min=0, y_max=100),
    })
rows = picked.selection.rows if picked else []
if rows:
    st.switch_page("pages/agency.py", query_params={"agency": agencies["agency_id"][rows[0]]})
