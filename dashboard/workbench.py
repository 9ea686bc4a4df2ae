"""The SQL workbench's parts: editor, shareable links, canned queries, history, schema browser, results.

Every query runs through `pipelines.sandbox` on the published snapshot, never the live warehouse, on a warm
worker process (`sandbox_process.POOL`): the time and memory limits and the file-write filter hold as in a
fresh child, without paying Python's start for each query.

A link carries the query as `q` (URL-safe base64 of its UTF-8 text, so any SQL survives the address bar)
and one `p_NAME` per named parameter. The address bar is the visitor's to write: a link is parsed
strictly (one value per key, lengths capped, base64 in its canonical form, UTF-8 without control or
bidirectional-override characters), never echoed, and a damaged one is reported in fixed words. Links
from before (`sql` as plain text) still open. A link only fills the editor: nothing runs until the reader
presses Run (here or on a canned query). Run writes the query to the address bar, and "Copy link" shows
the whole address for the editor's current query.

Each session keeps a history of the queries it ran (newest first); loading one puts it back in the editor
without running it. Results are bounded in rows and bytes (`sandbox.MAX_RESULT_BYTES`) and cached briefly,
a few at a time.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import io
import os
import re

import polars as pl
import streamlit as st

from dashboard import auth, widgets
from pipelines import catalog, sandbox, sandbox_process, settings

EDITOR = "sql_text"
PARAM = "sql_param_"
URL_QUERY, URL_LEGACY, URL_PARAM = "q", "sql", "p_"
MAX_SQL_CHARS = 100_000  # the editor's bound
MAX_LINK_BYTES = 4_500  # UTF-8 bytes of SQL a link carries: its address stays under 8 KB (nginx's default)
MAX_LINK_CHARS = (MAX_LINK_BYTES + 2) // 3 * 4  # the `q` value of the longest such query
MAX_PARAMS = 20
MAX_PARAM_CHARS = 200
HISTORY_SIZE = 25
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_BASE64 = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
"""Control characters (tab, line feed and carriage return aside), zero-width and bidirectional controls: a
shared query must read as it runs."""
_BASE_URL = re.compile(r"https?://[^\s?#<>\"'`\\]{1,2000}")
_SEEDED = "_sql_seeded"
_FROM_LINK = "_sql_from_link"  # the editor holds a link's query that has not been run
_LINK_PROBLEM = "_sql_link_problem"
_SHOWN = "_sql_shown"  # (sql, values) of the query whose results are shown: set by Run
_AUDITED = "_sql_audited"
_RERUN = "_sql_rerun"  # Run was pressed: run the query afresh (not from the cache) and record it
_HISTORY = "_sql_history"
_COUNTER = "_sql_history_counter"


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
        result = sandbox_process.POOL.run(sql, params=dict(params), timeout_s=timeout_s, max_rows=max_rows)
    except sandbox.Refused as exc:
        return {"error": str(exc), "code": exc.code}
    return {"frame": result.frame, "truncated": result.truncated, "seconds": result.seconds,
            "notice": result.notice}


@functools.lru_cache(maxsize=64)
def parameters(sql: str) -> tuple[str, ...]:
    """`sandbox.parameters`, remembered: the editor asks on every rerun, and each answer opens DuckDB."""
    return tuple(sandbox.parameters(sql))


def warm() -> None:
    """Have a worker ready on the newest snapshot for the next query (started in the background)."""
    sandbox_process.POOL.warm()


# --- links ------------------------------------------------------------------------------------------------

def encode_query(sql: str) -> str | None:
    """The `q` value for `sql`: URL-safe base64 without padding; None when it is too long for a link."""
    raw = sql.encode("utf-8")
    if not raw or len(raw) > MAX_LINK_BYTES:
        return None
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_query(value: object) -> str | None:
    """The SQL a `q` value carries, or None unless it is exactly what `encode_query` writes for a readable
    query."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_LINK_CHARS or not _BASE64.fullmatch(value):
        return None
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
        sql = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if encode_query(sql) != value or _UNSAFE.search(sql):
        return None
    return sql


