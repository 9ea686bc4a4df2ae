"""SQL workbench: one read-only statement at a time on the published snapshot, with canned queries."""

import streamlit as st

from dashboard import auth, workbench
from pipelines import settings

viewer = auth.require("sql")

st.title("SQL workbench")
st.caption(f"Read-only SQL (DuckDB dialect) on the published snapshot of the warehouse. One statement per run, "
           f"stopped after {settings.sql_timeout_s():g} s, at most {settings.sql_max_rows():,} rows. Copy link shares "
           "the query: a link fills the editor, and runs only when the reader presses Run.")
workbench.seed_from_url()

with st.expander("Canned queries", icon=":material/bookmarks:"):
    workbench.canned_list()
workbench.editor()
shown = workbench.current()
if shown:
    workbench.results(*shown)

st.subheader("Schema", divider="gray")
workbench.schema_browser()
workbench.warm()  # the next query finds a worker ready on the newest snapshot
