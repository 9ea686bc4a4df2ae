"""The upload page's pieces: templates, choices, progress, verdict, findings, preview and the submit step."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import polars as pl
import streamlit as st

from dashboard import auth, data, widgets
from pipelines import docgen, settings, snapshot, upload, upload_findings
from pipelines.access import Viewer
from pipelines.contracts import REPORTS
from pipelines.loading import LoadResult

STAGES = {"reading": (0.1, "Reading the file"), "checking types": (0.35, "Checking types"),
          "applying the rules": (0.55, "Applying the rules"), "cross-checking": (0.8, "Cross-checking"),
          "done": (1.0, "Done"), "loading": (0.9, "Loading")}
INFER = "Infer from the header"
_CHECKS, _RESULTS = "_upload_checks", "_upload_results"


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATES_ANCHOR = "templates"


def templates() -> None:
    """Blank templates (CSV and Excel) and the data dictionary per report."""
    st.subheader("Templates", anchor=TEMPLATES_ANCHOR)
    with st.expander("Templates and data dictionaries", icon=":material/description:"):
        st.caption("Start from the template: keep its header row, add one row per record, save as CSV or .xlsx. "
                   "The Excel template's second sheet lists the allowed values of each column.")
        for tab, (kind, contract) in zip(st.tabs([c.title for c in REPORTS.values()]), REPORTS.items()):
            with tab:
                st.write(contract.description)
                csv_col, xlsx_col = st.columns(2)
                csv_col.download_button(f"Download the {kind} template (CSV)", docgen.template_csv(contract),
                                        file_name=f"{kind}.csv", mime="text/csv", key=f"template-{kind}",
                                        icon=":material/download:")
                xlsx_col.download_button(f"Download the {kind} template (Excel)", docgen.template_xlsx(contract),
                                         file_name=f"{kind}.xlsx", mime=XLSX_MIME, key=f"template-{kind}-xlsx",
                                         icon=":material/download:")
                widgets.table(dictionary(kind), f"{kind}-data-dictionary")


def dictionary(kind: str) -> pl.DataFrame:
    rows = [(c.name, c.type, "required" if c.required else "optional", c.unit,
             ", ".join(c.allowed) if c.allowed else "", c.description, c.example) for c in REPORTS[kind].columns]
    return pl.DataFrame(rows, schema=["column", "type", "required", "unit", "allowed values", "description",
                                      "example"], orient="row")


def named(file) -> upload.Named | None:
    """What the uploaded file names (its agency and quarter, or why it cannot be read), read once per file."""
    if file is None:
        return None
    content = file.getvalue()
    key = (hashlib.sha256(content).hexdigest(), file.name)
    cached = st.session_state.get("_upload_named")
    if cached is None or cached[0] != key:
        cached = (key, upload.named_in(file.name, content))
        st.session_state["_upload_named"] = cached
    return cached[1]


def refuse_wrong_type(file, found: upload.Named) -> None:
    """A PDF, an image, a zip...: said in the product's words (what was sent, what is accepted, where the
    templates are); nothing is checked, recorded or loaded."""
    size = len(file.getvalue())
    sent = widgets.plain(file.name) + (f" ({widgets.plain(file.type)}, {size / 1024:,.0f} KB)" if file.type else "")
    st.error(f"**This file cannot be uploaded: nothing was checked or loaded.** You sent {sent}. Reports are "
             f"accepted as {upload.ACCEPTED_TYPES}. {widgets.plain(found.refused.message)}",
             icon=":material/block:")
    st.markdown(f"Start from a [CSV or Excel template](#{TEMPLATES_ANCHOR}) above: keep its header row and add "
                "one row per record.")


def choose(viewer: Viewer, found: upload.Named | None = None) -> tuple[str | None, str | None, str | None]:
    """Agency (one the viewer may upload for), quarter and report (None = infer). When a new file names one
    agency the viewer may upload for, or one quarter on the list, they are chosen for the reader."""
    agencies = data.query("select agency_id, name from agencies where (active_to is null or active_to >= "
                          "(select as_of_date from dim_as_of) - interval 1 year) and (? or list_contains(?, "
                          "agency_id)) order by agency_id", [viewer.role == "state_admin", list(viewer.agencies)])
    names = dict(zip(agencies["agency_id"], agencies["name"]))
    quarters = _quarters()
    filled = _prefill(viewer, found, names, quarters)
    left, middle, right = st.columns(3)
    agency = left.selectbox("Agency", list(names), index=0 if len(names) == 1 else None,
                            placeholder="Choose your agency", key="up_agency",
                            format_func=lambda a: f"{a} · {names[a]}")
    quarter = middle.selectbox("Quarter", quarters, index=0 if quarters else None, key="up_quarter")
    kind = right.selectbox("Report", [INFER, *REPORTS], key="up_report",
                           format_func=lambda k: k if k == INFER else REPORTS[k].title)
    if filled:
        st.caption(f"{' and '.join(filled).capitalize()} filled in from the file; change them if the file is wrong.")
    st.caption(f"Submitting as **{viewer.actor}** ({viewer.label}); recorded with the submission and in the "
               "audit trail.")
    return agency, quarter, None if kind == INFER else kind


def _prefill(viewer: Viewer, found: upload.Named | None, names: dict, quarters: list[str]) -> list[str]:
    """Choose the file's one agency and one quarter, once per new file (the reader may change them after).
    Never an agency the viewer may not upload for."""
    if found is None:
        return []
    key = st.session_state.get("_upload_named", (None,))[0]
    if st.session_state.get("_upload_prefilled") == key:
        return st.session_state.get("_upload_prefilled_what", [])
    filled = []
    if found.agency in names and viewer.may_upload_for(found.agency):
        st.session_state["up_agency"] = found.agency
        filled.append("the agency")
    if found.quarter in quarters:
        st.session_state["up_quarter"] = found.quarter
        filled.append("the quarter")
    st.session_state["_upload_prefilled"], st.session_state["_upload_prefilled_what"] = key, filled
    return filled


def _quarters() -> list[str]:
    """Ended quarters of the last three years, the one due now first."""
    as_of = data.query("select as_of_date from dim_as_of")["as_of_date"][0]
    year, q = as_of.year, (as_of.month - 1) // 3  # quarters fully ended before as_of's quarter
    out = []
    for _ in range(12):
        if q == 0:
            year, q = year - 1, 4
        out.append(f"{year}-Q{q}")
        q -= 1
    return out


def _key(name: str, content: bytes, agency: str, quarter: str, kind: str | None) -> tuple:
    return (hashlib.sha256(content).hexdigest(), name, agency, quarter, kind)


def check(name: str, content: bytes, agency: str, quarter: str, kind: str | None, who: Viewer) -> upload.Upload:
    """Validate once per (file, choices) with a progress bar; later reruns reuse the result."""
    if not who.may_upload_for(agency):  # the choice list holds only the viewer's agencies; never trust it
        auth.deny(who, f"upload for {agency}", f"You cannot upload reports for {agency}.")
    key = _key(name, content, agency, quarter, kind)
    checks = st.session_state.setdefault(_CHECKS, {})
    if key not in checks:
        bar = st.progress(0.0, text=f"Checking {name}…")
        started = time.perf_counter()

        def stage(step: str) -> None:
            fraction, label = STAGES.get(step, (0.9, step))
            bar.progress(fraction, text=f"Checking {name}: {label.lower()}…")

        cur = snapshot.cursor(data.connection())
        try:
            checked = upload.check(cur, name, content, agency=agency, quarter=quarter, kind=kind,
                                   submitted_by=who.actor, role=who.role, on_stage=stage,
                                   on_wait=_waiting(bar.progress, 0.95))
        finally:
            cur.close()
        checked.validated.timings["total"] = round(time.perf_counter() - started, 3)
        checks.clear()
        checks[key] = checked
        bar.empty()
    return checks[key]


def verdict(checked: upload.Upload) -> None:
    """Verdict first: rejected, identical, ready with warnings, or ready."""
    r = checked.report
    errors, warnings = _total(r, "error"), _total(r, "warning")
    what = (f"{widgets.plain(r.file)} ({r.report or 'unknown'} report, {widgets.plural(r.rows, 'row')}, "
            f"{checked.agency} {checked.quarter})")
    if not checked.valid:
        st.error(f"**Rejected: nothing was loaded.** {widgets.plural(errors, 'error')} and "
                 f"{widgets.plural(warnings, 'warning')} in {what}. Fix the errors listed below in your file and "
                 f"upload it again. This attempt is recorded as submission #{checked.rejection_id}.",
                 icon=":material/block:")
    elif checked.identical:
        ids = ", ".join(f"#{i}" for i in checked.current["submission_id"])
        st.info(f"**Identical file.** {what} is exactly the current submission {ids}; submitting it again "
                "would change nothing.", icon=":material/content_copy:")
    elif warnings:
        st.warning(f"**Ready to submit, with {widgets.plural(warnings, 'warning')}.** {what}. Warnings do "
                   "not block the submission; read them, then acknowledge them below.", icon=":material/warning:")
    else:
        st.success(f"**Ready to submit: no problems found.** {what}.", icon=":material/check_circle:")
    seconds = checked.validated.timings.get("total")
    notes = " ".join(r.notes)
    st.caption(f"{notes} Checked in {seconds:.2f} s." if seconds is not None else notes)


def _total(report, severity: str) -> int:
    return sum(n for code, n in report.counts().items() if report.severity_of(code) == severity)


def findings(checked: upload.Upload, found: upload.Named | None = None
             ) -> tuple[upload_findings.FileView | None, "upload_findings.Report"]:
    """File-level findings once at the top with their fix; then counts per code, the first 20 of each code
    (row-level), the full list as CSV. Returns the file's view and the report as shown."""
    view = upload_findings.file_view(checked.file_name, checked.data, checked.kind, {"agency_id", "quarter"})
    shown = upload_findings.for_display(checked.report, checked.quarter, found.quarters if found else None)
    if not shown.findings:
        return view, shown
    st.subheader("Findings")
    for f in upload_findings.file_level(shown):
        say = st.error if f.severity == "error" else st.warning
        say(f"**About the whole file ({f.code}, {f.severity}):** {widgets.plain(f.message)}",
            icon=":material/description:")
    widgets.table(upload_findings.counts_frame(shown), "finding-counts",
                  caption="Per finding code; errors block the file, warnings do not.")
    listed = upload_findings.findings_frame(shown, view)
    st.download_button("Download every finding (CSV)", widgets.csv_bytes(listed), file_name=f"{checked.file_name}"
                       "-findings.csv", mime="text/csv", key="dl-all-findings", icon=":material/download:")
    counts = shown.counts()
    for code, first in upload_findings.first_of_each(listed.filter(pl.col("row").is_not_null())).items():
        severity = shown.severity_of(code)
        more = f", first {first.height} shown" if counts[code] > first.height else ""
        with st.expander(f"{code} · {severity} · {counts[code]:,}{more}", expanded=True):
            widgets.table(first, f"findings-{code}",
                          caption="Row as numbered in your file (header = row 1); letter = spreadsheet column.")
    return view, shown


