"""Command line: python -m pipelines COMMAND (also installed as `peer-pipelines`).

Exit codes: 0 success (valid / loaded / unchanged), 1 invalid or rejected or refused, 2 unusable
(unreadable file, bad arguments, warehouse busy or made by a newer version, disk full: nothing loaded),
3 loaded but not published (`ingest`: the load committed, the snapshot could not be replaced and stays
stale until the next publication, which the next writing command or `init` makes).
"""

from __future__ import annotations

import contextlib
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines import csv_safe, settings, warehouse
from pipelines.contracts import plural
from pipelines.findings import Report

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
out = Console()
err = Console(stderr=True)

UNUSABLE = {"file-not-found", "file-too-large", "empty-file", "unsupported-format", "binary-file",
            "encoding-error", "no-header", "unknown-report"}


class ReportKind(str, Enum):
    headcount = "headcount"
    certification = "certification"
    billing = "billing"
    retention = "retention"
    practices = "practices"


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


@contextlib.contextmanager
def _unusable_on(*errors: type[Exception]):
    """These errors are the user's to fix outside this command: say so in red and exit 2 (unusable)."""
    try:
        yield
    except errors as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    except Exception as exc:
        if not warehouse.is_disk_full(exc):
            raise
        full = warehouse.disk_full(settings.db_path().parent, "the command stopped; a load that had not "
                                   "committed was rolled back.")
        err.print(f"[red]{escape(str(full))}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc


LOADED_UNPUBLISHED = 2
"""Exit code of an ingest whose load committed but whose snapshot could not be replaced: the command did not
finish (the published figures are stale), and running it again republishes without loading twice."""


def _prepare(con) -> None:
    """Under the writer's turn, before a load: a new or older-version file is first brought up to date (what
    `init` does), so a load never meets a schema it was not written for, and a snapshot left stale by an
    interrupted or failed publication is published again."""
    from pipelines import snapshot

    found = warehouse.schema_version(con)
    if found != warehouse.SCHEMA_VERSION:
        warehouse.init(con)
        err.print(f"Created the warehouse {settings.db_path()}." if found == 0 else
                  f"Upgraded the warehouse from schema version {found} to {warehouse.SCHEMA_VERSION}.")
    try:
        if snapshot.repair(con):
            err.print(f"The snapshot {settings.snapshot_path()} was out of date (an earlier publication was "
                      "interrupted or failed): published it again.", highlight=False, soft_wrap=True)
    except Exception as exc:  # the load can still go ahead; its own publication will try again
        err.print(f"[yellow]The snapshot is out of date and could not be published again: "
                  f"{escape(str(exc))}[/yellow]", highlight=False, soft_wrap=True)


def _waiting(describe):
    """An on_wait callback for writer.turn: the wait shown as it goes (`describe`, a progress line) and said on
    stderr when it starts and every 10 s, so logs of unattended runs show it too."""
    said = []

    def told(seconds: float, holder: str) -> None:
        text = (f"waiting for the warehouse{' (' + escape(holder) + ')' if holder else ''}, {seconds:.0f} s "
                f"of at most {settings.write_wait_s():.0f} s")
        if not said or seconds - said[-1] >= 10:
            said.append(seconds)
            err.print(text[0].upper() + text[1:] + ".", highlight=False, soft_wrap=True)
        if describe is not err.print:
            describe(text)
    return told


def _notices() -> None:
    for notice in dict.fromkeys(warehouse.NOTICES):
        err.print(f"[yellow]{escape(notice)}[/yellow]", highlight=False, soft_wrap=True)
    warehouse.NOTICES.clear()


def _check_quarter(quarter: Optional[str]) -> None:
    import re

    if quarter and not re.fullmatch(r"\d{4}-Q[1-4]", quarter):
        err.print(f"[red]--quarter must look like 2026-Q1, not {quarter!r}.[/red]")
        raise typer.Exit(2)


def _exit_code(report: Report) -> int:
    if any(f.code in UNUSABLE for f in report.errors):
        return 2
    return 0 if report.valid else 1


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True, disable=not err.is_terminal)


