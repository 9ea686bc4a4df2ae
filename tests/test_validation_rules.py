"""Every validation rule fires with its code, the row as numbered in the file, and the column."""

from __future__ import annotations

import pytest

from pipelines.validation import validate
from tests.conftest import clean_rows, csv_bytes


def _cell(rows, data_row: int, column: str, value: str) -> list[list[str]]:
    rows[data_row][rows[0].index(column)] = value
    return rows


@pytest.mark.parametrize("kind", ["headcount", "certification", "billing", "retention"])
def test_clean_file_passes_with_no_findings(con, kind):
    result = validate(f"{kind}.csv", csv_bytes(clean_rows(kind)), con=con)
    assert result.report.findings == []
    assert result.report.valid and result.kind == kind
    assert result.typed.height == len(clean_rows(kind)) - 1


# (report, data row (1 = first row after the header), column, new value, code, column reported)
CELL_RULES = [
    ("headcount", 1, "headcount", "", "missing-value", "headcount"),
    ("headcount", 1, "role", "PEER_COACH", "value-not-allowed", "role"),
    ("headcount", 2, "vacancies", "-2", "out-of-range", "vacancies"),
    ("headcount", 1, "agency_id", "A-17", "bad-format", "agency_id"),
    ("headcount", 3, "role", "PEER_RECOVERY_SUD", "duplicate-row", "role"),
    ("headcount", 1, "headcount_fulltime", "9", "fulltime-exceeds-headcount", "headcount_fulltime"),
    ("headcount", 1, "fte", "6.5", "fte-exceeds-headcount", "fte"),
    ("headcount", 1, "trained_peer_supervisors", "2", "supervisor-count-on-wrong-role", "trained_peer_supervisors"),
    ("headcount", 2, "trained_peer_supervisors", "3", "trained-supervisors-exceed-headcount",
     "trained_peer_supervisors"),
    ("headcount", 1, "fte", "four", "type-error", "fte"),
    ("headcount", 1, "headcount", "5.5", "type-error", "headcount"),
    ("headcount", 1, "headcount", "NaN", "type-error", "headcount"),
    ("billing", 1, "amount_paid", "inf", "type-error", "amount_paid"),
    ("headcount", 1, "headcount", "1e308", "type-error", "headcount"),  # whole, but no count: not an Int64 either
    ("billing", 1, "units_billed", "9223372036854775807", "type-error", "units_billed"),
    ("headcount", 2, "vacancies", "250000", "out-of-range", "vacancies"),
    ("billing", 1, "amount_billed", "1e20", "out-of-range", "amount_billed"),
    ("headcount", 1, "agency_id", "AG0999", "unknown-agency", "agency_id"),
    ("headcount", 1, "quarter", "2026-Q4", "future-quarter", "quarter"),
    ("headcount", 1, "primary_funding", "LOTTERY", "value-not-allowed", "primary_funding"),
    ("certification", 1, "expiration_date", "2026-02-15", "certified-but-expired", "expiration_date"),
    ("certification", 1, "expiration_date", "", "certified-without-expiration", "expiration_date"),
    ("certification", 3, "expiration_date", "2025-10-01", "expiration-before-issue", "expiration_date"),
    ("certification", 2, "peer_id", "P000001", "duplicate-row", "peer_id"),
    ("certification", 1, "credential_code", "XYZ", "unknown-credential", "credential_code"),
    ("certification", 1, "status", "ACTIVE", "value-not-allowed", "status"),
    ("certification", 1, "peer_id", "Jane Doe", "bad-format", "peer_id"),
    ("certification", 1, "training_hours", "5000", "out-of-range", "training_hours"),
    ("certification", 1, "issue_date", "31/1/2025", "type-error", "issue_date"),
    ("billing", 1, "claims_denied", "30", "claims-exceed-submitted", "claims_submitted"),
    ("billing", 1, "units_denied", "200", "units-exceed-billed", "units_billed"),
    ("billing", 1, "unique_beneficiaries", "901", "beneficiaries-exceed-units", "unique_beneficiaries"),
    ("billing", 1, "amount_paid", "-5", "out-of-range", "amount_paid"),
    ("billing", 1, "hcpcs", "H9999", "unknown-billing-code", "hcpcs"),
    ("billing", 1, "hcpcs", "H2015", "billing-code-not-effective", "hcpcs"),
    ("billing", 1, "payer_type", "MEDICARE", "value-not-allowed", "payer_type"),
    ("billing", 2, "modifier", "", "duplicate-row", "payer_type"),
    ("retention", 1, "event_date", "2025-12-31", "event-outside-quarter", "event_date"),
    ("retention", 1, "event_date", "2026-04-01", "event-outside-quarter", "event_date"),
    ("retention", 2, "hire_date", "2026-03-02", "hire-after-event", "hire_date"),
    ("retention", 2, "separation_reason", "", "separation-detail-missing", "separation_reason"),
    ("retention", 1, "separation_type", "VOLUNTARY", "separation-detail-not-allowed", "separation_type"),
    ("retention", 1, "hourly_wage_band", "$19", "value-not-allowed", "hourly_wage_band"),
    ("retention", 1, "event", "TRANSFER", "value-not-allowed", "event"),
    # dates: only four-digit years, within 1950 .. five years after the as-of date, no future issue or hire dates
    ("certification", 1, "issue_date", "1/10/25", "type-error", "issue_date"),
    ("certification", 1, "issue_date", "12/30/1899", "type-error", "issue_date"),
    ("certification", 1, "issue_date", "0001-01-01", "type-error", "issue_date"),
    ("certification", 1, "expiration_date", "2040-01-10", "type-error", "expiration_date"),
    ("certification", 1, "issue_date", "2026-12-01", "issue-date-in-future", "issue_date"),
    ("retention", 1, "hire_date", "25-02-10", "type-error", "hire_date"),
    # free text: no formulas, control or bidi characters, spreadsheet errors, or ids too long to be ids
    ("billing", 1, "payer_id", '=HYPERLINK("http://x","y")', "bad-format", "payer_id"),
    ("billing", 1, "payer_id", "-2+3", "bad-format", "payer_id"),
    ("billing", 1, "payer_id", "MCO\x07A", "bad-format", "payer_id"),
    ("billing", 1, "payer_id", "\u202eA-OCM", "bad-format", "payer_id"),
    ("billing", 1, "payer_id", "#VALUE!", "bad-format", "payer_id"),
    ("billing", 1, "payer_id", "M" * 65, "bad-format", "payer_id"),
    ("certification", 1, "credential_code", "@CPRS", "bad-format", "credential_code"),
    ("billing", 1, "modifier", "ZZ", "unknown-billing-code", "modifier"),
    ("headcount", 1, "quarter", "Total", "bad-format", "quarter"),
]


