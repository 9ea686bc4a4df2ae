"""What agency spreadsheets really contain is read; what cannot be read is refused with the reason."""

from __future__ import annotations

import io
import zipfile

import polars as pl
import pytest

from pipelines.reading import Unreadable, read_file
from pipelines.validation import validate
from tests.conftest import clean_rows, csv_bytes


def _values(result, column):
    return result.typed[column].to_list()


@pytest.mark.parametrize("encode", [
    pytest.param(lambda t: t.encode("utf-8"), id="utf8"),
    pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), id="utf8-bom"),
    pytest.param(lambda t: t.encode("cp1252"), id="windows-1252"),
    pytest.param(lambda t: t.encode("utf-16"), id="utf16-bom"),
])
def test_encodings_are_read(con, encode):
    rows = clean_rows("billing")
    rows[1][3] = "MCO-Café"
    text = csv_bytes(rows).decode()
    result = validate("b.csv", encode(text), con=con)
    assert result.report.valid, result.report.as_dict()
    assert _values(result, "payer_id")[0] == "MCO-Café"


@pytest.mark.parametrize("delimiter,newline", [(",", "\r\n"), (";", "\n"), ("\t", "\r\n"), (",", "\r")])
def test_delimiters_and_line_endings(con, delimiter, newline):
    data = csv_bytes(clean_rows("headcount"), delimiter=delimiter, newline=newline)
    result = validate("h.csv", data, con=con)
    assert result.report.valid, result.report.as_dict()
    assert _values(result, "fte") == [4.5, 1.0, 9.5]


def test_headers_match_ignoring_case_spaces_and_underscores(con):
    rows = clean_rows("headcount")
    rows[0] = ["Agency ID", " QUARTER ", "Role", "Head Count", "Headcount Full-Time", "FTE", "Vacancies",
               "Trained Peer Supervisors", "primaryFunding"]
    result = validate("h.csv", csv_bytes(rows), con=con)
    assert result.report.valid, result.report.as_dict()
    assert _values(result, "headcount_fulltime") == [3, 1, 8]


def test_money_thousands_dates_and_code_case_are_normalised(con):
    rows = clean_rows("billing")
    rows[1][12], rows[1][13], rows[1][9] = "$16,650.00", "14,430", "900"
    rows[2][2] = "mco"
    result = validate("b.csv", csv_bytes(rows), con=con)
    assert result.report.valid, result.report.as_dict()
    assert _values(result, "amount_billed") == [16650.0, 1900.0]
    assert _values(result, "amount_paid") == [14430.0, 1805.0]
    assert _values(result, "payer_type") == ["MCO", "MCO"]
    cert = clean_rows("certification")
    cert[1][6], cert[1][7], cert[1][1] = "1/10/2025", "1/10/2027", "2026 q1"
    result = validate("c.csv", csv_bytes(cert), con=con)
    assert result.report.valid, result.report.as_dict()
    assert str(_values(result, "expiration_date")[0]) == "2027-01-10"
    assert _values(result, "quarter")[0] == "2026-Q1"


def test_trailing_and_blank_rows_are_ignored_and_rows_keep_file_numbers(con):
    data = csv_bytes(clean_rows("headcount")[:2] + [[""] * 9] + clean_rows("headcount")[2:] + [[""] * 9] * 3)
    data = data.replace(b"1,STATE_GF", b"1,STATE_GFX")  # a bad value in the row after the blank row
    report = validate("h.csv", data, con=con).report
    assert [(f.code, f.row) for f in report.errors] == [("value-not-allowed", 4)]
    assert report.rows == 3


def test_quoted_cells_with_line_breaks_keep_row_numbers(con):
    rows = clean_rows("billing")
    rows[1][3] = "MCO\nA"
    rows[2][2] = "HMO"
    report = validate("b.csv", csv_bytes(rows), con=con).report
    # a line break is not part of an id: the free-text rule names the cell where the quoted value starts
    assert sorted((f.code, f.row, f.column) for f in report.errors) == [("bad-format", 2, "payer_id"),
                                                                         ("value-not-allowed", 4, "payer_type")]