def print_report(report: Report, status: str | None = None, per_code: int = 20) -> None:
    """Verdict first, then counts per finding code, then the first findings of each code."""
    verdict = status or ("valid" if report.valid else "invalid")
    colour = "green" if report.valid else "red"
    kind = f" ({report.report} report)" if report.report else ""
    out.print(f"[bold {colour}]{escape(report.file)}{kind}: {verdict}[/] - {plural(report.rows, 'row')}, "
              f"{plural(_total(report, 'error'), 'error')}, {plural(_total(report, 'warning'), 'warning')}")
    for note in report.notes:
        out.print(f"  [dim]{escape(note)}[/dim]")
    counts = report.counts()
    if not counts:
        return
    summary = Table("code", "severity", "count", title="Findings per code", title_justify="left")
    for code, n in counts.items():
        summary.add_row(escape(code), report.severity_of(code), str(n))
    out.print(summary)
    shown: dict[str, int] = {}
    for f in sorted(report.findings, key=lambda f: (f.severity != "error", f.row or 0, f.column or "")):
        shown[f.code] = shown.get(f.code, 0) + 1
        if shown[f.code] <= per_code:
            mark = "[red]error[/red]  " if f.severity == "error" else "[yellow]warning[/yellow]"
            out.print(f"  {mark} {escape(f.message)} [dim]({f.code})[/dim]", highlight=False)
    for code, n in counts.items():
        if n > per_code:
            out.print(f"  [dim]... and {n - per_code} more {code} (--format json lists them all)[/dim]")


def _total(report: Report, severity: str) -> int:
    return sum(n for code, n in report.counts().items() if report.severity_of(code) == severity)


def _validation_connection():
    """A read-only view of the warehouse for reference and cross-report checks: the published snapshot, never
    the live file (opening it, even read-only, would lock out a writer for as long as the check runs), else an
    in-memory warehouse holding only the reference data (no cross-report checks)."""
    import duckdb

    from pipelines import snapshot

    path = settings.snapshot_path()
    if path.exists():
        try:
            return snapshot.reader(path)
        except duckdb.Error:
            pass
    if settings.db_path().exists():
        err.print(f"[yellow]No readable snapshot at {path}: checked against the reference data only (no "
                  "cross-report checks). Run init to publish one.[/yellow]", highlight=False, soft_wrap=True)
    con = duckdb.connect(":memory:")
    warehouse.init(con)
    return con


@app.command()
def init() -> None:
    """Create the warehouse, or upgrade one made by an older version; reload reference data and views."""
    from pipelines import snapshot, writer

    warehouse.NOTICES.clear()
    with _unusable_on(warehouse.WarehouseBusy, warehouse.WarehouseTooNew, warehouse.DiskFull), \
            writer.session(what="init", on_wait=_waiting(err.print)) as con:
        found = warehouse.init(con)
        snapshot.publish(con)
    _notices()
    if found == 0:
        out.print(f"Created {settings.db_path()} (schema version {warehouse.SCHEMA_VERSION}).")
    elif found < warehouse.SCHEMA_VERSION:
        out.print(f"Upgraded {settings.db_path()} from schema version {found} to {warehouse.SCHEMA_VERSION}.")
    else:
        out.print(f"{settings.db_path()} is up to date (schema version {found}); reference data and views "
                  "refreshed.")


@app.command()
def demo() -> None:
    """(Re)build the warehouse from the demo submissions in data/sample/ through the normal validate+load path."""
    from pipelines.demo_load import build_demo

    with _unusable_on(warehouse.WarehouseBusy):
        summary = build_demo(progress=_progress(), on_wait=_waiting(err.print))
    out.print(f"Demo warehouse built at {settings.db_path()}: {summary['loaded']} files loaded "
              f"({summary['submissions']} submissions, {summary['rows']:,} rows), {summary['rejected']} rejected, "
              f"in {summary['seconds']:.1f} s. Snapshot published at {settings.snapshot_path()}.")
    if summary["rejected"]:
        raise typer.Exit(1)