def shareable(name: str, value: str) -> bool:
    """Whether a parameter and its value can travel in a link (and be read back from one)."""
    return bool(_NAME.fullmatch(name)) and isinstance(value, str) and len(value) <= MAX_PARAM_CHARS \
        and not _UNSAFE.search(value) and "\n" not in value and "\r" not in value


def link_query(params) -> tuple[str | None, dict[str, str], bool]:
    """What an address's query parameters hold for the workbench: the SQL (or None), the parameter values,
    and whether anything was left out because it could not be read. Nothing here is trusted or echoed."""
    problem = False
    sql = None
    if URL_QUERY in params:
        values = params.get_all(URL_QUERY)
        sql = decode_query(values[0]) if len(values) == 1 else None
        problem = sql is None
    elif URL_LEGACY in params:  # links written before `q`: the SQL as plain text
        values = params.get_all(URL_LEGACY)
        sql = values[0] if len(values) == 1 and _plain_sql(values[0]) else None
        problem = sql is None
    found = {}
    for key in list(params.keys()):
        if not key.startswith(URL_PARAM):
            continue
        name, values = key[len(URL_PARAM):], params.get_all(key)
        if len(found) < MAX_PARAMS and len(values) == 1 and shareable(name, values[0]):
            found[name] = values[0]
        else:
            problem = True
    return sql, found, problem


def _plain_sql(text: str) -> bool:
    return 0 < len(text.encode("utf-8", "replace")) <= MAX_LINK_BYTES and not _UNSAFE.search(text)


def share_link(sql: str, values: dict[str, str], base: str | None = None) -> str | None:
    """The address that opens the workbench with this query and these parameter values (None when the query
    is too long for a link). `base` is the page's address as the browser reports it (st.context.url); when it
    is missing or odd, the link is relative (`?q=...`)."""
    encoded = encode_query(sql)
    if encoded is None:
        return None
    from urllib.parse import urlencode

    query = urlencode({URL_QUERY: encoded, **{URL_PARAM + n: v for n, v in values.items() if shareable(n, v)}})
    prefix = base if isinstance(base, str) and _BASE_URL.fullmatch(base) else ""
    return f"{prefix}?{query}"


def seed_from_url() -> None:
    """On a fresh session, put the link's query and parameter values into the editor (running nothing)."""
    if st.session_state.get(_SEEDED):
        return
    st.session_state[_SEEDED] = True
    sql, values, problem = link_query(st.query_params)
    if sql is not None:
        st.session_state[EDITOR] = sql
        st.session_state[_FROM_LINK] = True
    for name, value in values.items():
        st.session_state[PARAM + name] = value
    st.session_state[_LINK_PROBLEM] = problem


def _share(sql: str, values: dict[str, str]) -> None:
    """Write the query and its parameter values to the address bar (leaving other pages' keys alone)."""
    for key in [k for k in st.query_params if k.startswith(URL_PARAM) or k in (URL_QUERY, URL_LEGACY)]:
        del st.query_params[key]
    encoded = encode_query(sql)
    if encoded is None:
        return  # too long for a link: the address holds no query rather than a cut one
    st.query_params[URL_QUERY] = encoded
    for name, value in values.items():
        if shareable(name, value):
            st.query_params[URL_PARAM + name] = value


def _ran(sql: str, values: dict[str, str]) -> None:
    """A person asked to run this query (Run, or a canned query's Run): show its results, run afresh."""
    st.session_state[_SHOWN] = (sql, dict(values))
    st.session_state[_RERUN] = True
    st.session_state[_FROM_LINK] = False
    st.session_state[_LINK_PROBLEM] = False
    _share(sql, values)


def _use(query: catalog.CannedQuery) -> None:
    st.session_state[EDITOR] = query.sql
    for name, value in query.defaults.items():
        st.session_state[PARAM + name] = value
    _ran(query.sql, {n: st.session_state.get(PARAM + n, "") for n in query.parameters})


def _insert(name: str) -> None:
    text = (st.session_state.get(EDITOR) or "").rstrip()
    st.session_state[EDITOR] = f"{text} {name}" if text else f"select * from {name} limit 100"


