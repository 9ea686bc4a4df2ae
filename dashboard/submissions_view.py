"""The submissions page's pieces: compliance counts and grid, the not-yet-submitted list, one submission's history."""

from __future__ import annotations

import html

import polars as pl
import streamlit as st

from dashboard import auth, data, filters, widgets
from pipelines import audit, compliance, originals, settings, upload_findings
from pipelines.access import Viewer
from pipelines.contracts import REPORTS

COLOURS = {"on time": "#009E73", "late": "#E69F00", "rejected": "#D55E00", "missing": "#777777",
           "not due": "#DDDDDD"}
"""Okabe-Ito colours; each cell also carries its state as text (tooltip and screen readers)."""
GRID_QUARTERS = 4
GRID_AGENCIES = 150
TABLE_ROWS = 5000
PROBLEMS = ("late", "rejected", "missing")


def due_days() -> int:
    days = data.query("select try_cast(value as integer) as d from policy where setting = 'submission_due_days'")
    return days["d"][0] if days.height and days["d"][0] is not None else compliance.DEFAULT_DUE_DAYS


def practices_due_quarters() -> list[str]:
    """The quarters of the year the practices self-assessment is due (policy `practices_due_quarters`)."""
    found = data.query("select value from policy where setting = 'practices_due_quarters'")
    return compliance.due_quarters(found["value"][0] if found.height else None)


def grid(f: filters.Filters, since: str | None = None, states: tuple[str, ...] = (),
         limit: int | None = None) -> pl.DataFrame:
    """One row per active agency, quarter (in the filter range, from `since` if given) and report, with its
    state; only the given `states` when some are named; the first `limit` rows when given."""
    condition, params = f.agencies("a.")
    sql, params = compliance.grid_sql(condition), [max(f.quarter_from, since or ""), f.quarter_to, *params]
    if states:
        sql, params = f"select * from ({sql}) where list_contains(?, state)", [*params, list(states)]
    if limit is not None:
        sql, params = f"select * from ({sql}) limit ?", [*params, limit]
    return data.query(sql, params)


def state_counts(f: filters.Filters) -> dict[str, int]:
    """How many agency-quarter-report cells are in each state, over the filter range."""
    condition, params = f.agencies("a.")
    found = data.query(f"select state, count(*) as cells from ({compliance.grid_sql(condition)}) group by state",
                       [f.quarter_from, f.quarter_to, *params])
    return dict(found.iter_rows())


def grid_since(f: filters.Filters) -> str | None:
    """The first of the latest GRID_QUARTERS quarters of the filter range (None: no quarter in range)."""
    recent = data.query("select quarter from dim_quarter where quarter between ? and ? order by quarter desc "
                        "limit ?", [f.quarter_from, f.quarter_to, GRID_QUARTERS])
    return recent["quarter"][-1] if recent.height else None


def outstanding(f: filters.Filters) -> pl.DataFrame:
    condition, params = f.agencies("a.")
    return data.query(compliance.outstanding_sql(condition), [f.quarter_from, f.quarter_to, *params])


def counts(found: dict[str, int]) -> None:
    """One card per state."""
    for column, state in zip(st.columns(len(compliance.STATES)), compliance.STATES):
        column.metric(state.capitalize(), f"{found.get(state, 0):,}", border=True)


