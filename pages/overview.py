"""State overview: is peer support being integrated, where is it lagging, and what needs attention?"""

import streamlit as st

from dashboard import auth, charts, data, disclosure, filters, integration, kpis, queries, widgets
from pipelines import targets

viewer = auth.require("overview")

f = filters.current()
st.title("Peer workforce integration: state overview" if not f.region else f"Peer workforce integration: {f.place}")

series = disclosure.place(queries.scorecards(f), f)
if series.is_empty():
    widgets.empty_state(widgets.NO_DATA if not f.quarter_from else widgets.NO_MATCH)
    st.stop()

as_of = data.as_of()
stage_rule = targets.stage_rule(data.targets())
latest = series["quarter"][-1]
reporting = series["agencies_reporting_count"][-1]
st.caption(f"{f.describe()} · latest quarter with reports: **{latest}** · data as of {as_of} · "
           f"{'fewer than 3' if reporting is None else reporting} agencies reporting")
widgets.scope_note(f)
disclosure.note()

moved_in = integration.latest_transition_quarter(f)
if moved_in:
    up, down = integration.moved(integration.transitions(f, moved_in))
    st.subheader(integration.progress_sentence(up, down, moved_in))
else:
    st.subheader("Integration index")
columns = st.columns(3)
for column, metric_id in zip(columns, kpis.INDEX_CARDS):
    with column:
        kpis.card(metric_id, series)
st.page_link("pages/integration.py", label="Who moved, practice ratings and action plans",
             icon=":material/arrow_forward:")

st.subheader("Workforce")
columns = st.columns(4)
for i, metric_id in enumerate(kpis.STATE_CARDS):
    with columns[i % 4]:
        kpis.card(metric_id, series)

st.subheader("Integration index by region")
trend = disclosure.place(queries.index_trend(f), f, show="regions")
widgets.chart(charts.line(trend, "quarter", "value", "place",
                          f"Integration index (0-100), {f.quarter_from} to {latest}",
                          f"Statewide and by region; {stage_rule}",
                          "Integration index", ",.0f", target=kpis.target_of("integration_index"), y_domain=(0, 100),
                          select="place"), trend, "integration-index-by-region", as_of, key="overview-index",
              on_select=charts.focus_on_click("overview-index", "place"))

left, right = st.columns(2)
with left:
    st.subheader(f"Agencies by integration stage, {latest}")
    if disclosure.restricted():  # a stage count of one agency is that agency's stage
        disclosure.state_only("The number of agencies in each stage")
    elif (stages := queries.stage_counts(f, latest)).is_empty():
        widgets.empty_state(widgets.NO_MATCH)
    else:
        widgets.chart(charts.bars(stages, "stage", "agencies", f"Agencies by integration stage, {latest}",
                                  stage_rule, "Agencies",
                                  colours=charts.STAGE_COLOURS), stages, "agencies-by-stage", as_of)
with right:
    st.subheader(f"Peer workforce by role, {latest}")
    roles = disclosure.place(queries.workforce_by_role(f, latest), f)
    widgets.chart(charts.bars(roles, "role", "fte", f"Peer FTE by role, {latest}",
                              f"{f.place} · {filters.type_label(None if disclosure.restricted() else f.agency_type)}", "FTE", value_format=",.1f",
                              colours="role"),
                  roles, "peer-fte-by-role", as_of)

st.subheader("Needs attention")
if f.scope == ():
    disclosure.state_only("Agency-level detail (expiring certifications, denial spikes, late reports)",
                          own_agency=True)
    st.stop()
if f.scope:
    st.caption(f"Your agencies only: {', '.join(f.scope)}.")
expiring, spikes = queries.expiring_by_agency(f), queries.denial_spikes(f)
silent, overdue = queries.not_billing(f, latest), queries.late_or_missing(f, latest)
a, b, c, d = st.columns(4)
a.metric("Agencies with certifications expiring in 90 days", expiring.height,
         help=f"{int(expiring['credentials_expiring'].sum() or 0)} credentials expire within 90 days of {as_of}")
b.metric("Denial spikes in the period", spikes.height, help="Denial rate ≥ 20% and up ≥ 10 points on the "
         "agency's previous billing quarter (kpi_denial_spikes)")
c.metric(f"Agencies with peers billing nothing, {latest}", silent.height)
d.metric(f"Agencies late or missing for {latest}", overdue["agency_id"].n_unique(),
         help="At least one of the four reports arrived after its due date, or is still missing or rejected")
tabs = st.tabs(["Expiring certifications", "Denial spikes", "Peers not billing", "Late or missing reports"])
with tabs[0]:
    widgets.table(expiring, "expiring-certifications-by-agency")
    st.page_link("pages/certification.py", label="Open the certification action list", icon=":material/arrow_forward:")
with tabs[1]:
    widgets.table(spikes, "denial-spikes")
    st.page_link("pages/billing.py", label="Open Medicaid billing", icon=":material/arrow_forward:")
with tabs[2]:
    widgets.table(silent, "agencies-with-peers-not-billing")
with tabs[3]:
    widgets.table(overdue, "late-or-missing-reports")
    st.page_link("pages/submissions.py", label="Open the submissions grid", icon=":material/arrow_forward:")
st.caption("Open any agency's profile from the Organizations page or by its id on the Agency profile page.")
