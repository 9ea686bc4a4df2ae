"""Structure checks: which report a header belongs to, and which file column holds each contract column."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from pipelines.contracts import REPORTS, Contract
from pipelines.findings import WARNING, Finding, column_letter

IDENTITY = ("agency_id", "quarter")


def normalize(name: str) -> str:
    """Header key ignoring case, spaces, underscores, hyphens and dots ('Headcount Full-Time' ~ headcount_fulltime)."""
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


def infer_report(headers: list[str]) -> str | None:
    """The report whose columns best match the header, if one clearly does."""
    keys = {normalize(h) for h in headers}
    scores = {}
    for kind, contract in REPORTS.items():
        own = {normalize(c) for c in contract.names if c not in IDENTITY}
        scores[kind] = len(keys & own) / len(own)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, score = ranked[0]
    if score >= 0.5 and score > ranked[1][1]:
        return best
    return None


@dataclass
class ColumnMap:
    """Contract column -> position in the file (c0, c1, ...); None for a column the file lacks."""

    positions: dict[str, str | None]
    findings: list[Finding] = field(default_factory=list)


def map_columns(headers: list[str], contract: Contract, provided: set[str]) -> ColumnMap:
    """Match headers to the contract; `provided` are columns the upload supplies (agency, quarter)."""
    findings: list[Finding] = []
    by_key: dict[str, int] = {}
    for i, header in enumerate(headers):
        key = normalize(header)
        if not key:
            findings.append(Finding("blank-header", f"Column {column_letter(i)} has no name in the header row but "
                                    "holds values. Name it or delete the column.", row=1,
                                    column=column_letter(i)))
            continue
        if key in by_key:
            first = by_key[key]
            findings.append(Finding("duplicate-column", f"Columns {column_letter(first)} and {column_letter(i)} are "
                                    f"both '{header}'. Keep one of them.", row=1, column=header, value=header))
            continue
        by_key[key] = i
    expected = {normalize(c.name): c for c in contract.columns}
    positions: dict[str, str | None] = {}
    for key, col in expected.items():
        positions[col.name] = f"c{by_key[key]}" if key in by_key else None
    unmatched = {k: i for k, i in by_key.items() if k not in expected}
    for col in contract.columns:
        if positions[col.name] is not None or col.name in provided:
            continue
        guess = difflib.get_close_matches(normalize(col.name), list(unmatched), n=1, cutoff=0.75)
        if guess:
            i = unmatched.pop(guess[0])
            findings.append(Finding("misspelled-column", f"Column {column_letter(i)} is '{headers[i]}'; did you "
                                    f"mean '{col.name}'? Rename the header to '{col.name}'.", row=1,
                                    column=headers[i], value=headers[i]))
        elif col.required:
            findings.append(Finding("missing-column", f"The {contract.title.lower()} report needs a column "
                                    f"'{col.name}' ({col.description}) Add it to the header row.", column=col.name))
        else:
            findings.append(Finding("missing-column", f"Optional column '{col.name}' is missing; its values are "
                                    "taken as empty.", column=col.name, severity=WARNING))
    for key, i in unmatched.items():
        findings.append(Finding("extra-column", f"Column {column_letter(i)} '{headers[i]}' is not part of the "
                                f"{contract.title.lower()} report and was ignored.", row=1, column=headers[i],
                                value=headers[i], severity=WARNING))
    return ColumnMap(positions, findings)
