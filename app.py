"""Peer workforce oversight dashboard: router and frame only (pages describe screens)."""

import streamlit as st

from dashboard import auth, data, filters, pages_table
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

viewer = auth.identify()
navigation = st.navigation({section: [st.Page(page.script, title=page.title, icon=page.icon, url_path=page.url_path,
                                              default=page.default) for page in entries]
                            for section, entries in pages_table.sections(viewer.role).items()}, expanded=True)
auth.sidebar(viewer)
filters.sidebar(None if viewer.is_state else viewer.agencies)
st.sidebar.caption("State behavioral health authority · peer workforce integration")
auth.banner(viewer)
navigation.run()