def preview(checked: upload.Upload, view: upload_findings.FileView | None, shown=None, limit: int = 1000) -> None:
    """The parsed rows as in the file, cells with row findings highlighted (errors red, warnings amber); a
    file-level finding colours nothing."""
    if view is None or view.rows.is_empty():
        return
    st.subheader("Your rows")
    listed = upload_findings.findings_frame(shown or checked.report, view)
    cells = upload_findings.bad_cells(listed, view)
    only = bool(cells) and st.toggle("Only rows with findings", value=bool(cells), key="up_only_bad")
    rows = view.rows.filter(pl.col("row").is_in(list(cells))) if only else view.rows
    rows = rows.head(limit)
    colours = {"error": "background-color: #f8d7da", "warning": "background-color: #fff3cd"}

    def paint(frame):
        styles = frame.copy().astype(str)
        styles[:] = ""
        for i, row in enumerate(frame["row"]):
            for column, severity in cells.get(int(row), {}).items():
                styles.iloc[i, frame.columns.get_loc(column)] = colours[severity]
        return styles

    st.dataframe(rows.to_pandas().style.apply(paint, axis=None), hide_index=True, width="stretch")
    st.download_button("Download these rows (CSV)", widgets.csv_bytes(rows), file_name=f"{checked.file_name}-rows.csv",
                       mime="text/csv", key="dl-preview-rows", icon=":material/download:")
    shown = f"first {limit:,} of " if rows.height == limit else ""
    st.caption(f"Showing {shown}{widgets.plural(rows.height, 'row')}. Red cells hold errors, amber cells warnings.")


