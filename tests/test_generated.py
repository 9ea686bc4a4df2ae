"""Generated files never drift from their sources; GX suites round-trip; rejected samples fail as documented."""

from __future__ import annotations

import json

import pytest

from pipelines import docgen, suites
from pipelines.contracts import REPORTS
from pipelines.settings import SAMPLE_DIR
from pipelines.validation import validate


@pytest.mark.parametrize("path,text", list(docgen.expected_files().items()), ids=lambda v: getattr(v, "name", ""))
def test_committed_generated_file_is_current(path, text):
    assert path.read_text() == text, f"{path} is stale: run `make docs`"


@pytest.mark.parametrize("kind", list(REPORTS))
def test_suite_json_is_current_and_round_trips_through_gx(kind):
    committed = json.loads(suites.suite_path(kind).read_text())
    assert committed == json.loads(json.dumps(suites.build_suite(kind))), "run `make docs`"
    loaded = suites.load_suite(kind)
    assert loaded.to_json_dict() == committed  # a GX upgrade that changes the format fails here
    assert len(loaded.expectations) == len(committed["expectations"])
    codes = {e["meta"]["code"] for e in committed["expectations"]}
    assert {"missing-value", "duplicate-row"} <= codes


def test_templates_are_header_only_and_accepted_as_nothing_to_report(con):
    for kind in REPORTS:
        template = docgen.TEMPLATE_DIR / f"{kind}.csv"
        result = validate(template, kind=kind, agency="AG0001", quarter="2026-Q1", con=con)
        assert result.report.valid and result.typed.height == 0, kind


REJECTED = {
    "headcount_two_mistakes.csv": {("fulltime-exceeds-headcount", 2, "headcount_fulltime"),
                                   ("value-not-allowed", 4, "role")},
    "certification_expired_and_duplicate.csv": {("duplicate-row", 2, "peer_id"), ("duplicate-row", 4, "peer_id"),
                                                ("certified-but-expired", 3, "expiration_date")},
    "billing_retired_code.csv": {("billing-code-not-effective", 2, "hcpcs"),
                                 ("claims-exceed-submitted", 3, "claims_submitted")},
    "retention_misspelled_column.csv": {("misspelled-column", 1, "event_dte")},
    "headcount_future_quarter_unknown_agency.csv": {("future-quarter", 2, "quarter"),
                                                    ("unknown-agency", 3, "agency_id")},
    "scanned_report.pdf": {("unsupported-format", None, None)},
}


def test_every_rejected_sample_is_listed():
    assert {p.name for p in (SAMPLE_DIR / "rejected").iterdir()} == set(REJECTED)


@pytest.mark.parametrize("name", list(REJECTED))
def test_rejected_samples_fail_for_their_documented_reasons(name, monkeypatch):
    import duckdb

    from pipelines import warehouse

    monkeypatch.setenv("PEER_AS_OF", "2026-11-15")
    con = duckdb.connect(":memory:")
    warehouse.init(con)  # the demo reference data
    report = validate(SAMPLE_DIR / "rejected" / name, con=con).report
    assert {(f.code, f.row, f.column) for f in report.errors} == REJECTED[name]


@pytest.mark.parametrize("path,content", list(docgen.expected_binary_files().items()),
                         ids=lambda v: getattr(v, "name", ""))
def test_committed_excel_template_is_current(path, content):
    assert path.read_bytes() == content, f"{path} is stale: run `make docs`"


def test_excel_templates_are_header_only_and_accepted_as_nothing_to_report(con):
    from pipelines.reading import read_file

    for kind, contract in REPORTS.items():
        template = docgen.TEMPLATE_DIR / f"{kind}.xlsx"
        raw = read_file(template)
        assert raw.headers == contract.names and raw.frame.height == 0, kind
        result = validate(template, kind=kind, agency="AG0001", quarter="2026-Q1", con=con)
        assert result.report.valid and result.typed.height == 0, kind
        inferred = validate(template, agency="AG0001", quarter="2026-Q1", con=con)  # the header says the report
        assert inferred.kind == kind and inferred.report.valid, kind