def heatmap(recent: pl.DataFrame, partial_range: bool) -> None:
    """Agency x quarter x report of the latest quarters, coloured by state; each filed cell links to its
    submission's history. `partial_range`: the filter range holds more quarters than are drawn."""
    quarters = recent["quarter"].unique().sort().to_list()
    problems = (recent.group_by("agency_id")
                .agg(pl.col("state").is_in(["late", "rejected", "missing"]).sum().alias("problems"))
                .sort(["problems", "agency_id"], descending=[True, False]))
    drawn = problems.head(GRID_AGENCIES)["agency_id"]
    shown = (recent.filter(pl.col("agency_id").is_in(drawn.implode()))  # the most problems first
             .join(problems, on="agency_id").sort(["problems", "agency_id"], descending=[True, False],
                                                  maintain_order=True).drop("problems"))
    classes = {state: f"s{i}" for i, state in enumerate(COLOURS)}
    style = "".join(f".cg .{classes[s]}{{background:{c}}}" for s, c in COLOURS.items()) + (
        ".cg{border-collapse:collapse;font-size:12px}.cg td{width:16px;height:18px;border:1px solid #fff;padding:0}"
        ".cg td a,.cg td span{display:block;width:100%;height:18px;font-size:0}"
        ".cg td.na{background:#fff;border:1px dotted #ccc}.cg th{font-weight:normal;padding:1px 4px}.cg tbody th{text-align:left;white-space:nowrap}")
    head = "".join(f'<th colspan="{len(REPORTS)}">{q}</th>' for q in quarters)
    sub = "".join(f'<th title="{k}">{k[0].upper()}</th>' for _ in quarters for k in REPORTS)
    body = []
    for (agency, name), rows in shown.group_by("agency_id", "agency_name", maintain_order=True):
        cells = {(q, r): (state, sid) for q, r, state, sid in
                 rows.select("quarter", "report", "state", "submission_id").iter_rows()}
        tds = []
        for quarter in quarters:
            for report in REPORTS:
                if (quarter, report) not in cells:  # not due that quarter (the semiannual self-assessment)
                    tds.append(f'<td class="na" title="{agency} {quarter} {report}: not due this quarter"></td>')
                    continue
                state, sid = cells[quarter, report]
                tip = f"{agency} {quarter} {report}: {state}"
                link = html.escape(widgets.app_link("", submission=str(sid)))
                inner = f'<a href="{link}" title="{tip}">{state}</a>' if sid is not None \
                    else f'<span title="{tip}">{state}</span>'
                tds.append(f'<td class="{classes[state]}" data-state="{state}">{inner}</td>')
        profile = html.escape(widgets.app_link("agency", agency=agency))
        body.append(f'<tr><th title="{html.escape(name)}"><a href="{profile}">{agency}</a></th>{"".join(tds)}</tr>')
    legend = " ".join(f'<span class="{classes[s]}" style="display:inline-block;width:12px;height:12px"></span> {s}'
                      for s in COLOURS)
    st.html(f'<style>{style}</style><div class="cg" style="font-size:12px">{legend} &nbsp; · H headcount, '
            f'C certification, B billing, R retention, P practices (blank where not due)</div><div style="overflow:auto;max-height:620px">'
            f'<table class="cg" aria-label="Compliance grid"><thead><tr><th></th>{head}</tr><tr><th></th>{sub}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>')
    notes = []
    if partial_range:
        notes.append(f"the latest {GRID_QUARTERS} quarters of the range")
    if problems.height > GRID_AGENCIES:
        notes.append(f"the {GRID_AGENCIES:,} of {problems.height:,} agencies with the most late, rejected or missing "
                     "reports")
    if notes:
        st.caption(f"The grid shows {' and '.join(notes)}; the table below has every agency and quarter.")


def cells_table(f: filters.Filters) -> None:
    """The grid as a table (late, rejected and missing cells unless asked for all), each cell's link opening its
    submission history."""
    states = () if st.toggle("Include reports on time and not yet due", key="cells-all") else PROBLEMS
    cells = grid(f, states=states, limit=TABLE_ROWS + 1)
    if cells.height > TABLE_ROWS:
        st.caption(f"The first {TABLE_ROWS:,} cells are listed; the full list is in the CSV below.")
        st.download_button("Download every cell (CSV)",
                           lambda: widgets.csv_bytes(_cells_frame(grid(f, states=states))),
                           file_name="submission-compliance-all.csv", mime="text/csv", key="dl-all-cells",
                           icon=":material/download:", on_click="ignore")
    widgets.table(_cells_frame(cells.head(TABLE_ROWS)), "submission-compliance", column_config={
        "history": st.column_config.LinkColumn("history", display_text=r"submission=(\d+)")})


