"""Submissions: who has filed each report, who is late, whose files were rejected; one upload's history."""

import streamlit as st

from dashboard import auth, filters, submissions_view, widgets

viewer = auth.require("submissions")

st.title("Submissions")
chosen = st.query_params.get("submission")

if chosen:
    st.page_link("pages/submissions.py", label="Back to the compliance grid", icon=":material/arrow_back:")
    if filters.SUBMISSION_ID.fullmatch(chosen):  # ASCII digits only ('²'.isdigit() is true), a sane length
        submissions_view.history(int(chosen), viewer)
    else:  # never echoed: the address is not the page's to print
        widgets.empty_state("The address does not name a submission: a submission number is digits only.")
    st.stop()

f = filters.current()
if not f.quarter_from:
    widgets.empty_state(widgets.NO_DATA)
    st.stop()
mine = f"Your agencies ({', '.join(f.scope)}) · " if f.scope else ""
st.caption(f"{mine}{f.describe()} · {widgets.as_of_text()}: late and missing are judged on that date · "
           f"a report is due {submissions_view.due_days()} days after its quarter ends "
           "(state policy `submission_due_days`); the practices self-assessment is due only for "
           f"{' and '.join(submissions_view.practices_due_quarters())} (`practices_due_quarters`).")

found = submissions_view.state_counts(f)
if not found:
    widgets.empty_state("No active agencies match the filters. Widen the region or agency type in the sidebar.")
    st.stop()

submissions_view.counts(found)
st.subheader("Compliance grid")
since = submissions_view.grid_since(f)
submissions_view.heatmap(submissions_view.grid(f, since=since), partial_range=since != f.quarter_from)
with st.expander("Every cell as a table", icon=":material/table:"):
    submissions_view.cells_table(f)

st.subheader("Not yet submitted")
missing = submissions_view.outstanding(f)
if missing.is_empty():
    widgets.empty_state("Every report that is due has been accepted.")
else:
    widgets.table(missing, "not-yet-submitted", column_order=(
        widgets.AGENCY_LINK, "reports_missing_count", "reports_missing", "contact_email", widgets.REGION_LINK,
        "agency_type"), caption="Reports past their due date with nothing accepted (missing or rejected), per agency.")