def _run_files(files: list[Path], report: Optional[ReportKind], agency: Optional[str], quarter: Optional[str],
               fmt: ReportFormat, load: bool, submitted_by: Optional[str]) -> None:
    _check_quarter(quarter)
    kind = report.value if report else None
    warehouse.NOTICES.clear()
    results, codes = [], []
    with _progress() as progress:
        task = progress.add_task("Validating" if not load else "Loading", total=len(files))
        for path in files:
            def stage(step: str, name: str = path.name) -> None:
                progress.update(task, description=f"{name}: {step}")

            stage("starting")
            if not path.exists():
                rep = Report(file=path.name)
                from pipelines.findings import Finding

                rep.add(Finding("file-not-found", f"No file at {path}."))
                results.append((rep, "unusable"))
                codes.append(2)
                progress.advance(task)
                continue
            if load:
                from pipelines.ingest import ingest_file

                with _unusable_on(warehouse.WarehouseBusy, warehouse.WarehouseTooNew, warehouse.DiskFull), \
                        _validation_connection() as reading:
                    outcome = ingest_file(path, reading=reading, kind=kind, agency=agency, quarter=quarter,
                                          submitted_by=submitted_by, on_stage=stage, on_wait=_waiting(stage),
                                          prepare=_prepare)
                rep, status = outcome.validated.report, outcome.status
                code = _exit_code(rep) if status == "rejected" else 0
                if status == "rejected" and code == 0:
                    code = 1
                if outcome.load.publish_error:
                    status, code = "loaded-unpublished", LOADED_UNPUBLISHED
                    err.print(f"[yellow]{escape(path.name)}: loaded; publication failed: "
                              f"{escape(outcome.load.publish_error)}; the snapshot is stale until the next "
                              "ingest or init (running this command again republishes; the load is not repeated)."
                              "[/yellow]", highlight=False, soft_wrap=True)
            else:
                from pipelines.validation import validate

                with _validation_connection() as reading:
                    rep = validate(path, kind=kind, agency=agency, quarter=quarter, con=reading,
                                   on_stage=stage).report
                status, code = None, _exit_code(rep)
            results.append((rep, status))
            codes.append(code)
            progress.advance(task)
    _notices()
    if fmt == ReportFormat.json:
        docs = [{**rep.as_dict(), **({"status": status} if status else {})} for rep, status in results]
        out.print_json(json.dumps(docs[0] if len(docs) == 1 else docs, default=str))
    else:
        for rep, status in results:
            print_report(rep, status)
    raise typer.Exit(max(codes))


FILES = typer.Argument(..., help="One or more CSV or XLSX report files.", show_default=False)
REPORT_OPT = typer.Option(None, "--report", help="Report kind; inferred from the header when omitted.")
AGENCY_OPT = typer.Option(None, "--agency", help="Agency id the file is for: a row naming another agency rejects "
                          "the file before any check reads the warehouse, and a rejection is recorded under this "
                          "agency (required for a header-only file; without it a file may hold many agencies).")
QUARTER_OPT = typer.Option(None, "--quarter", help="Quarter the file is for, YYYY-Qn.")
FORMAT_OPT = typer.Option(ReportFormat.text, "--format", help="text for people, json for programs.")


@app.command()
def validate(files: list[Path] = FILES, report: Optional[ReportKind] = REPORT_OPT, agency: Optional[str] = AGENCY_OPT,
             quarter: Optional[str] = QUARTER_OPT, format: ReportFormat = FORMAT_OPT) -> None:
    """Check files without loading them. Exit 0 valid (warnings allowed), 1 invalid, 2 unusable."""
    _run_files(files, report, agency, quarter, format, load=False, submitted_by=None)