def test_xlsx_first_sheet(con, tmp_path):
    rows = clean_rows("certification")
    frame = pl.DataFrame(rows[1:], schema=rows[0], orient="row").with_columns(
        pl.col("training_hours").cast(pl.Float64), pl.col("issue_date").str.to_date(strict=False))
    path = tmp_path / "c.xlsx"
    frame.write_excel(path, worksheet="Q1")
    result = validate(path, con=con)
    assert result.report.valid, result.report.as_dict()
    assert _values(result, "peer_id") == ["P000001", "P000002", "P000003"]
    assert str(_values(result, "issue_date")[0]) == "2025-01-10"
    bad = frame.with_columns(pl.when(pl.col("peer_id") == "P000002").then(pl.lit("ACTIVE"))
                             .otherwise(pl.col("status")).alias("status"))
    bad.write_excel(path, worksheet="Q1")
    report = validate(path, con=con).report
    assert [(f.code, f.row, f.column) for f in report.errors] == [("value-not-allowed", 3, "status")]


def _zip(names):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(n, "x")
    return buf.getvalue()


@pytest.mark.parametrize("data,code", [
    (b"", "empty-file"),
    (b"\r\n \n\t\n", "empty-file"),
    (b"\x00\x01\x02binary\x00" * 10, "binary-file"),
    (b"%PDF-1.7 ...", "unsupported-format"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "unsupported-format"),
    (_zip(["a.txt"]), "unsupported-format"),
    (b"agency_id,quarter\n\x81\x8d\x8f\x90\x9d\n", "encoding-error"),
    (b",,,\n,,,\n", "no-header"),
])
def test_unreadable_files_are_refused_with_a_reason(data, code):
    with pytest.raises(Unreadable) as info:
        read_file("upload.csv", data)
    assert info.value.finding.code == code
    assert len(info.value.finding.message) > 30


