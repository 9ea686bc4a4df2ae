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
st.caption(f"{f.describe()} · latest quarter with reports: **{latest}** · "
           f"{'fewer than 3 agencies' if reporting is None else widgets.plural(reporting, 'agency', 'agencies')} "
           f"reporting · {widgets.as_of_text()}")
widgets.scope_note(f)
disclosure.note()

moved_in = integration.latest_transition_quarter(f)
if moved_in:
    up, down = integration.moved(integration.transitions(f, moved_in))
    st.subheader(integration.progress_sentence(up, down, moved_in))
else:
    st.subheader("Integration index")
kpis.cards(kpis.INDEX_CARDS, series, here="overview", per_row=3)
st.page_link("pages/integration.py", label="Who moved, practice ratings and action plans",
             icon=":material/arrow_forward:")

st.subheader("Workforce")
kpis.cards(kpis.STATE_CARDS, series, here="overview")

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
keep = widgets.filter_params()
with a:
    credentials = int(expiring["credentials_expiring"].sum() or 0)
    widgets.card("attention-expiring", "Agencies with certifications expiring in 90 days", f"{expiring.height:,}",
                 help=f"{widgets.plural(credentials, 'credential')} {'expires' if credentials == 1 else 'expire'} "
                 "within 90 days of "
                 f"{widgets.date_text(as_of)}", link=("pages/certification.py", "Action list", keep))
with b:
    widgets.card("attention-spikes", "Denial spikes in the period", f"{spikes.height:,}",
                 help="Denial rate ≥ 20% and up ≥ 10 points on the agency's previous billing quarter "
                 "(kpi_denial_spikes)", link=("pages/billing.py", "Medicaid billing", keep))
with c:
    widgets.card("attention-silent", f"{latest}: agencies with peers billing nothing", f"{silent.height:,}",
                 help="Agencies with peer staff and no Medicaid peer units in the quarter",
                 link=("pages/billing.py", "Medicaid billing", keep))
with d:
    widgets.card("attention-late", f"{latest}: agencies late or missing", f"{overdue['agency_id'].n_unique():,}",
                 help="At least one of the four reports arrived after its due date, or is still missing or rejected",
                 link=("pages/submissions.py", "Submissions", keep))
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
if auth.allowed("organizations"):
    st.caption("An agency's name opens its profile; a region's name focuses the dashboard on it.")
    st.page_link("pages/organizations.py", label="Every agency on the Organizations page",
                 icon=":material/arrow_forward:")
else:
    st.caption("Your agency's name opens its profile; a region's name focuses the dashboard on it.")