def canned_list() -> None:
    """Canned queries: title, description and a button that loads and runs each."""
    for query in catalog.canned_queries():
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(f"**{query.title}**  \n{query.description}")
        right.button("Run", key=f"sql_canned_{query.name}", on_click=_use, args=(query,),
                     help=f"queries/{query.name}.sql")


# --- the editor and its actions -----------------------------------------------------------------------------

def _run_editor() -> None:
    sql = st.session_state.get(EDITOR) or ""
    _ran(sql, {n: st.session_state.get(PARAM + n) or "" for n in parameters(sql)})


def editor() -> None:
    """The SQL box, one input per named parameter, and the actions: Run, Copy link, History."""
    sql = st.text_area("SQL", key=EDITOR, height=170, max_chars=MAX_SQL_CHARS,
                       placeholder="select * from kpi_state_quarter order by quarter",
                       help="One read-only statement. Named parameters ($agency_id) become inputs below.") or ""
    names = parameters(sql)
    values = {}
    if names:
        columns = st.columns(min(len(names), 3))
        for i, name in enumerate(names):
            values[name] = columns[i % len(columns)].text_input(f"${name}", key=PARAM + name) or ""
    history = st.session_state.get(_HISTORY, [])
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Run", type="primary", icon=":material/play_arrow:", key="sql_run", on_click=_run_editor)
        with st.popover("Copy link", icon=":material/link:", help="A link that opens this query in the editor"):
            copy_link(sql, values)
        with st.popover(f"History ({len(history)})", icon=":material/history:",
                        help="The queries run in this session, newest first"):
            history_list(history)


def copy_link(sql: str, values: dict[str, str]) -> None:
    """The shareable address of the editor's query, in a box with a copy button."""
    if not sql.strip():
        st.caption("Write a query first: the link carries the query in the editor.")
        return
    link = share_link(sql, values, st.context.url)
    if link is None:
        st.warning(f"This query is {len(sql.encode('utf-8', 'replace')):,} bytes long, and a link carries at most "
                   f"{MAX_LINK_BYTES:,}. Share the SQL itself instead.", icon=":material/link_off:")
        return
    st.code(link, language=None, wrap_lines=True)
    st.caption("Copy it with the copy icon at the box's right (it shows when you point at the box). The link opens "
               "the SQL workbench with this query and its parameter values in the editor; nothing runs until the "
               "reader presses Run. Only people who may use the workbench can open it.")
    if any(not shareable(n, v) for n, v in values.items()):
        st.caption(f"Parameter values longer than {MAX_PARAM_CHARS} characters or on several lines are not in the "
                   "link.")


def current() -> tuple[str, dict[str, str]] | None:
    """The query whose results the page shows: the last one run in this session (None before the first), so
    opening a link never runs its query."""
    if st.session_state.get(_LINK_PROBLEM):
        st.warning("Part of this link could not be read (it is damaged, too long, or holds characters a query may "
                   "not), so it was left out. Check the editor before you press Run.", icon=":material/link_off:")
    if st.session_state.get(_FROM_LINK):
        st.info("This link holds the query shown in the editor. Read it, then press Run to run it.",
                icon=":material/info:")
    return st.session_state.get(_SHOWN)


# --- results and history ------------------------------------------------------------------------------------

def results(sql: str, values: dict[str, str]) -> None:
    """Run the query on the snapshot and show the table with CSV and Parquet downloads, or the refusal."""
    key = snapshot_key()
    if key is None:
        widgets.empty_state(widgets.NO_DATA)
        return
    args = (sql, tuple(sorted(values.items())), key, settings.sql_timeout_s(), settings.sql_max_rows())
    rerun = st.session_state.pop(_RERUN, False)
    if rerun:
        _run.clear(*args)
    fresh = rerun or st.session_state.get(_AUDITED) != args[:2]  # each query a person runs, once per run
    if fresh:
        st.session_state[_AUDITED] = args[:2]
        auth.record("sql_query", "published snapshot", sql + (f" -- parameters: {dict(args[1])}" if values else ""))
    outcome = _run(*args)
    if fresh:
        _remember(sql, values, outcome)
    if "error" in outcome:
        st.error(widgets.plain(outcome["error"]), icon=":material/block:")  # it may quote the SQL
        return
    frame: pl.DataFrame = outcome["frame"]
    if outcome["truncated"]:
        st.warning(widgets.plain(outcome["notice"]), icon=":material/content_cut:")
    widgets.table(frame, "query-result", caption=f"{widgets.plural(frame.height, 'row')} in "
                                                 f"{outcome['seconds']:.2f} s from the published snapshot.")
    st.download_button("Download query-result (Parquet)", lambda: parquet_bytes(frame),
                       file_name="query-result.parquet", mime="application/vnd.apache.parquet", key="dl-query-result-parquet",
                       icon=":material/download:", on_click="ignore")  # written when clicked


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