@app.command()
def ingest(files: list[Path] = FILES, report: Optional[ReportKind] = REPORT_OPT, agency: Optional[str] = AGENCY_OPT,
           quarter: Optional[str] = QUARTER_OPT, format: ReportFormat = FORMAT_OPT,
           submitted_by: Optional[str] = typer.Option(None, "--submitted-by", help="Who submits the file.")) -> None:
    """Validate, then load each file in one transaction. Exit 0 loaded or unchanged, 1 rejected, 2 unusable."""
    _run_files(files, report, agency, quarter, format, load=True, submitted_by=submitted_by)


@app.command()
def query(sql: str = typer.Argument(..., help="One read-only SQL statement (named parameters: --param NAME=VALUE)."),
          format: TableFormat = typer.Option(TableFormat.table, "--format"),
          max_rows: Optional[int] = typer.Option(None, "--max-rows", help="At most this many rows "
                                                 "(default PEER_SQL_MAX_ROWS; may only lower it)."),
          timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds before the query is stopped "
                                                  "(default PEER_SQL_TIMEOUT_S; may only lower it)."),
          param: list[str] = typer.Option([], "--param", help="A named parameter's value, NAME=VALUE.")) -> None:
    """Run read-only SQL on the published snapshot (sandboxed). A refused statement exits 1 with the reason."""
    from pipelines import sandbox, sandbox_process

    max_rows = min(max_rows, settings.sql_max_rows()) if max_rows else settings.sql_max_rows()
    timeout = min(timeout, settings.sql_timeout_s()) if timeout else settings.sql_timeout_s()
    params = dict(p.split("=", 1) for p in param if "=" in p)
    _audit_query(sql, params)
    try:
        result = sandbox_process.run(sql, max_rows=max_rows, timeout_s=timeout, params=params)
    except sandbox.Refused as exc:
        err.print(f"[red]Refused:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    if format == TableFormat.csv:  # for spreadsheets: text that would run as a formula gets a leading '
        sys.stdout.write(csv_safe.csv_bytes(result.frame).decode())
    elif format == TableFormat.json:
        out.print_json(json.dumps(result.frame.to_dicts(), default=str))
    else:
        table = Table(*[escape(c) for c in result.columns])
        for r in result.rows:
            table.add_row(*["" if v is None else escape(str(v)) for v in r])
        out.print(table)
    if result.truncated:
        err.print(f"[yellow]{escape(result.notice or '')}[/yellow]", highlight=False, soft_wrap=True)


def _audit_query(sql: str, params: dict[str, str]) -> None:
    """Record the query in the audit trail as `cli:<user>`, as the workbench records its queries, before it
    runs. If the log cannot be written (its disk full, its turn not coming), the query still runs (the
    snapshot is readable with any DuckDB client anyway) and a warning says it was not recorded."""
    import getpass

    import duckdb

    from pipelines import audit

    detail = sql + (f" -- parameters: {dict(sorted(params.items()))}" if params else "")
    try:
        audit.record(None, f"cli:{getpass.getuser()}", "cli", "sql_query", "published snapshot", detail)
    except (duckdb.Error, OSError, warehouse.WarehouseBusy) as exc:
        err.print(f"[yellow]Not recorded in the audit trail ({escape(str(exc).splitlines()[0])}).[/yellow]",
                  highlight=False, soft_wrap=True)


@app.command()
def export(directory: Path = typer.Argument(..., help="Folder to write Parquet files into.")) -> None:
    """Write every table and view of the snapshot as Parquet (views materialised), with a schema README."""
    from pipelines.export import export_parquet

    with _unusable_on(FileNotFoundError):
        written = export_parquet(directory, progress=_progress())
    out.print(f"Wrote {len(written)} Parquet files to {directory}.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