def _waiting(show, fraction: float = 0.0):
    """An on_wait callback telling the reader that another load holds the warehouse, and for how long."""
    def told(seconds: float, holder: str) -> None:
        show(fraction, f"Waiting for another load to finish ({seconds:.0f} s of at most "
                       f"{settings.write_wait_s():.0f} s)…")
    return told


def submit_step(checked: upload.Upload, who: Viewer) -> None:
    """Acknowledge warnings, confirm a replacement, submit; then the confirmation."""
    key = _key(checked.file_name, checked.data, checked.agency, checked.quarter, checked.validated.kind)
    done = st.session_state.setdefault(_RESULTS, {}).get(key)
    if done is not None:
        _confirmation(checked, done)
        return
    if not checked.valid or checked.identical:
        return
    st.subheader("Submit")
    confirmed = acknowledged = True
    if checked.replaces:
        ids = ", ".join(f"#{i}" for i in checked.current["submission_id"])
        st.markdown(f"A {checked.kind} report for {checked.agency} {checked.quarter} is already on file "
                    f"(submission {ids}, {widgets.plain(checked.current['file_name'][0])}). Submitting replaces it:")
        more = upload.more_changes(data.connection(), checked)
        widgets.table(checked.changes if more is None else pl.concat([checked.changes, more]),
                      "replacement-changes")
        confirmed = st.checkbox(f"Replace submission {ids} with this file", key="up_confirm")
    if checked.report.warnings:
        warnings = widgets.plural(_total(checked.report, 'warning'), 'warning')
        acknowledged = st.checkbox(f"I have read the {warnings} and submit anyway (they are kept with the "
                                   "submission)", key="up_ack")
    if st.button("Submit", type="primary", disabled=not (confirmed and acknowledged), key="up_submit"):
        with st.status("Submitting…") as status:
            result = upload.submit(checked, submitted_by=who.actor, role=who.role, acknowledged=acknowledged,
                                   confirmed=confirmed, on_wait=_waiting(lambda _, text: status.update(label=text)))
            status.update(label="Submitted." if result.status != "retry" else "Not submitted.",
                          state="complete" if result.status != "retry" else "error")
        if result.status == "retry":
            st.session_state[_CHECKS].pop(key, None)
            st.warning(result.message, icon=":material/sync_problem:")
            st.button("Check the file again", key="up_recheck")
            return
        done = (result, dt.datetime.now().replace(microsecond=0), who.actor)
        st.session_state[_RESULTS][key] = done
        _confirmation(checked, done)


