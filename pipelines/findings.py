"""Validation findings and the report that collects them (JSON shape fixed by DESIGN.md)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
LONGEST_VALUE = 120
"""Longer cell values are cut in findings (a 2 MB cell should not become a 2 MB message)."""


@dataclass
class Finding:
    """One problem: a stable kebab-case code, the row as numbered in the user's file (header = 1)."""

    code: str
    message: str
    row: int | None = None
    column: str | None = None
    value: Any = None
    severity: str = ERROR

    def __post_init__(self) -> None:
        if isinstance(self.value, str) and len(self.value) > LONGEST_VALUE:
            short = self.value[:LONGEST_VALUE] + "…"
            self.message = self.message.replace(self.value, short)
            self.value = short

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        del d["severity"]
        return d


def column_letter(index: int) -> str:
    """Spreadsheet letter for a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Report:
    """Everything known about one file after reading and validating it."""

    file: str
    sha256: str = ""
    report: str | None = None
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    truncated: dict[str, int] = field(default_factory=dict)
    """Per code: how many findings exist beyond those listed (only counts are kept past the cap)."""

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Findings per code, including those past the listing cap."""
        c = Counter(f.code for f in self.findings)
        for code, extra in self.truncated.items():
            c[code] += extra
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    def severity_of(self, code: str) -> str:
        return next((f.severity for f in self.findings if f.code == code), ERROR)

    def as_dict(self) -> dict[str, Any]:
        def ordered(items: list[Finding]) -> list[dict[str, Any]]:
            return [f.as_dict() for f in sorted(items, key=lambda f: (f.row or 0, f.column or "", f.code))]

        return {
            "valid": self.valid,
            "file": self.file,
            "sha256": self.sha256,
            "report": self.report,
            "rows": self.rows,
            "counts": self.counts(),
            "errors": ordered(self.errors),
            "warnings": ordered(self.warnings),
            "notes": self.notes,
        }
