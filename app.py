"""Peer workforce oversight dashboard: router and frame only (pages describe screens)."""

import streamlit as st

from dashboard import auth, data, filters
from pipelines import gx_runner, warehouse

st.set_page_config(page_title="Peer workforce oversight", page_icon=":material/diversity_3:", layout="wide")


@st.cache_resource(show_spinner=False)
def _warm_validation() -> None:
    """Import Great Expectations in the background so the first upload validates without a wait."""
    import threading

    threading.Thread(target=gx_runner.warm_up, daemon=True).start()


if auth.refused():
    st.error(auth.REFUSAL, icon=":material/lock:")
    st.stop()

try:
    data.connection()
except (data.NoData, warehouse.WarehouseBusy, warehouse.WarehouseTooNew) as exc:  # not cached: a reload tries again
    st.error(f"The dashboard cannot open its data. {exc}", icon=":material/database:")
    st.stop()

_warm_validation()

SECTIONS = {
    "Overview": [("overview", "State overview", ":material/dashboard:"),
                 ("integration", "Integration practices", ":material/handshake:")],
    "Regions and organizations": [("regions", "Regions", ":material/map:"),
                                  ("organizations", "Organizations", ":material/apartment:"),
                                  ("agency", "Agency profile", ":material/badge:")],
    "Workforce": [("certification", "Certification", ":material/workspace_premium:"),
                  ("retention", "Retention", ":material/group:")],
    "Financing": [("billing", "Medicaid billing", ":material/payments:")],
    "Data": [("upload", "Upload a report", ":material/upload_file:"),
             ("submissions", "Submissions", ":material/fact_check:"),
             ("sql", "SQL workbench", ":material/terminal:")],
    "Reference": [("definitions", "Metric definitions", ":material/menu_book:")],
    "Administration": [("audit", "Audit trail", ":material/policy:")],
}

viewer = auth.identify()
pages = {section: [st.Page(f"pages/{key}.py", title=title, icon=icon, url_path=None if key == "overview" else key,
                   default=key == "overview")
                   for key, title, icon in entries if auth.allowed(key, viewer)]
         for section, entries in SECTIONS.items()}
navigation = st.navigation({section: entries for section, entries in pages.items() if entries}, expanded=True)
auth.sidebar(viewer)
filters.sidebar(None if viewer.is_state else viewer.agencies)
st.sidebar.caption("State behavioral health authority · peer workforce integration")
auth.banner(viewer)
navigation.run()
