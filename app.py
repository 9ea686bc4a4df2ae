"""Peer workforce oversight dashboard: router and frame only (pages describe screens)."""

import streamlit as st

from dashboard import filters
from pipelines import gx_runner

st.set_page_config(page_title="Peer workforce oversight", page_icon=":material/diversity_3:", layout="wide")


@st.cache_resource(show_spinner=False)
def _warm_validation() -> None:
    """Import Great Expectations in the background so the first upload validates without a wait."""
    import threading

    threading.Thread(target=gx_runner.warm_up, daemon=True).start()


_warm_validation()

PAGES = {
    "Overview": [
        st.Page("pages/overview.py", title="State overview", icon=":material/dashboard:", default=True),
    ],
    "Regions and organizations": [
        st.Page("pages/regions.py", title="Regions", icon=":material/map:"),
        st.Page("pages/organizations.py", title="Organizations", icon=":material/apartment:"),
        st.Page("pages/agency.py", title="Agency profile", icon=":material/badge:", url_path="agency"),
    ],
    "Workforce": [
        st.Page("pages/certification.py", title="Certification", icon=":material/workspace_premium:"),
        st.Page("pages/retention.py", title="Retention", icon=":material/group:"),
    ],
    "Financing": [
        st.Page("pages/billing.py", title="Medicaid billing", icon=":material/payments:"),
    ],
    "Data": [
        st.Page("pages/upload.py", title="Upload a report", icon=":material/upload_file:"),
        st.Page("pages/submissions.py", title="Submissions", icon=":material/fact_check:"),
        st.Page("pages/sql.py", title="SQL workbench", icon=":material/terminal:", url_path="sql"),
    ],
    "Reference": [
        st.Page("pages/definitions.py", title="Metric definitions", icon=":material/menu_book:"),
    ],
}

navigation = st.navigation(PAGES)
filters.sidebar()
st.sidebar.caption("State behavioral health authority · peer workforce integration")
navigation.run()
