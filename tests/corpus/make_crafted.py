"""Write the crafted corpus files (tests/corpus/crafted/): each reproduces one kind of file agencies send.

Run `python tests/corpus/make_crafted.py` to rewrite them; the files are committed, so tests never depend on
this script's output changing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HERE = Path(__file__).parent / "crafted"

BILLING = ("agency_id,quarter,payer_type,payer_id,hcpcs,modifier,claims_submitted,claims_paid,claims_denied,"
           "units_billed,units_paid,units_denied,amount_billed,amount_paid,unique_beneficiaries")
HEADCOUNT = ("agency_id,quarter,role,headcount,headcount_fulltime,fte,vacancies,trained_peer_supervisors,"
             "primary_funding")
CERT = ("agency_id,quarter,peer_id,role,credential_code,status,issue_date,expiration_date,training_hours,"
        "supervised_hours,ce_hours_cycle")
HC_ROWS = ["AG0001,2026-Q1,PEER_RECOVERY_SUD,5,3,4.5,1,,MEDICAID_MCO",
           "AG0001,2026-Q1,PEER_SUPERVISOR,1,1,1,0,1,STATE_GF",
           "AG0001,2026-Q1,CLINICAL_LICENSED,10,8,9.5,2,,MEDICAID_FFS"]


def billing_row(payer_id: str = "MCO-A", modifier: str = "", quarter: str = "2026-Q1") -> str:
    return f"AG0001,{quarter},MCO,{payer_id},H0038,{modifier},120,100,12,900,780,90,1650.00,1430.00,85"


def cert_row(peer: str, issue: str, expiration: str, status: str = "CERTIFIED_ACTIVE") -> str:
    return f"AG0001,2026-Q1,{peer},PEER_RECOVERY_SUD,CPRS,{status},{issue},{expiration},46,500,10"


def text(name: str, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> None:
    (HERE / name).write_bytes((newline.join(lines) + newline).encode(encoding))


def main() -> None:
    HERE.mkdir(exist_ok=True)
    # quarter cells that are not quarters, in files big enough to have several groups
    text("billing_quarter_na.csv", [BILLING, billing_row(), billing_row("#N/A", quarter="#N/A"),
                                    billing_row("MCO-B", quarter="2026-Q1")])
    text("headcount_total_row.csv", [HEADCOUNT, *HC_ROWS, "AG0001,Total,,16,12,15,3,,"])
    text("headcount_second_header_title_case.csv", [HEADCOUNT, *HC_ROWS[:2], "Agency Id,Quarter,Role,Headcount,"
         "Headcount Fulltime,FTE,Vacancies,Trained Peer Supervisors,Primary Funding", HC_ROWS[2]])
    # two files saved by Excel as "CSV UTF-8" and pasted together: a BOM where the second one starts
    part1 = "\ufeff" + "\r\n".join([HEADCOUNT, *HC_ROWS[:2]]) + "\r\n"
    part2 = "\ufeff" + "\r\n".join([HEADCOUNT, HC_ROWS[2]]) + "\r\n"
    (HERE / "headcount_two_excel_csv_utf8_files.csv").write_bytes((part1 + part2).encode())
    # a unit-separator control byte (0x1F) inside a cell
    text("billing_control_char_0x1f.csv", [BILLING, billing_row(), billing_row("MCO\x1fB")])
    # a German statistics export: title line with a comma, semicolon table, Windows line ends
    text("headcount_german_export_title.csv", [
        "Statistik der Peer-Beschäftigten, Stand: 31.03.2026;;;;;;;;", "",
        HEADCOUNT.replace(",", ";"), *[r.replace(",", ";") for r in HC_ROWS]], encoding="cp1252", newline="\r\n")
    # dates: two-digit years, spreadsheet zero dates, year 0001, future issue dates
    text("certification_two_digit_years.csv", [CERT, cert_row("P000001", "1/17/22", "1/17/28")])
    text("certification_zero_dates.csv", [CERT, cert_row("P000001", "12/30/1899", "2027-01-10"),
                                          cert_row("P000002", "0001-01-01", "2027-01-10"),
                                          cert_row("P000003", "1899-12-31", "2027-01-10")])
    text("certification_future_issue.csv", [CERT, cert_row("P000001", "2030-05-01", "2031-05-01")])
    # spreadsheet formulas, DDE, control and bidi characters, error literals in a free-text column
    text("billing_payer_id_injection.csv", [
        BILLING,
        billing_row('"=HYPERLINK(""http://example.com/x"",""click"")"'),
        billing_row("\"=cmd|' /C calc'!A0\""),
        billing_row("MCO\x07A"),
        billing_row("\u202eA-OCM"),
        billing_row("#REF!"),
        billing_row("@SUM(1+1)"),
        billing_row("x" * 5000),
    ])
    # UTF-8 file with one Windows-1252 byte pasted in
    (HERE / "billing_mixed_utf8_cp1252.csv").write_bytes(
        (BILLING + "\n" + billing_row("Clínica Norte") + "\n").encode() + billing_row("Cl\xednica Sur").encode("cp1252")
        + b"\n")
    # an empty spacer column between two groups of columns
    text("headcount_spacer_column.csv", [HEADCOUNT.replace("headcount,", "headcount,,", 1).replace(
        "quarter,role,headcount,,", "quarter,role,,headcount,"), *[
        ",".join(r.split(",")[:3] + [""] + r.split(",")[3:]) for r in HC_ROWS]])
    # billing code with a modifier the fee schedule does not have
    text("billing_bad_modifier.csv", [BILLING, billing_row(modifier="ZZ")])
    workbooks()


def workbooks() -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(HERE / "headcount_hidden_first_sheet.xlsx")
    hidden, shown = book.add_worksheet("Scratch"), book.add_worksheet("Report")
    for r, line in enumerate(["notes,not,the,report", "AG9999,1999-Q9,NOPE"]):
        hidden.write_row(r, 0, line.split(","))
    for r, line in enumerate([HEADCOUNT, *HC_ROWS]):
        shown.write_row(r, 0, [int(v) if v.isdigit() else v for v in line.split(",")])
    shown.activate()
    hidden.hide()
    book.close()

    book = xlsxwriter.Workbook(HERE / "empty_workbook.xlsx")
    book.add_worksheet("Sheet1")
    book.close()

    book = xlsxwriter.Workbook(HERE / "certification_excel_dates.xlsx")
    sheet, fmt = book.add_worksheet("Report"), book.add_format({"num_format": "m/d/yyyy"})
    sheet.write_row(0, 0, CERT.split(","))
    sheet.write_row(1, 0, ["AG0001", "2026-Q1", "P000001", "PEER_RECOVERY_SUD", "CPRS", "CERTIFIED_ACTIVE"])
    sheet.write_datetime(1, 6, dt.datetime(2025, 1, 10), fmt)
    sheet.write_datetime(1, 7, dt.datetime(2027, 1, 10), fmt)
    sheet.write_row(1, 8, [46, 500, 10])
    sheet.write_row(2, 0, ["AG0001", "2026-Q1", "P000002", "PEER_RECOVERY_SUD", "CPRS", "CERTIFIED_ACTIVE"])
    sheet.write_number(2, 6, 0, fmt)  # Excel's zero date: shown as 1/0/1900, read as 1899-12-31
    sheet.write_datetime(2, 7, dt.datetime(2027, 1, 10), fmt)
    sheet.write_row(2, 8, [46, 500, 10])
    book.close()


if __name__ == "__main__":
    main()