OUTCOMES = {"refused": "refused", "timeout": "stopped at the time limit", "memory": "stopped: out of memory",
            "error": "did not run"}


def _remember(sql: str, values: dict[str, str], outcome: dict) -> None:
    """Add a run to the session's history (newest first; running the newest again only updates it)."""
    history = st.session_state.setdefault(_HISTORY, [])
    st.session_state[_COUNTER] = number = st.session_state.get(_COUNTER, 0) + 1
    entry = {"id": number, "sql": sql, "params": dict(values), "at": dt.datetime.now().strftime("%H:%M:%S"),
             "rows": outcome["frame"].height if "frame" in outcome else None, "seconds": outcome.get("seconds"),
             "cut": bool(outcome.get("truncated")), "code": outcome.get("code")}
    if history and (history[0]["sql"], history[0]["params"]) == (sql, entry["params"]):
        history.pop(0)
    history.insert(0, entry)
    del history[HISTORY_SIZE:]


def history() -> list[dict]:
    """This session's history: dicts with sql, params, at (HH:MM:SS), rows, seconds, cut, code; newest first."""
    return list(st.session_state.get(_HISTORY, []))


def summary(entry: dict) -> str:
    """One line about a run, from numbers and fixed words only."""
    if entry["code"]:
        return f"{OUTCOMES.get(entry['code'], 'did not run')} · {entry['at']}"
    rows = f"{widgets.plural(entry['rows'], 'row')}{' (cut)' if entry['cut'] else ''}"
    return f"{rows} · {entry['seconds']:.2f} s · {entry['at']}"


def _load(entry: dict) -> None:
    st.session_state[EDITOR] = entry["sql"]
    for name, value in entry["params"].items():
        st.session_state[PARAM + name] = value
    st.session_state[_FROM_LINK] = False


def history_list(entries: list[dict]) -> None:
    """The session's queries, newest first, each with its outcome and a button that loads it into the editor."""
    if not entries:
        st.caption("The queries you run in this session are listed here, newest first.")
        return
    st.caption("Newest first. Load puts a query and its parameter values back into the editor; press Run to run "
               "it.")
    for entry in entries:
        with st.container(border=True):
            lines = entry["sql"].strip().splitlines() or [""]
            st.code("\n".join(lines[:8]) + ("\n..." if len(lines) > 8 else ""), language="sql", wrap_lines=True)
            if entry["params"]:
                st.text("   ".join(f"${n} = {v}" for n, v in entry["params"].items()))
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.caption(summary(entry))
            right.button("Load", key=f"sql_history_{entry['id']}", on_click=_load, args=(entry,),
                         icon=":material/edit_note:")


# --- the schema -----------------------------------------------------------------------------------------------

def schema_browser() -> None:
    """Tables and views with column types and descriptions; a button inserts each name into the editor, and
    clicking a column's row inserts the column's name. A relation's columns are sent when it is opened (or
    matches the search), so the page stays light."""
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
        box = st.expander(f"{relation.name} · {relation.kind}", expanded=bool(needle), key=f"sql_rel_{relation.name}",
                          on_change="rerun")  # its columns are sent only when open
        with box:
            st.caption(relation.description or "No description.")
            st.button(f"Insert {relation.name}", key=f"sql_insert_{relation.name}", on_click=_insert,
                      args=(relation.name,), icon=":material/add:")
            if not (needle or box.open):
                continue
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
