"""Audit trail: sign-ins, uploads, replacements, original-file downloads and SQL queries, newest first; and
who holds which role."""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import auth, data, widgets
from pipelines import access, audit

viewer = auth.require("audit")

st.title("Audit trail")
st.caption("Who did what, and when. The trail is only ever added to: nothing in the dashboard edits or deletes "
           "it. It is kept in its own file (PEER_AUDIT), outside the analysts' snapshot.")

left, middle, right = st.columns([2, 2, 1])
actions = left.multiselect("Actions", audit.ACTIONS, key="audit_actions", placeholder="Every action",
                           format_func=audit.ACTION_LABELS.get)
actor = middle.text_input("Person (part of an email or subject)", key="audit_actor")
since = right.date_input("Since", value=None, key="audit_since", max_value=dt.date.today())
events = audit.events(None, actions=actions or None, actor=actor.strip(),
                      since=since.isoformat() if since else None)
if events.is_empty():
    widgets.empty_state("No events match. Clear the filters above." if actions or actor or since
                        else "Nothing recorded yet.")
else:
    shown = events.with_columns(  # actions in words; no target or detail reads blank, not "None"
        pl.col("action").replace(audit.ACTION_LABELS), pl.col("target", "detail").fill_null(""))
    counts = shown.group_by("action").len().sort("len", "action", descending=[True, False])
    st.caption(f"{events.height:,} events" + (" (the newest 5,000)" if events.height == 5000 else "") + ": "
               + ", ".join(f"{a} {n:,}" for a, n in counts.iter_rows()))
    widgets.table(shown, "audit-trail", column_config={  # widths in pixels: every column but Detail reads whole
        "event_id": st.column_config.NumberColumn("Event", format="%d", width=60),  # at 1280 px wide
        "occurred_at": st.column_config.TextColumn("When (server time)", width=150),
        "actor": st.column_config.TextColumn("Who", width=180),
        "role": st.column_config.TextColumn("Role", width=120),
        "action": st.column_config.TextColumn("Action", width=200),
        "target": st.column_config.TextColumn("Target", width=110),
        "detail": st.column_config.TextColumn("Detail", width="large")})

st.subheader("People and roles")
st.caption("The user_roles table, maintained by the state in the reference folder (PEER_REFERENCE) and "
           "reloaded when the dashboard starts.")
for problem in access.problems(data.connection()):
    st.warning(widgets.plain(problem), icon=":material/person_alert:")  # principals are text, not markdown
widgets.table(data.query("select principal, role, agency_id, name from user_roles order by role, principal, "
                         "agency_id"), "user-roles")
