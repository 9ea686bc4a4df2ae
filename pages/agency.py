"""Agency profile: one agency's four reports over time, its submissions, and where it stands."""

import polars as pl
import streamlit as st

from dashboard import auth, charts, data, disclosure, filters, integration, kpis, queries, widgets
from pipelines.contracts import label

viewer = auth.require("agency")

f = filters.current()
head = st.container()  # the title first, above the agency picker (filled once the agency is known)
visible = filters.Filters(None, None, None, None, None, None if viewer.is_state else viewer.agencies)
options = queries.agency_options(visible)  # the agencies this viewer may open, and no others
names = dict(zip(options["agency_id"], options["name"]))
wanted = st.query_params.get("agency")
if wanted and wanted not in names:  # never echoed: the address is not the page's to print
    named = wanted if filters.AGENCY_ID.fullmatch(wanted) else "(a malformed id)"
    if not viewer.is_state:  # the same words whether or not the id exists: nothing about other agencies
        auth.deny(viewer, f"agency {named}", "You can open only your own agencies' profiles "
                  f"({', '.join(viewer.agencies) or 'none'}); the address names another.")
    st.error("The address names no agency this dashboard knows. Choose one below.")
    wanted = None
if not wanted and len(names) == 1:
    wanted = next(iter(names))  # an agency user with one agency goes straight to it
agency_id = st.selectbox("Agency", list(names), index=list(names).index(wanted) if wanted else None,
                         format_func=lambda a: f"{a} · {names[a]}", placeholder="Choose an agency",
                         key=f"agency-picker-{wanted}")
if agency_id is None:
    head.title("Agency profile")
    widgets.empty_state(widgets.NO_DATA if not names else "Choose an agency above, or select one on the "
                        "Organizations page." if viewer.is_state else "Choose one of your agencies above.")
    st.stop()
if st.query_params.get("agency") != agency_id:
    st.query_params["agency"] = agency_id  # the profile is a link someone can share

info = queries.agency_info(agency_id).row(0, named=True)
head.title(info["name"])
head.caption(f"{agency_id} · {info['region_name']} · {filters.type_label(info['agency_type'])} · "
             f"{info['local_authority']} · {label(info['ownership'])} · reports to {info['contact_email']}")
disclosure.note()

series = queries.agency_scorecard(agency_id)
reported = series.filter(pl.col("agencies_reporting_count") > 0)
if reported.is_empty():
    widgets.empty_state(f"{agency_id} has no accepted reports yet. Its submissions, if any, are listed below.")
else:
    as_of, latest = data.as_of(), reported["quarter"][-1]
    st.caption(f"Latest quarter with reports: **{latest}** · {widgets.as_of_text()}")
    kpis.cards(kpis.AGENCY_CARDS, reported, here="agency")

    st.subheader("Where it stands")
    standing = queries.standing(agency_id, info["region_id"], latest)
    widgets.table(kpis.comparison(standing), f"{agency_id}-standing-{latest}",
                  caption=f"{latest}: the agency beside its region and the state (ratios of sums).")
    trend = disclosure.protect(queries.index_against_peers(agency_id, info["region_id"]), chart=True)
    widgets.chart(charts.line(trend, "quarter", "index_score", "place", "Integration index (0-100) by quarter",
                              f"{info['name']} against {info['region_name']} and the state", "Integration index",
                              ",.0f", target=kpis.target_of("integration_index"), y_domain=(0, 100)), trend,
                  f"{agency_id}-index-vs-region-state", as_of)

    st.subheader("Its four reports over time")
    tabs = st.tabs(["Headcount", "Certification", "Medicaid billing", "Retention"])
    with tabs[0]:
        roles = queries.agency_roles(agency_id)
        widgets.chart(charts.stacked(roles, "quarter", "fte", "role", "FTE by role and quarter", info["name"],
                                     "FTE", y_format=",.1f", colours="role"), roles, f"{agency_id}-fte-by-role", as_of)
    with tabs[1]:
        mix = queries.status_mix(visible, level=("agency", agency_id))
        widgets.chart(charts.stacked(mix, "quarter", "peers", "status", "Peer certification status by quarter",
                                     info["name"], "Peers", colours=charts.STATUS_COLOURS), mix,
                      f"{agency_id}-certification-status", as_of)
    with tabs[2]:
        billing = kpis.long(reported, {"units_billed_count": "Units billed", "units_paid_count": "Units paid",
                                       "units_denied_count": "Units denied"})
        widgets.chart(charts.line(billing, "quarter", "value", "measure", "Medicaid peer units by quarter",
                                  info["name"], "Units", ",.0f", colours="measure"), billing,
                      f"{agency_id}-billing-units", as_of)
    with tabs[3]:
        people = kpis.long(reported, {"hires_count": "Hires", "separations_count": "Separations",
                                      "peer_headcount_count": "Peer headcount"})
        widgets.chart(charts.line(people, "quarter", "value", "measure", "Peer hires, separations and headcount",
                                  info["name"], "People", ",.0f", colours="measure"), people,
                      f"{agency_id}-retention", as_of)

st.subheader("Integration practices and stage")
practices = integration.agency_practices(agency_id, info["region_id"])
if practices.is_empty():
    widgets.empty_state(f"{agency_id} has not filed a practices self-assessment yet.")
else:
    assessed, as_of = practices["quarter"][0], data.as_of()
    left, right = st.columns(2)
    with left:
        sides = (practices.select("domain", "leadership", "peers", "region_leadership", "region_peers")
                 .unpivot(index="domain", variable_name="rater", value_name="rating")
                 .with_columns(pl.col("rater").replace_strict(integration.RATERS)))
        widgets.chart(charts.grouped(sides, "domain", "rating", "rater",
                                     f"Practice ratings (0-4) against {info['region_name']}, {assessed}",
                                     "Leadership and peer staff, the agency beside its region's mean",
                                     "Mean rating (0-4)", horizontal=True, colours="rater", value_domain=(0, 4)),
                      sides,
                      f"{agency_id}-practices-vs-region", as_of)
    with right:
        stages = integration.agency_stages(agency_id)
        widgets.table(stages, f"{agency_id}-stage-history",
                      column_config={"practice": widgets.metric_column("practice_score")}, caption="Stage and index by quarter: the workforce pillar (the four reports) and the "
                      "practice pillar (the latest self-assessment in the quarter or the one before).")
    actions = integration.agency_actions(agency_id)
    if actions.is_empty():
        st.caption(f"No action plans in {agency_id}'s latest self-assessment.")
    else:
        widgets.table(actions, f"{agency_id}-action-plans",
                      caption="Actions from the latest self-assessment, overdue first.")

st.subheader("Submissions")
submissions = queries.agency_submissions(agency_id)
if submissions.is_empty():
    widgets.empty_state(f"No files from {agency_id} yet.")
else:
    widgets.table(submissions, f"{agency_id}-submissions", column_order=[
        c for c in submissions.columns if c != "submission_id"], column_config={
        "history": st.column_config.LinkColumn("Submission", display_text=r"submission=(\d+)", pinned=True,
                                               help="Opens the submission's findings and file")})