def _confirmation(checked: upload.Upload, done: tuple[LoadResult, dt.datetime, str]) -> None:
    result, at, by = done
    if result.status == "unchanged":
        st.info(result.message, icon=":material/content_copy:")
        return
    ids = ", ".join(f"#{i}" for i in result.submission_ids)
    replaced = (" It replaces " + ", ".join(f"#{i}" for i in result.superseded_ids) + ".") \
        if result.superseded_ids else ""
    what = widgets.plural(result.rows, "row") if result.rows else "nothing to report (header only)"
    st.success(f"**Loaded: submission {ids}.** {what} of the {checked.kind} report for {checked.agency} "
               f"{checked.quarter}.{replaced}", icon=":material/task_alt:")
    st.page_link("pages/submissions.py", label=f"Open submission {ids} in the submission history",
                 query_params={"submission": str(result.submission_ids[0])}, icon=":material/history:")
    _receipt(checked, result, at, by)


def _receipt(checked: upload.Upload, result: LoadResult, at: dt.datetime, by: str) -> None:
    """What the sender keeps: the submission's facts, shown and downloadable as a small text file."""
    fields = upload.receipt(checked, result, submitted_by=by, submitted_at=at)
    st.subheader("Receipt")
    st.dataframe(pl.DataFrame({"field": list(fields), "value": list(fields.values())}), hide_index=True,
                 width="content")
    st.download_button("Download the receipt (text)", upload.receipt_text(fields),
                       file_name=f"receipt-submission-{result.submission_ids[0]}.txt", mime="text/plain",
                       key="dl-receipt", icon=":material/receipt_long:")