def test_size_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("PEER_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(Unreadable) as info:
        read_file("big.csv", csv_bytes(clean_rows("billing")) * 20)
    assert info.value.finding.code == "file-too-large"
    assert "MB; the limit is 0.001 MB." in info.value.finding.message


def test_structure_findings(con):
    rows = clean_rows("headcount")
    rows[0][5] = "ftee"             # misspelled
    rows[0][6] = "vacancy_count"    # not close to anything: vacancies missing, extra column
    report = validate("h.csv", csv_bytes(rows), con=con).report
    found = {(f.code, f.column, f.severity) for f in report.findings}
    assert ("misspelled-column", "ftee", "error") in found
    assert ("missing-column", "vacancies", "error") in found
    assert ("extra-column", "vacancy_count", "warning") in found
    assert "did you mean 'fte'" in next(f.message for f in report.findings if f.code == "misspelled-column")


def test_duplicate_columns_and_ragged_rows(con):
    rows = [r + ["4.5"] for r in clean_rows("headcount")]
    rows[0][-1] = "FTE"
    report = validate("h.csv", csv_bytes(rows), con=con).report
    assert [f.code for f in report.errors] == ["duplicate-column"]
    data = csv_bytes(clean_rows("headcount")).replace(b"STATE_GF", b"STATE_GF,extra,cells").replace(
        b"9.5,2,,MEDICAID_FFS", b"9.5,2")
    report = validate("h.csv", data, con=con).report
    assert {(f.code, f.row) for f in report.errors} >= {("too-many-cells", 3), ("too-few-cells", 4)}


def test_report_kind_is_inferred_or_must_be_given(con):
    assert validate("x.csv", csv_bytes(clean_rows("retention")), con=con).kind == "retention"
    report = validate("x.csv", b"name,amount\nA,1\n", con=con).report
    assert [f.code for f in report.errors] == ["unknown-report"]
    report = validate("x.csv", csv_bytes(clean_rows("retention")), kind="billing", con=con).report
    assert [f.code for f in report.errors] == ["wrong-report"]


def test_header_only_file_needs_agency_and_quarter(con):
    header = csv_bytes(clean_rows("billing")[:1])
    assert [f.code for f in validate("b.csv", header, con=con).report.errors] == ["no-rows"]
    result = validate("b.csv", header, agency="AG0001", quarter="2026-Q1", con=con)
    assert result.report.valid and result.groups == [("AG0001", "2026-Q1")]


def test_rows_must_match_the_agency_given_with_the_upload(con):
    report = validate("b.csv", csv_bytes(clean_rows("billing")), agency="AG0002", con=con).report
    assert {(f.code, f.row, f.value) for f in report.errors} == {("agency-mismatch", 2, "AG0001"),
                                                                 ("agency-mismatch", 3, "AG0001")}


def test_agency_and_quarter_columns_may_come_from_the_upload(con):
    rows = [r[2:] for r in clean_rows("retention")]
    result = validate("r.csv", csv_bytes(rows), agency="AG0001", quarter="2026-Q1", con=con)
    assert result.report.valid, result.report.as_dict()
    assert set(result.typed["agency_id"]) == {"AG0001"}


@pytest.mark.parametrize("variant", ["plain", "bom", "cp1252", "cr-only", "crlf"])
def test_files_read_from_disk_match_uploads(con, write, monkeypatch, variant):
    """Big files are parsed straight from disk; whatever path is taken, the result is the same."""
    from pipelines import reading

    rows = clean_rows("billing")
    rows[1][3] = "MCO-Café"
    text = csv_bytes(rows, newline="\r\n" if variant == "crlf" else "\n").decode()
    data = {"bom": b"\xef\xbb\xbf" + text.encode(), "cp1252": text.encode("cp1252"),
            "cr-only": text.replace("\n", "\r").encode()}.get(variant, text.encode())
    path = write("b.csv", data)
    uploaded = validate("b.csv", data, con=con)
    monkeypatch.setattr(reading, "STREAM_FROM_DISK_BYTES", 0)
    from_disk = validate(path, con=con)
    assert from_disk.report.valid and uploaded.report.valid
    assert from_disk.report.sha256 == uploaded.report.sha256 == reading.sha256_of(data)
    assert from_disk.typed.equals(uploaded.typed)
    assert from_disk.typed["payer_id"][0] == "MCO-Café"


def test_padded_and_quoted_empty_cells_are_cleaned(con):
    rows = clean_rows("billing")
    rows[1][2], rows[1][3], rows[1][14] = " MCO\u00a0", "\tMCO-A ", "  85 "
    data = csv_bytes(rows).replace(b",,120", b',"",120')  # a quoted empty modifier
    result = validate("b.csv", data, con=con)
    assert result.report.valid, result.report.as_dict()
    assert (result.typed["payer_type"][0], result.typed["payer_id"][0], result.typed["modifier"][0],
            result.typed["unique_beneficiaries"][0]) == ("MCO", "MCO-A", None, 85)


def test_binary_byte_anywhere_makes_the_file_binary():
    with pytest.raises(Unreadable) as info:
        read_file("x.csv", csv_bytes(clean_rows("headcount")) + b"A" * 100_000 + b"\x00\n")
    assert info.value.finding.code == "binary-file"


def test_huge_cell_is_cut_in_the_finding(con):
    rows = clean_rows("headcount")
    rows[1][2] = "X" * 50_000
    finding = validate("h.csv", csv_bytes(rows), con=con).report.errors[0]
    assert finding.code == "value-not-allowed" and finding.row == 2
    assert len(finding.value) == 121 and finding.value.endswith("…") and len(finding.message) < 400


def test_unnamed_column_with_values_and_optional_column_missing(con):
    rows = [r[:3] + ["x"] + r[3:] for r in clean_rows("headcount")]
    rows[0][3] = ""
    report = validate("h.csv", csv_bytes(rows), con=con).report
    assert [(f.code, f.row, f.column) for f in report.errors] == [("blank-header", 1, "D")]
    rows = [r + ["x"] for r in clean_rows("headcount")]
    rows[0][-1] = ""  # values past the last named column
    report = validate("h.csv", csv_bytes(rows), con=con).report
    assert [(f.code, f.row) for f in report.errors] == [("too-many-cells", 2), ("too-many-cells", 3),
                                                        ("too-many-cells", 4)]
    rows = [r[:7] + r[8:] for r in clean_rows("headcount")]  # no trained_peer_supervisors column
    report = validate("h.csv", csv_bytes(rows), con=con).report
    assert report.valid
    assert [(f.code, f.column, f.severity) for f in report.findings] == [
        ("missing-column", "trained_peer_supervisors", "warning")]


def test_rows_must_match_the_quarter_given_with_the_upload(con):
    report = validate("b.csv", csv_bytes(clean_rows("billing")), quarter="2025-Q4", con=con).report
    assert {(f.code, f.row, f.value) for f in report.errors} == {("quarter-mismatch", 2, "2026-Q1"),
                                                                 ("quarter-mismatch", 3, "2026-Q1")}


def test_a_title_above_the_header_is_skipped_and_rows_keep_file_numbers(con):
    rows = clean_rows("headcount")
    title = [["Fairstead Recovery Center - peer headcount, 2026 Q1"] + [""] * 8, [""] * 9, ["Prepared by J. Doe"]
             + [""] * 8]
    data = csv_bytes(title + rows).replace(b"1,STATE_GF", b"1,STATE_GFX")  # a bad value in the second data row
    result = validate("h.csv", data, con=con)
    assert "Skipped rows 1-3 above the header (row 4)." in result.report.notes
    assert [(f.code, f.row) for f in result.report.errors] == [("value-not-allowed", 6)]
    assert result.report.rows == len(rows) - 1


def test_without_a_recognisable_header_nothing_is_skipped(con):
    data = csv_bytes([["Peer headcount"], ["just", "some", "text"]])
    report = validate("h.csv", data, con=con).report
    assert [f.code for f in report.errors] == ["unknown-report"] and "Peer headcount" in report.errors[0].message
    assert not any("Skipped" in n for n in report.notes)


def test_a_header_pasted_again_further_down_is_skipped_with_a_warning(con):
    rows = clean_rows("headcount")
    first, second = rows[:3], [rows[0]] + rows[3:]  # two exports of the same report, pasted one under the other
    result = validate("h.csv", csv_bytes(first + second), con=con)
    assert [(f.code, f.row, f.severity) for f in result.report.findings] == [("repeated-header", 4, "warning")]
    assert result.report.valid and result.typed.height == len(rows) - 1
    assert result.typed["__row"].to_list() == [2, 3, 5]


def test_a_quote_never_closed_is_named_at_the_row_where_it_opens(con):
    rows = clean_rows("billing")
    rows[2][3] = "MCO-QUOTE"
    data = csv_bytes(rows).replace(b"MCO-QUOTE", b'"MCO-B')  # row 3 opens a quote that runs to the end of the file
    report = validate("b.csv", data, con=con).report
    assert [(f.code, f.row) for f in report.errors] == [("unclosed-quote", 3)]
    assert "never closed" in report.errors[0].message and report.rows == 1


def test_a_stray_quote_inside_a_cell_is_kept_as_text(con):
    rows = clean_rows("billing")
    data = csv_bytes(rows).replace(b"MCO-A", b'MCO-A 5"', 1)
    result = validate("b.csv", data, con=con)
    assert result.report.valid and result.report.findings == []
    assert result.typed["payer_id"][0] == 'MCO-A 5"'


def test_a_workbook_with_a_title_above_the_table_is_read(con, tmp_path):
    import xlsxwriter

    rows = clean_rows("certification")
    frame = pl.DataFrame(rows[1:], schema=rows[0], orient="row").with_columns(
        pl.col("training_hours").cast(pl.Float64), pl.col("issue_date").str.to_date(strict=False))
    path = tmp_path / "c.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("Q1")
        sheet.write("A1", "Peer certification roster, 2026 Q1")
        frame.write_excel(book, worksheet=sheet, position="A3")
    result = validate(path, con=con)
    assert result.report.valid, result.report.as_dict()
    assert "Skipped rows 1-2 above the header (row 3)." in result.report.notes
    assert result.typed["__row"].to_list() == [4, 5, 6]
