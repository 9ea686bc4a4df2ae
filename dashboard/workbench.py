"""The SQL workbench's parts: editor state kept in the URL, canned queries, schema browser, results.

Every query runs through `pipelines.sandbox` on the published snapshot, never the live warehouse.
The URL carries `sql` and one `p_NAME` per named parameter, so a query can be bookmarked and shared.
A link only fills the editor: nothing runs until the reader presses Run (here or on a canned query).
Results are bounded in rows and bytes (`sandbox.MAX_RESULT_BYTES`) and cached briefly, a few at a time.
"""

from __future__ import annotations

import io
import os

import polars as pl
import streamlit as st

from dashboard import auth, widgets
from pipelines import catalog, sandbox, sandbox_process, settings

EDITOR = "sql_text"
PARAM = "sql_param_"
URL_SQL, URL_PARAM = "sql", "p_"
_SEEDED = "_sql_seeded"
_AUDITED = "_sql_audited"
_RAN = "_sql_ran"  # the reader pressed Run in this session: results are shown from then on


def snapshot_key() -> tuple | None:
    """Identifies the published file: changes when a new snapshot replaces it (None when there is none)."""
    path = settings.snapshot_path()
    try:
        st_ = os.stat(path)
    except FileNotFoundError:
        return None
    return str(path), st_.st_ino, st_.st_mtime_ns, st_.st_size


@st.cache_data(show_spinner=False, max_entries=8)
def schema(key: tuple) -> list[catalog.Relation] | str:
    """The snapshot's relations, or why the snapshot could not be read."""
    try:
        con = sandbox.open_snapshot()
    except sandbox.Refused as exc:
        return str(exc)
    try:
        return catalog.schema(con)
    except Exception as exc:  # a damaged snapshot: say so instead of a traceback
        return f"The published snapshot could not be read ({sandbox._first_line(exc)})."
    finally:
        con.close()


@st.cache_data(show_spinner="Running the query...", max_entries=8, ttl=300)
def _run(sql: str, params: tuple, key: tuple, timeout_s: float, max_rows: int) -> dict:
    """Results and refusals alike are cached per snapshot, so other clicks on the page do not rerun the query
    (the Run button does)."""
    try:
        result = sandbox_process.run(sql, params=dict(params), timeout_s=timeout_s, max_rows=max_rows)
    except sandbox.Refused as exc:
        return {"error": str(exc), "code": exc.code}
    return {"frame": result.frame, "truncated": result.truncated, "seconds": result.seconds,
            "notice": result.notice}


def seed_from_url() -> None:
    """On a fresh session, put the URL's query and parameter values into the editor."""
    if st.session_state.get(_SEEDED):
        return
    st.session_state[_SEEDED] = True
    if URL_SQL in st.query_params:
        st.session_state[EDITOR] = st.query_params[URL_SQL]
    for key, value in st.query_params.items():
        if key.startswith(URL_PARAM):
            st.session_state[PARAM + key[len(URL_PARAM):]] = value


def _share(sql: str, values: dict[str, str]) -> None:
    """Write the query and its parameter values to the URL (leaving other pages' keys alone)."""
    for key in [k for k in st.query_params if k.startswith(URL_PARAM) and k[len(URL_PARAM):] not in values]:
        del st.query_params[key]
    st.query_params[URL_SQL] = sql
    for name, value in values.items():
        st.query_params[URL_PARAM + name] = value


def _use(query: catalog.CannedQuery) -> None:
    st.session_state[_RAN] = True
    st.session_state[EDITOR] = query.sql
    for name, value in query.defaults.items():
        st.session_state[PARAM + name] = value
    _share(query.sql, {n: st.session_state.get(PARAM + n, "") for n in query.parameters})


def _insert(name: str) -> None:
    text = st.session_state.get(EDITOR, "").rstrip()
    st.session_state[EDITOR] = f"{text} {name}" if text else f"select * from {name} limit 100"


def canned_list() -> None:
    """Canned queries: title, description and a button that loads and runs each."""
    for query in catalog.canned_queries():
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(f"**{query.title}**  \n{query.description}")
        right.button("Run", key=f"sql_canned_{query.name}", on_click=_use, args=(query,),
                     help=f"queries/{query.name}.sql")


