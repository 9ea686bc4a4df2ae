"""SQL workbench: one read-only statement at a time on the published snapshot, with canned queries."""

import streamlit as st

from dashboard import auth, workbench
from pipelines import settings

viewer = auth.require("sql")

st.title("SQL workbench")
st.caption(f"Read-only SQL (DuckDB dialect) on the published snapshot of the warehouse. One statement per run, "
           f"stopped after {settings.sql_timeout_s():g} s, at most {settings.sql_max_rows():,} rows. Share a "
           "query by copying the page address: a link fills the editor, and runs only when the reader presses Run.")
workbench.seed_from_url()

main, side = st.columns([3, 2], gap="large")
with main:
    with st.expander("Canned queries", icon=":material/bookmarks:"):
        workbench.canned_list()
    clicked = workbench.editor()
    shown = workbench.current()
    if shown:
        workbench.results(*shown, rerun=clicked)
with side:
    st.subheader("Schema")
    workbench.schema_browser()
