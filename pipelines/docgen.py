"""Generated files: report templates, the data dictionary, the GX suites and the metric definitions.

`python -m pipelines.docgen` rewrites them all; tests fail when a committed copy drifts from these.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pipelines.contracts import REFERENCE, REPORTS, Contract, number_text
from pipelines.settings import ROOT, TEMPLATE_DIR

DICTIONARY = ROOT / "docs" / "data-dictionary.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"


def template_csv(contract: Contract) -> str:
    """A blank report: the header row only, in contract order."""
    return ",".join(contract.names) + "\n"


XLSX_CREATED = dt.datetime(2026, 1, 1)
"""A fixed creation time so a regenerated workbook is byte for byte the committed one."""


def template_xlsx(contract: Contract) -> bytes:
    """A blank report as an Excel workbook: sheet 1 holds the header row only (the sheet the reader reads);
    sheet 2, "Columns", says what each column holds and which values are allowed."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.set_properties({"title": f"{contract.title} template", "created": XLSX_CREATED})
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    report = book.add_worksheet(contract.name)
    for i, name in enumerate(contract.names):
        report.write_string(0, i, name, bold)
        report.set_column(i, i, max(12, len(name) + 2), text)  # typed cells stay text: ids keep leading zeros
    report.freeze_panes(1, 0)
    about = book.add_worksheet("Columns")
    heads = ["column", "type", "unit", "rules", "description", "example"]
    for i, head in enumerate(heads):
        about.write_string(0, i, head, bold)
    for r, col in enumerate(contract.columns, start=1):
        for i, value in enumerate((col.name, col.type, col.unit, _rules(col).replace("`", ""), col.description,
                                   col.example)):
            about.write_string(r, i, str(value or ""))
    about.set_column(0, 0, 28)
    about.set_column(3, 4, 60)
    book.close()
    return buf.getvalue()


def _rules(col) -> str:
    parts = ["required" if col.required else "optional"]
    if col.allowed:
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.allowed))
    if col.min is not None:
        parts.append(f">= {number_text(col.min)}")
    if col.max is not None:
        parts.append(f"<= {number_text(col.max)}")
    if col.pattern:
        parts.append(f"format `{col.pattern}`")
    return "; ".join(parts)


def _table(contract: Contract) -> list[str]:
    lines = ["| column | type | unit | rules | description | example |", "|---|---|---|---|---|---|"]
    for col in contract.columns:
        lines.append(f"| `{col.name}` | {col.type} | {col.unit} | {_rules(col)} | {col.description} | "
                     f"{col.example} |")
    return lines


def data_dictionary() -> str:
    lines = ["# Data dictionary", "",
             "Generated from `pipelines/contracts.py` by `python -m pipelines.docgen`; do not edit by hand.", "",
             "Every report file has a header row with these column names (case, spaces and underscores in "
             "headers are ignored). Blank templates are in `data/templates/`. Numbers may carry `$` and "
             "thousands separators; dates may be written `YYYY-MM-DD` or `M/D/YYYY`.", "",
             "## Reports", "",
             "Four quarterly reports and the semiannual integration practices self-assessment (`practices`, due "
             "in the quarters the `practices_due_quarters` policy setting names, by default Q2 and Q4).", ""]
    for contract in REPORTS.values():
        key = ", ".join(("agency_id", "quarter", *contract.key))
        lines += [f"### {contract.title} (`{contract.name}`)", "", contract.description,
                  f"One row per ({key}).", "", *_table(contract), ""]
    lines += ["The value rules beyond single columns (for example `headcount_fulltime <= headcount`) are listed "
              "in `expectations/<report>.json`; reference and cross-report checks in `pipelines/checks.py`.", "",
              "## Reference tables (maintained by the state, `data/reference/`)", ""]
    for contract in REFERENCE.values():
        lines += [f"### {contract.title} (`{contract.name}`)", "", contract.description, "", *_table(contract), ""]
    return "\n".join(lines)


def expected_files() -> dict[Path, str]:
    """Every generated file and its expected content (suites excluded: they need GX to build)."""
    from pipelines import metrics

    files = {TEMPLATE_DIR / f"{c.name}.csv": template_csv(c) for c in REPORTS.values()}
    files[DICTIONARY] = data_dictionary()
    files[METRICS_DOC] = metrics.metrics_markdown()
    return files


def expected_binary_files() -> dict[Path, bytes]:
    """Generated files that are not text: the Excel templates."""
    return {TEMPLATE_DIR / f"{c.name}.xlsx": template_xlsx(c) for c in REPORTS.values()}


def main() -> None:
    from pipelines import suites

    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    for path, content in expected_binary_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"wrote {path.relative_to(ROOT)}")
    for path in suites.write_suites():
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
