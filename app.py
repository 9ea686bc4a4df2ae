"""Peer workforce oversight dashboard: router and frame only (pages describe screens)."""

import streamlit as st

from pipelines import gx_runner

st.set_page_config(page_title="Peer workforce oversight", page_icon=":material/diversity_3:", layout="wide")


@st.cache_resource(show_spinner=False)
def _warm_validation() -> None:
    """Import Great Expectations in the background so the first upload validates without a wait."""
    import threading

    threading.Thread(target=gx_runner.warm_up, daemon=True).start()


_warm_validation()

navigation = st.navigation({
    "Overview": [
        st.Page("pages/overview.py", title="State overview", icon=":material/dashboard:", default=True),
    ],
    "Reference": [
        st.Page("pages/definitions.py", title="Metric definitions", icon=":material/menu_book:"),
    ],
})
st.sidebar.caption("State behavioral health authority · peer workforce integration")
navigation.run()