@pytest.mark.parametrize("kind,data_row,column,value,code,reported", CELL_RULES,
                         ids=[f"{r[0]}-{r[4]}-{r[2]}" for r in CELL_RULES])
def test_rule_fires_at_row_and_column(con, kind, data_row, column, value, code, reported):
    rows = _cell(clean_rows(kind), data_row, column, value)
    report = validate(f"{kind}.csv", csv_bytes(rows), con=con).report
    hits = [f for f in report.errors if f.code == code]
    assert hits, f"expected {code}, got {[(f.code, f.row, f.column) for f in report.findings]}"
    assert (data_row + 1, reported) in {(f.row, f.column) for f in hits}
    assert not report.valid


def test_duplicate_row_points_at_both_copies(con):
    rows = clean_rows("headcount")
    rows[3][2] = "PEER_RECOVERY_SUD"
    report = validate("h.csv", csv_bytes(rows), con=con).report
    assert sorted(f.row for f in report.errors if f.code == "duplicate-row") == [2, 4]


def test_agency_inactive_in_quarter(con):
    rows = _cell(clean_rows("headcount"), 1, "agency_id", "AG0003")  # closed 2025-06-30
    for r in rows[1:]:
        r[0] = "AG0003"
    report = validate("h.csv", csv_bytes(rows), con=con).report
    assert {(f.code, f.row, f.column) for f in report.errors} == {("agency-inactive", n, "quarter") for n in (2, 3, 4)}


def test_finding_carries_the_bad_value_and_a_fix(con):
    rows = _cell(clean_rows("headcount"), 1, "role", "PEER_COACH")
    finding = validate("h.csv", csv_bytes(rows), con=con).report.errors[0]
    assert finding.value == "PEER_COACH"
    assert "PEER_COACH" in finding.message and "Use one of" in finding.message and "Row 2" in finding.message


def test_an_implausible_amount_names_the_bound_as_people_write_it(con):
    rows = _cell(clean_rows("billing"), 1, "amount_paid", "$1,250,000,000.00")
    [finding] = [f for f in validate("b.csv", csv_bytes(rows), con=con).report.errors if f.code == "out-of-range"]
    assert (finding.row, finding.column, finding.value) == (2, "amount_paid", 1_250_000_000.0)
    assert "between 0 and 1,000,000,000" in finding.message


def test_type_error_is_not_reported_twice_as_missing(con):
    rows = _cell(clean_rows("headcount"), 1, "headcount", "five")
    report = validate("h.csv", csv_bytes(rows), con=con).report
    assert [(f.code, f.row, f.column, f.value) for f in report.errors if f.column == "headcount"] == [
        ("type-error", 2, "headcount", "five")]


