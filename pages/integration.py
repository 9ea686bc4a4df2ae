"""Integration: stage progression, practice ratings by domain and region (leadership and peers), the peer-voice
gap, and the action plans agencies made for what is missing."""

import polars as pl
import streamlit as st

from dashboard import auth, charts, data, disclosure, integration, palette, widgets

viewer = auth.require("integration")

f = widgets.titled("Integration practices")
as_of = data.as_of()
assessed = integration.latest_assessment(f)
st.caption(f"{f.describe()} · semiannual practice self-assessments · {widgets.as_of_text()}")
disclosure.note()
if assessed is None:
    widgets.empty_state("No practice self-assessments yet for these quarters. Agencies file the practices report "
                        "in the quarters the state names (by default Q2 and Q4): upload it on the Upload page.")
    st.stop()

st.subheader("Stage progression")
moved_in = integration.latest_transition_quarter(f)
if moved_in is None:
    widgets.empty_state("Stage progression needs index scores a year apart: widen the quarter range.")
else:
    matrix = integration.transitions(f, moved_in)
    up, down = integration.moved(matrix)
    a, b, c = st.columns(3)
    defined = ("pages/definitions.py", "Metric definition", {"metric": "stage_transitions"})
    with a:
        widgets.card("moved-up", "Moved up a stage", widgets.count_text(up), link=defined,
                     help=f"Agencies in a higher stage in {moved_in} than a year before")
    with b:
        widgets.card("moved-down", "Moved down a stage", widgets.count_text(down), link=defined,
                     help=f"Agencies in a lower stage in {moved_in} than a year before")
    compared = None if matrix["agencies_count"].null_count() else int(matrix["agencies_count"].sum())
    with c:
        widgets.card("compared", "Agencies compared", widgets.count_text(compared), link=defined,
                     help="Agencies with a stage in both quarters (No peer workforce included)")
    widgets.chart(charts.matrix(matrix, "to_stage", "from_stage", "agencies_count", list(integration.STAGE_ORDER),
                                f"Agencies by stage a year before and in {moved_in}",
                                f"{f.place} · the diagonal stayed in its stage; right of it moved up",
                                f"Stage in {moved_in}", "Stage a year before"),
                  matrix, "stage-transitions", as_of)
    if disclosure.restricted() and not f.scope:
        disclosure.state_only("Which agencies moved", own_agency=True)
    else:
        movers = integration.movers(f, moved_in)
        if movers.is_empty():
            st.caption(f"None of {'your agencies' if f.scope else 'these agencies'} changed stage in the year to "
                       f"{moved_in}.")
        else:
            widgets.table(movers, "agencies-that-changed-stage",
                          caption="An agency's name opens its profile, with its stage history.")

st.subheader(f"Practice ratings by domain and region, assessed {assessed}")
domains = integration.domains_by_region(assessed)
long = integration.ratings_long(domains)
left, right = st.columns(2)
for column, rater in ((left, "Leadership"), (right, "Peer staff")):
    with column:
        shown = long.filter(pl.col("rater") == rater)
        widgets.chart(charts.heatmap(shown, "place", "domain_label", "rating",
                                     f"{rater} ratings (0-4) by domain and region, {assessed}",
                                     "0 not in place · 2 started · 4 fully in place and sustained",
                                     "Mean rating", ".1f", scheme="viridis", value_domain=(0, 4),
                                     x_sort=palette.place_order(), select="place"),
                      shown, f"practice-ratings-{rater.lower().replace(' ', '-')}", as_of, key=f"ratings-{rater}",
                      on_select=charts.focus_on_click(f"ratings-{rater}", "place"))

st.subheader(f"Peer-voice gap, {f.place}, {assessed}")
mine = integration.place_domains(f, assessed)
sides = (mine.select("domain_label", "leadership_rating", "peers_rating")
         .unpivot(index="domain_label", variable_name="rater", value_name="rating")
         .with_columns(pl.col("rater").replace_strict({"leadership_rating": "Leadership",
                                                      "peers_rating": "Peer staff"})))
widgets.chart(charts.grouped(sides, "domain_label", "rating", "rater",
                             f"Leadership and peer staff ratings by domain, {f.place}, {assessed}",
                             f"A gap of {integration.GAP_WORTH_A_LOOK} points or more is worth a look: leaders see "
                             "what peers do not", "Mean rating (0-4)", horizontal=True, colours="rater",
                             value_domain=(0, 4)),
              sides, "peer-voice-gap", as_of)
if disclosure.restricted() and not f.scope:
    disclosure.state_only("Agencies with a peer-voice gap", own_agency=True)
else:
    gaps = integration.gap_agencies(f, assessed)
    if gaps.is_empty():
        st.caption(f"No agency's leaders rate a domain {integration.GAP_WORTH_A_LOOK} points or more above its "
                   "peer staff.")
    else:
        widgets.table(gaps, "peer-voice-gaps", column_config={"peers": widgets.metric_column("peers_rating")},
                      caption=f"Domains where leaders rate {integration.GAP_WORTH_A_LOOK} "
                      "points or more above peer staff, largest gap first.")

st.subheader(f"Action plans, {f.place}, as assessed in {assessed}")
status = integration.action_status(f, assessed)
by_domain = status.filter(pl.col("domain") != "ALL")
if by_domain.is_empty():
    widgets.empty_state("No action plans in this assessment.")
else:
    everything = status.filter(pl.col("domain") == "ALL")
    if everything.height:
        row = everything.row(0, named=True)
        a, b, c = st.columns(3)
        with a:
            widgets.card("actions-open", "Open actions", widgets.count_text(row["actions_open_count"]),
                         help="Planned or in progress",
                         link=("pages/definitions.py", "Metric definition", {"metric": "actions_open"}))
        with b:
            widgets.card("actions-overdue", "Overdue actions", widgets.count_text(row["actions_overdue_count"]),
                         help="Not done, and the quarter they were due by has ended",
                         link=("pages/definitions.py", "Metric definition", {"metric": "actions_overdue"}))
        with c:
            widgets.card("actions-done", "Done actions", widgets.count_text(row["actions_done_count"]),
                         help="Done, in each agency's latest self-assessment")
    bars = (by_domain.select("domain_label", "actions_open_count", "actions_overdue_count", "actions_done_count")
            .unpivot(index="domain_label", variable_name="state", value_name="actions")
            .with_columns(pl.col("state").replace_strict({"actions_open_count": "Open",
                                                          "actions_overdue_count": "Overdue (of open)",
                                                          "actions_done_count": "Done"})))
    widgets.chart(charts.grouped(bars, "domain_label", "actions", "state", f"Actions by domain, {f.place}",
                                 f"Latest self-assessment of each agency as of {assessed}", "Actions",
                                 horizontal=True, colours=integration.ACTION_COLOURS),
                  bars, "action-plans-by-domain", as_of)
if disclosure.restricted() and not f.scope:
    disclosure.state_only("The overdue actions and their owners", own_agency=True)
else:
    overdue = integration.overdue_actions(f)
    if overdue.is_empty():
        st.caption("No overdue actions.")
    else:
        widgets.table(overdue, "overdue-actions", caption="Actions past their due quarter and not done, most "
                      "overdue first, with who owns them.")
