"""State overview: is peer support being integrated, and where is it lagging?"""

import streamlit as st

from dashboard import charts, data, kpis, widgets

st.title("Peer workforce integration: state overview")

state = data.query("select * from kpi_state_quarter s join kpi_integration_index i using (quarter) "
                   "where i.level = 'state' and s.agencies_reporting_count > 0 order by s.quarter_ordinal")
if state.is_empty():
    widgets.empty_state(widgets.NO_DATA)
    st.stop()

as_of = data.as_of()
latest = state["quarter"][-1]
st.caption(f"Latest quarter with reports: **{latest}** · data as of {as_of} · "
           f"{state['agencies_reporting_count'][-1]} agencies reporting")

columns = st.columns(4)
for i, metric_id in enumerate(kpis.STATE_CARDS):
    with columns[i % 4]:
        kpis.card(metric_id, state)

st.subheader("Integration index by region")
regions = data.query(
    "select entity_name as region, quarter, round(index_score, 1) as index_score from kpi_integration_index "
    "where level = 'region' and index_score is not null order by quarter_ordinal, region")
widgets.chart(charts.line(regions, "quarter", "index_score", "region",
                          "Integration index (0-100) by region", f"Each quarter through {latest}",
                          "Integration index", ",.0f"), regions, "integration-index-by-region", as_of)

st.subheader(f"Agencies by integration stage, {latest}")
stages = data.query(
    "select stage, count(*) as agencies from kpi_integration_index "
    "where level = 'agency' and quarter = ? and stage is not null group by stage "
    "order by case stage when 'Emerging' then 1 when 'Developing' then 2 else 3 end", [latest])
widgets.chart(charts.bars(stages, "stage", "agencies", f"Agencies by integration stage, {latest}",
                          "Emerging < 40 ≤ Developing < 70 ≤ Integrated", "Agencies",
                          colours=charts.STAGE_COLOURS), stages, "agencies-by-stage", as_of)
