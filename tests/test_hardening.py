"""Upload hardening (size limit, type sniffed from content) and formula-safe CSV in everything the app writes."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import subprocess
import sys
import zipfile

import duckdb
import polars as pl
import pytest

from pipelines import csv_safe, docgen, reading, warehouse
from pipelines.contracts import REPORTS
from pipelines.ingest import ingest
from pipelines.reading import Unreadable, read_file
from pipelines.settings import TEMPLATE_DIR
from tests.conftest import FIXTURES, clean_rows, csv_bytes

FACT_TABLES = tuple(REPORTS)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "pipelines", *map(str, args)], capture_output=True, text=True,
                          timeout=180)


@pytest.fixture
def initialised(env):
    """A closed warehouse with fixture reference data and a published snapshot (the CLI opens them itself)."""
    from pipelines import snapshot

    con = warehouse.connect(env / "warehouse.duckdb")
    warehouse.init(con)
    warehouse.load_reference(con, FIXTURES / "reference")
    snapshot.publish(con)
    con.close()
    return env


def facts_loaded(db) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return sum(con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in FACT_TABLES)


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    pl.DataFrame(rows[1:], schema=rows[0], orient="row").write_excel(buf, worksheet="Report")
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def database_file(tmp_path, engine: str) -> bytes:
    path = tmp_path / f"db.{engine}"
    if engine == "sqlite":
        with sqlite3.connect(path) as con:
            con.execute("create table t (a)")
        con.close()
    else:
        duckdb.connect(str(path)).execute("create table t (a int)").close()
    return path.read_bytes()


RENAMED = {  # content saved under a .csv name -> what the message must say it looks like
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, "a PNG image"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, "a JPEG image"),
    "gif": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\xff" * 20, "a GIF image"),
    "pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "a PDF document"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "an old Excel 97-2003 workbook (.xls)"),
    "gzip": (gzip.compress(csv_bytes(clean_rows("headcount"))), "a gzip-compressed file"),
    "elf": (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, "a program (ELF executable)"),
    "exe": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54, "a Windows program"),
    "zip": (zip_bytes({"headcount.csv": csv_bytes(clean_rows("headcount"))}), "a zip archive"),
    "docx": (zip_bytes({"word/document.xml": b"<w:document/>"}), "a Word document (.docx)"),
    "html": (b"\xef\xbb\xbf\r\n  <!DOCTYPE html>\n<html><body><table><tr><td>agency_id</td></tr></table></body>",
             "a web page (HTML)"),
    "html-bare": (b"<html>\n<head><title>Report</title></head>\n", "a web page (HTML)"),
    "xml": (b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook/>\n',
            "looks like a web page or XML document"),
}


@pytest.mark.parametrize("kind", RENAMED)
def test_renamed_files_are_refused_saying_what_they_look_like(kind):
    data, what = RENAMED[kind]
    with pytest.raises(Unreadable) as info:
        read_file("headcount.csv", data)
    assert info.value.finding.code == "unsupported-format"
    assert "'headcount.csv' is not a CSV or Excel file: it looks like" in info.value.finding.message
    assert what in info.value.finding.message


@pytest.mark.parametrize("engine,what", [("sqlite", "an SQLite database"), ("duckdb", "a DuckDB database")])
def test_database_files_are_refused(tmp_path, engine, what):
    with pytest.raises(Unreadable) as info:
        read_file("headcount.csv", database_file(tmp_path, engine))
    assert f"it looks like {what}" in info.value.finding.message


def test_text_that_merely_starts_like_a_signature_is_still_read():
    table = read_file("odd.csv", b"MZ,GIF8,PK\n1,2,3\n")  # 'MZ' without binary data is not a program
    assert table.headers == ["MZ", "GIF8", "PK"] and table.frame.height == 1


def test_renamed_binaries_load_nothing_through_the_cli(initialised, write):
    files = [write(f"{kind}.csv", RENAMED[kind][0]) for kind in ("png", "pdf", "zip", "html", "elf")]
    proc = cli("ingest", *files, "--format", "json")
    assert proc.returncode == 2, proc.stderr
    docs = json.loads(proc.stdout)
    assert [d["status"] for d in docs] == ["rejected"] * 5
    messages = [d["errors"][0]["message"] for d in docs]
    for message, what in zip(messages, ["a PNG image", "a PDF document", "a zip archive", "a web page",
                                        "a program (ELF executable)"]):
        assert "is not a CSV or Excel file: it looks like " + what in message
    assert facts_loaded(initialised / "warehouse.duckdb") == 0


def test_renamed_binary_through_ingest_writes_no_facts(con):
    outcome = ingest(con, "headcount.csv", RENAMED["png"][0], agency="AG0001", quarter="2026-Q1",
                     publish=False, role=None)
    assert outcome.status == "rejected"
    assert [f.code for f in outcome.validated.report.errors] == ["unsupported-format"]
    assert sum(con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in FACT_TABLES) == 0


# --- the content decides, not the name -------------------------------------------------------------------------

def test_xlsx_named_csv_is_read_as_a_workbook(con):
    outcome = ingest(con, "headcount.csv", xlsx_bytes(clean_rows("headcount")), publish=False, role=None)
    report = outcome.validated.report
    assert outcome.status == "loaded", report.as_dict()
    assert "The file is an Excel workbook although its name does not end in .xlsx." in report.notes
    assert con.execute("select count(*) from headcount").fetchall() == [(3,)]


def test_csv_named_xlsx_is_read_as_csv(con):
    outcome = ingest(con, "headcount.xlsx", csv_bytes(clean_rows("headcount")), publish=False, role=None)
    report = outcome.validated.report
    assert outcome.status == "loaded", report.as_dict()
    assert "The file is named .xlsx but holds CSV text: read it as CSV." in report.notes
    assert con.execute("select count(*) from headcount").fetchall() == [(3,)]


# --- size limits -----------------------------------------------------------------------------------------------

def _never_parse(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("an oversize file must be refused before it is parsed")

    for name in ("_sniff", "_read_text", "_read_xlsx", "_read_large_file"):
        monkeypatch.setattr(reading, name, fail)


@pytest.mark.parametrize("name,make", [("h.csv", lambda: csv_bytes(clean_rows("headcount") * 10)),
                                       ("h.xlsx", lambda: xlsx_bytes(clean_rows("headcount") * 10))])
def test_oversize_upload_is_refused_before_parsing_with_both_sizes(monkeypatch, name, make):
    data = make()
    monkeypatch.setenv("PEER_MAX_UPLOAD_MB", "0.001")
    _never_parse(monkeypatch)
    with pytest.raises(Unreadable) as info:
        read_file(name, data)
    assert info.value.finding.code == "file-too-large"
    assert f"The file is {len(data) / 2**20:.3f} MB; the limit is 0.001 MB." in info.value.finding.message


def test_oversize_file_on_disk_is_refused_without_reading_it(monkeypatch, tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as fh:  # sparse: 51 MB as the file system reports it, nothing written
        fh.truncate(51 * 2**20)
    monkeypatch.delenv("PEER_MAX_UPLOAD_MB", raising=False)
    _never_parse(monkeypatch)
    with pytest.raises(Unreadable) as info:
        read_file(path)
    assert "The file is 51.0 MB; the limit is 50 MB." in info.value.finding.message


def test_oversize_upload_on_the_page_path_loads_nothing(con, env, monkeypatch):
    from pipelines import upload

    monkeypatch.setenv("PEER_MAX_UPLOAD_MB", "0.001")
    checked = upload.check(con, "h.xlsx", xlsx_bytes(clean_rows("headcount") * 10), agency="AG0001",
                           quarter="2026-Q1", submitted_by="tester")
    assert not checked.valid and [f.code for f in checked.report.errors] == ["file-too-large"]
    assert "the limit is 0.001 MB" in checked.report.errors[0].message
    assert sum(con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in FACT_TABLES) == 0


def test_oversize_files_through_the_cli(initialised, write, monkeypatch):
    monkeypatch.setenv("PEER_MAX_UPLOAD_MB", "0.001")
    paths = [write("h.csv", csv_bytes(clean_rows("headcount") * 10)),
             write("h.xlsx", xlsx_bytes(clean_rows("headcount") * 10))]
    for command in ("validate", "ingest"):
        proc = cli(command, *paths, "--format", "json")
        assert proc.returncode == 2, proc.stderr
        for doc, path in zip(json.loads(proc.stdout), paths):
            finding = doc["errors"][0]
            assert finding["code"] == "file-too-large"
            assert f"The file is {path.stat().st_size / 2**20:.3f} MB; the limit is 0.001 MB" in finding["message"]
    assert facts_loaded(initialised / "warehouse.duckdb") == 0


def test_zip_bomb_workbook_is_refused_before_the_excel_reader(monkeypatch):
    monkeypatch.setenv("PEER_MAX_UPLOAD_MB", "0.01")  # cap: 20 x 0.01 MB
    bomb = zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\x00" * (300 * 1024)})
    assert len(bomb) < 0.01 * 2**20
    monkeypatch.setattr(reading, "_read_xlsx", lambda data: pytest.fail("the Excel reader was reached"))
    with pytest.raises(Unreadable) as info:
        read_file("report.xlsx", bomb)
    assert info.value.finding.code == "file-too-large"
    assert "unpacks to more than 0.2 MB (20 times the upload limit)" in info.value.finding.message


def test_workbook_whose_zip_understates_its_sizes_is_refused(monkeypatch):
    monkeypatch.setenv("PEER_MAX_UPLOAD_MB", "0.01")
    data = bytearray(zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/big.xml": b"\x00" * (300 * 1024)}))
    size = (300 * 1024).to_bytes(4, "little")
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers
        at = -1
        while (at := data.find(signature, at + 1)) != -1:
            if data[at + offset:at + offset + 4] == size:
                data[at + offset:at + offset + 4] = (100).to_bytes(4, "little")
    monkeypatch.setattr(reading, "_read_xlsx", lambda data: pytest.fail("the Excel reader was reached"))
    with pytest.raises(Unreadable) as info:
        read_file("report.xlsx", bytes(data))
    assert info.value.finding.code == "unsupported-format" and "damaged" in info.value.finding.message


# --- formula-safe CSV ------------------------------------------------------------------------------------------

def test_csv_safe_neutralises_text_that_starts_like_a_formula():
    frame = pl.DataFrame({"text": ["=SUM(A1)", "+1", "-2+3", "@cmd", "\t=1", "\r=1", "-3", "plain", None, "a=b"],
                          "n": [-3, 1, 2, 3, 4, 5, 6, 7, None, 9],
                          "x": [-1.5, None, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    safe = csv_safe.neutralise(frame)
    assert safe["text"].to_list() == ["'=SUM(A1)", "'+1", "'-2+3", "'@cmd", "'\t=1", "'\r=1", "'-3", "plain", None,
                                      "a=b"]
    assert safe["n"].to_list() == frame["n"].to_list() and safe["x"].to_list() == frame["x"].to_list()
    back = pl.read_csv(io.BytesIO(csv_safe.csv_bytes(frame)), schema=frame.schema)
    assert back["text"].to_list() == safe["text"].to_list()
    assert back["n"].to_list() == frame["n"].to_list() and back["x"].to_list() == frame["x"].to_list()


def test_csv_safe_covers_names_lists_and_categoricals():
    frame = pl.DataFrame({"=name": ["ok"], "tags": [["=1", "b"]], "cat": ["+x"], "nested": [[[1], [2]]]},
                         schema_overrides={"cat": pl.Categorical})
    text = csv_safe.csv_bytes(frame).decode()
    assert text == "'=name,tags,cat,nested\nok,'=1; b,'+x,\"[[1], [2]]\"\n"


def test_dashboard_downloads_use_csv_safe():
    from dashboard import widgets

    frame = pl.DataFrame({"value": ["=HYPERLINK(\"http://x\")", "fine"], "n": [-3, 4]})
    assert widgets.csv_bytes(frame) == csv_safe.csv_bytes(frame)
    assert widgets.csv_bytes(frame).decode().splitlines()[1].startswith("\"'=HYPERLINK(")


def test_cli_query_csv_is_neutralised_for_text_only(initialised):
    proc = cli("query", "select '=1+1' as x, -3 as n, '-3' as t", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["x,n,t", "'=1+1,-3,'-3"]


def test_templates_are_fixed_headers_that_no_spreadsheet_runs():
    for kind, contract in REPORTS.items():
        for text in (docgen.template_csv(contract), (TEMPLATE_DIR / f"{kind}.csv").read_text()):
            assert text.splitlines() == [",".join(contract.names)]
            assert not any(name.startswith(csv_safe.FORMULA_START) for name in contract.names)