def editor() -> bool:
    """The SQL box, one input per named parameter, and the Run button (True when it was clicked)."""
    sql = st.text_area("SQL", key=EDITOR, height=220, placeholder="select * from kpi_state_quarter order by quarter",
                       help="One read-only statement. Named parameters ($agency_id) become inputs below.")
    names = sandbox.parameters(sql)
    values = {}
    if names:
        columns = st.columns(min(len(names), 3))
        for i, name in enumerate(names):
            values[name] = columns[i % len(columns)].text_input(f"${name}", key=PARAM + name)
    clicked = st.button("Run", type="primary", icon=":material/play_arrow:", key="sql_run")
    if clicked:
        st.session_state[_RAN] = True
        _share(sql, values)
    return clicked


def current() -> tuple[str, dict[str, str]] | None:
    """The query the URL holds (the one to show results for), with its parameter values; None until the
    reader has pressed Run in this session, so opening a link never runs its query."""
    sql = st.query_params.get(URL_SQL)
    if not sql:
        return None
    if not st.session_state.get(_RAN):
        st.info("This link holds the query shown in the editor. Read it, then press Run to run it.",
                icon=":material/info:")
        return None
    values = {k[len(URL_PARAM):]: v for k, v in st.query_params.items() if k.startswith(URL_PARAM)}
    return sql, {n: values.get(n, "") for n in sandbox.parameters(sql)}


def results(sql: str, values: dict[str, str], rerun: bool = False) -> None:
    """Run the query on the snapshot and show the table with CSV and Parquet downloads, or the refusal."""
    key = snapshot_key()
    if key is None:
        widgets.empty_state(widgets.NO_DATA)
        return
    args = (sql, tuple(sorted(values.items())), key, settings.sql_timeout_s(), settings.sql_max_rows())
    if rerun:
        _run.clear(*args)
    if rerun or st.session_state.get(_AUDITED) != args[:2]:  # each query a person runs, once per run
        st.session_state[_AUDITED] = args[:2]
        auth.record("sql_query", "published snapshot", sql + (f" -- parameters: {dict(args[1])}" if values else ""))
    outcome = _run(*args)
    if "error" in outcome:
        st.error(widgets.plain(outcome["error"]), icon=":material/block:")  # it may quote the SQL
        return
    frame: pl.DataFrame = outcome["frame"]
    if outcome["truncated"]:
        st.warning(widgets.plain(outcome["notice"]), icon=":material/content_cut:")
    widgets.table(frame, "query-result", caption=f"{frame.height:,} rows in {outcome['seconds']:.2f} s from the "
                                                 "published snapshot.")
    st.download_button("Download query-result (Parquet)", parquet_bytes(frame), file_name="query-result.parquet",
                       mime="application/vnd.apache.parquet", key="dl-query-result-parquet",
                       icon=":material/download:")


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def schema_browser() -> None:
    """Tables and views with column types and descriptions; a button inserts each name into the editor."""
    key = snapshot_key()
    if key is None:
        return
    relations = schema(key)
    if isinstance(relations, str):
        st.error(widgets.plain(relations), icon=":material/error:")
        return
    everything = pl.DataFrame([{"relation": r.name, "kind": r.kind, "column": c.name, "type": c.type,
                                "description": c.description} for r in relations for c in r.columns])
    st.download_button("Download schema (CSV)", widgets.csv_bytes(everything), file_name="schema.csv",
                       mime="text/csv", key="dl-schema", icon=":material/download:")
    needle = st.text_input("Find a table, view or column", key="sql_schema_filter").strip().lower()
    for relation in relations:
        columns = [c for c in relation.columns if needle in c.name.lower()] if needle else list(relation.columns)
        if needle and needle not in relation.name.lower() and not columns:
            continue
        with st.expander(f"{relation.name} · {relation.kind}", expanded=bool(needle)):
            st.caption(relation.description or "No description.")
            st.button(f"Insert {relation.name}", key=f"sql_insert_{relation.name}", on_click=_insert,
                      args=(relation.name,), icon=":material/add:")
            shown = columns if needle and needle not in relation.name.lower() else list(relation.columns)
            st.dataframe(pl.DataFrame({"column": [c.name for c in shown], "type": [c.type for c in shown],
                                       "description": [c.description for c in shown]},
                                      schema={"column": pl.String, "type": pl.String, "description": pl.String}),
                         hide_index=True, width="stretch", key=f"sql_columns_{relation.name}",
                         on_select=_column_picker(f"sql_columns_{relation.name}", [c.name for c in shown]),
                         selection_mode="single-row")


def _column_picker(key: str, names: list[str]):
    """Clicking a column's row inserts the column's name."""
    def pick() -> None:
        rows = st.session_state[key]["selection"]["rows"]
        if rows:
            _insert(names[rows[0]])
    return pick