class TestCrossReport:
    """Cross-report checks compare the upload with what the warehouse already holds."""

    def _load(self, con, kind, rows):
        from pipelines.ingest import ingest

        outcome = ingest(con, f"{kind}.csv", csv_bytes(rows), publish=False)
        assert outcome.status == "loaded", outcome.validated.report.as_dict()

    def test_billing_without_certified_peer_is_an_error(self, con):
        cert = clean_rows("certification")
        for r in cert[1:]:
            r[5], r[4], r[6], r[7] = "IN_TRAINING", "NONE", "", ""
        self._load(con, "certification", cert)
        report = validate("b.csv", csv_bytes(clean_rows("billing")), con=con).report
        hit = [f for f in report.errors if f.code == "billing-without-certified-peer"]
        assert [(f.row, f.column, f.value) for f in hit] == [(2, "units_billed", 1300)]

    def test_billing_precondition_is_a_warning_when_policy_allows(self, con):
        con.execute("update policy set value = 'false' where setting = 'certification_required_for_billing'")
        cert = clean_rows("certification")
        for r in cert[1:]:
            r[5], r[4], r[6], r[7] = "IN_TRAINING", "NONE", "", ""
        self._load(con, "certification", cert)
        report = validate("b.csv", csv_bytes(clean_rows("billing")), con=con).report
        assert report.valid and [f.code for f in report.warnings] == ["billing-without-certified-peer"]

    def test_units_per_fte_over_ceiling_warns(self, con):
        hc = clean_rows("headcount")
        hc[1][5] = "0.5"  # 1,300 units / 0.5 peer FTE = 2,600 a quarter
        self._load(con, "headcount", hc)
        report = validate("b.csv", csv_bytes(clean_rows("billing")), con=con).report
        assert report.valid
        assert [(f.code, f.row, f.value) for f in report.warnings] == [("units-per-fte-high", 2, 1300)]

    def test_family_code_at_agency_not_serving_children_warns(self, con):
        rows = clean_rows("billing")
        rows[2][4], rows[2][5] = "T1016", "HS"
        report = validate("b.csv", csv_bytes(rows), con=con).report
        assert [(f.code, f.row, f.column) for f in report.warnings] == [
            ("family-youth-code-adult-agency", 3, "hcpcs")]

    def test_headcount_flow_mismatch_warns(self, con):
        prior = clean_rows("headcount")
        for r in prior[1:]:
            r[1] = "2025-Q4"
        prior[1][3], prior[1][4], prior[1][5] = "20", "10", "15"  # 20 peers last quarter
        self._load(con, "headcount", prior)
        self._load(con, "retention", clean_rows("retention"))  # +1 hire -1 separation
        report = validate("h.csv", csv_bytes(clean_rows("headcount")), con=con).report  # 5 peers now
        assert report.valid
        assert [(f.code, f.row, f.value) for f in report.warnings] == [("headcount-flow-mismatch", 2, 5)]

    def test_certification_count_must_match_headcount(self, con):
        hc = clean_rows("headcount")
        hc[1][3], hc[1][4], hc[1][5] = "12", "6", "10"
        self._load(con, "headcount", hc)
        report = validate("c.csv", csv_bytes(clean_rows("certification")), con=con).report
        assert [(f.code, f.value) for f in report.warnings] == [("certification-headcount-mismatch", 3)]


def test_stages_are_announced_in_order_for_progress_displays(con):
    from pipelines.ingest import ingest

    seen: list[str] = []
    outcome = ingest(con, "h.csv", csv_bytes(clean_rows("headcount")), on_stage=seen.append, publish=False)
    assert outcome.status == "loaded"
    assert seen == ["reading", "checking types", "applying the rules", "cross-checking", "done", "loading"]
    assert set(outcome.validated.timings) == {"read", "types", "rules", "checks"}


def test_a_malformed_quarter_is_reported_as_written_and_cross_checks_still_run(con):
    rows = clean_rows("headcount") + [["AG0001", "#N/A", "PEER_SPECIALIST_MH", "1", "1", "1", "0", "", "STATE_GF"],
                                      ["AG0001", "Total", "", "16", "12", "15", "3", "", ""]]
    report = validate("h.csv", csv_bytes(rows), con=con).report
    bad = {(f.row, f.value) for f in report.errors if f.code == "bad-format" and f.column == "quarter"}
    assert bad == {(5, "#N/A"), (6, "Total")}


def test_plausible_dates_keep_their_value(con):
    rows = _cell(clean_rows("certification"), 1, "issue_date", "1/10/2025")
    result = validate("c.csv", csv_bytes(rows), con=con)
    assert result.report.valid
    assert str(result.typed["issue_date"][0]) == "2025-01-10"
