"""Upload a report: an agency sends one report (quarterly, or the practices self-assessment), reads what to fix,
and submits it."""

import streamlit as st

from dashboard import auth, upload_view, widgets

viewer = auth.require("upload")

st.title("Upload a report")
st.caption("Upload one of the four quarterly reports, or the integration practices self-assessment (due in Q2 and "
           "Q4 unless the state says otherwise), as CSV or Excel (.xlsx); the agency and quarter the file names are "
           "chosen for you. The file is checked first; nothing is loaded until you submit a file without errors.")

upload_view.templates()
file = st.file_uploader("Report file", type=None, key="up_file",
                        help="CSV or Excel (.xlsx). The first sheet of a workbook is read. A file with only the "
                             "header row reports 'nothing to report' for the chosen quarter.")
found = upload_view.named(file)
if found is not None and found.wrong_type:
    upload_view.refuse_wrong_type(file, found)
    st.stop()
agency, quarter, kind = upload_view.choose(viewer, found)

if agency is None or quarter is None:
    widgets.empty_state("Choose your agency and the quarter the report is for.")
    st.stop()
if file is None:
    widgets.empty_state("Upload a report file. Not sure of the columns? Download a template above.")
    st.stop()

checked = upload_view.check(file.name, file.getvalue(), agency, quarter, kind, viewer)
upload_view.verdict(checked)
view, shown = upload_view.findings(checked, found)
upload_view.submit_step(checked, viewer)
upload_view.preview(checked, view, shown)