def _cells_frame(cells: pl.DataFrame) -> pl.DataFrame:
    return cells.select(
        "agency_id", "agency_name", "region_id", "agency_type", "quarter", "report", "state", "due_date",
        pl.col("first_accepted_at").alias("first_accepted"), "uploads",
        pl.when(pl.col("submission_id").is_not_null())
        .then(pl.format("?submission={}", pl.col("submission_id"))).alias("history"))


def history(submission_id: int, viewer: Viewer) -> None:
    """One submission, every upload for its agency, quarter and report, its findings and the original file
    (for state staff, and for the agency's own users)."""
    sub = data.query("select * from submissions where submission_id = ?", [submission_id])
    if sub.is_empty() or not viewer.sees_agency(sub["agency_id"][0]):
        if not viewer.is_state:  # the same answer whether it exists or belongs to another agency
            auth.deny(viewer, f"submission #{submission_id}", f"Submission #{submission_id} is not one of your "
                      f"agencies' ({', '.join(viewer.agencies) or 'none'}).")
        widgets.empty_state(f"There is no submission #{submission_id}.")
        return
    s = sub.row(0, named=True)
    st.subheader(f"Submission #{submission_id}: {s['agency_id']} {s['quarter']} {s['report']}")
    state = "" if s["status"] != "accepted" else (
        f" (replaced by #{s['superseded_by']})" if s["superseded_by"] else " (current)")
    st.markdown(f"**{s['status'].capitalize()}**{state} · {widgets.plain(s['file_name'])} · "
                f"{widgets.plural(s['rows'], 'row')} · {widgets.plural(s['error_count'] or 0, 'error')}, "
                f"{widgets.plural(s['warning_count'] or 0, 'warning')} · submitted by "
                f"{widgets.plain(s['submitted_by'] or 'unknown')} on {widgets.datetime_text(s['submitted_at'])} "
                f"(server time) · sha256 `{s['sha256']}`")
    _original(s)
    st.markdown("**Every upload for this agency, quarter and report**")
    widgets.table(data.query(
        "select submission_id, status, superseded_by, file_name, rows, error_count, warning_count, submitted_by, "
        "submitted_at, sha256 from submissions where agency_id = ? and quarter = ? and report = ? "
        "order by submission_id desc", [s["agency_id"], s["quarter"], s["report"]]), f"history-{submission_id}")
    found = data.query("select severity, code, row, \"column\", value, message as \"how to fix\" "
                       "from submission_findings where submission_id = ? order by severity, code, row",
                       [submission_id])
    if found.is_empty():
        st.caption("No findings were stored with this submission.")
    else:
        st.markdown("**Findings stored with this submission**")
        widgets.table(found, f"findings-{submission_id}", row_level=True)


def _original(s: dict) -> None:
    content = originals.read(s["sha256"])
    if content is None:
        st.caption("The original file is not kept here (it was loaded from the command line or before files "
                   "were kept).")
        return
    viewer, db = auth.current(), settings.db_path()  # the download runs after the script: capture both now

    def download() -> bytes:
        audit.record(db, viewer.actor, viewer.role, "original_download", f"submission #{s['submission_id']}",
                     f"{s['file_name']} · sha256 {s['sha256']}")
        return content

    if viewer.may_export_rows:
        st.download_button(f"Download the original file ({widgets.plain(s['file_name'])})", download,
                           file_name=s["file_name"], key="dl-original", icon=":material/download:",
                           on_click="ignore")
    else:
        st.caption(":material/lock: Downloads of original files are for state analysts and administrators, "
                   "and for the agency's own users.")
    view = upload_findings.file_view(s["file_name"], content, None, set())
    if view is not None:
        with st.expander("View the original file"):
            st.dataframe(view.rows.head(1000), hide_index=True, width="stretch")
