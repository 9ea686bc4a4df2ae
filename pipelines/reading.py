"""Reading agency files: bytes in, a table of text cells out (or a clear reason it cannot be read).

Accepts CSV (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252; comma, semicolon or tab;
CRLF or LF) and XLSX (first sheet). Every data row keeps its row number as the user sees it in
their file (header = 1), so findings can point at it.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import settings
from pipelines.findings import Finding

ROW = "__row"
STREAM_FROM_DISK_BYTES = 32 * 1024 * 1024
PADDING = (" ", "\t", "\u00a0")
"""Characters stripped from the edges of cells (spaces, tabs, Excel's non-breaking spaces)."""
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


class Unreadable(Exception):
    """The file cannot be read at all; carries one file-level finding."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.finding = Finding(code, message)


@dataclass
class RawTable:
    """Text cells as read: one column per header cell (c0, c1, ...) plus the file row number."""

    frame: pl.DataFrame
    headers: list[str]
    sha256: str
    format: str
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path | str, data: bytes | None = None) -> RawTable:
    """Read a file from disk (or from `data`, for uploads) into a RawTable, or raise Unreadable."""
    path = Path(path)
    limit = settings.max_upload_bytes()
    size = len(data) if data is not None else path.stat().st_size
    if size > limit:
        raise Unreadable("file-too-large", f"The file is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB. "
                         "Split it by quarter or by agency and upload the parts.")
    if data is None and size > STREAM_FROM_DISK_BYTES:
        table = _read_large_file(path)
        if table is not None:
            return table
    if data is None:
        data = path.read_bytes()
    if not data.strip():
        raise Unreadable("empty-file", "The file is empty. Use the template for this report, keep its header "
                         "row, and add one row per record.")
    digest = sha256_of(data)
    kind = _sniff(data, path.name)
    if kind == "xlsx":
        table = _read_xlsx(data)
    else:
        text, encoding_note = _as_utf8(data)
        table = _read_text(text)
        if encoding_note:
            table.notes.insert(0, encoding_note)
    table.sha256 = digest
    return table


def _read_large_file(path: Path) -> RawTable | None:
    """Big plain UTF-8 CSVs are parsed straight from disk (no copy in memory); None means use the general path.

    One streaming pass hashes the file and checks it is UTF-8 without BOM, NUL bytes or bare CR line ends.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    previous = b""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"PK", b"\xd0\xcf", b"%PDF")):
            return None
        fh.seek(0)
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if b"\x00" in chunk:
                return None
            if b"\r" in chunk or previous:
                joined = previous + chunk
                if joined.count(b"\r") != joined.count(b"\r\n"):
                    return None
            previous = chunk[-1:] if chunk.endswith(b"\r") else b""
    table = _read_text(path)
    table.sha256 = digest.hexdigest()
    return table


def _sniff(data: bytes, name: str) -> str:
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            names = []
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise Unreadable("unsupported-format", "This is a compressed (zip) file, not a spreadsheet. Upload the "
                         "report as CSV or as an Excel .xlsx workbook.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable("unsupported-format", "This is an old Excel 97-2003 (.xls) workbook. In Excel choose "
                         "File > Save As > Excel Workbook (.xlsx) or CSV, then upload that file.")
    if head.startswith(b"%PDF"):
        raise Unreadable("unsupported-format", "This is a PDF. Upload the report as CSV or .xlsx, using the "
                         "template for this report.")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "csv"
    if b"\x00" in data:
        raise Unreadable("binary-file", f"'{name}' is not a text file (it contains binary data). Upload the "
                         "report as CSV or .xlsx.")
    return "csv"


def _as_utf8(data: bytes) -> tuple[bytes, str | None]:
    """UTF-8 bytes with LF or CRLF line ends, and a note on what was converted (None when nothing)."""
    note = None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            data, note = data.decode("utf-16").encode(), "Read as UTF-16 text."
        except UnicodeDecodeError:
            pass
    if data.startswith(b"\xef\xbb\xbf"):
        data, note = data[3:], "Removed the byte-order mark (BOM) at the start of the file."
    try:
        data.decode("utf-8")  # validity check only; the bytes go to the parser as they are
    except UnicodeDecodeError as exc:
        try:
            data, note = data.decode("cp1252").encode(), "The file is not UTF-8; read it as Windows-1252 " \
                "(Excel's default)."
        except UnicodeDecodeError:
            raise Unreadable("encoding-error", f"The file's text encoding is not UTF-8 or Windows-1252 (byte "
                             f"{exc.start + 1}). Save it from Excel as 'CSV UTF-8' and upload again.") from exc
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # old Mac line ends
    return data, note


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_text(raw: bytes | Path) -> RawTable:
    """Parse UTF-8 CSV text given as bytes or as a path to read from."""
    head = (raw[:65536] if isinstance(raw, bytes) else raw.open("rb").read(65536)).decode("utf-8", errors="ignore")
    source = (lambda: io.BytesIO(raw)) if isinstance(raw, bytes) else (lambda: raw)
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    delim = _delimiter(first)
    notes = [] if delim == "," else [f"Columns are separated by {DELIMITERS[delim]}s."]
    lines = pl.read_csv(source(), has_header=False, infer_schema=False, separator="\x1f",
                        quote_char=None, new_columns=["line"])["line"]
    has_quotes = lines.str.contains('"', literal=True).any()
    quotes = lines.str.count_matches('"', literal=True).fill_null(0) if has_quotes else None
    trim = True
    if quotes is not None and (quotes % 2 == 1).any():
        text = raw if isinstance(raw, bytes) else raw.read_bytes()
        frame = _read_with_csv_module(text.decode("utf-8"), delim)
    else:
        trim = _needs_trim(lines, delim)
        quoted = lines.str.replace_all(r'"[^"]*"', "") if has_quotes else lines
        fields = (quoted.str.count_matches(delim, literal=True) + 1).fill_null(0)
        del lines, quoted, quotes
        width = max(int(fields.max() or 1), 1)
        frame = pl.read_csv(source(), has_header=False, separator=delim,
                            schema={f"column_{i}": pl.String for i in range(width)},
                            missing_columns="insert", truncate_ragged_lines=True)
        frame = frame.with_columns(pl.Series(ROW, range(1, frame.height + 1), dtype=pl.Int64),
                                   fields[: frame.height].cast(pl.Int64).alias("__fields"))
    return _finish(frame, notes, "csv", trim)


def _read_with_csv_module(text: str, delim: str) -> pl.DataFrame:
    """Slow path for files with line breaks inside quoted cells: the csv module tracks line numbers."""
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows, starts, widths = [], [], []
    line = 1
    for record in reader:
        rows.append(record)
        starts.append(line)
        widths.append(len(record) if any(c != "" for c in record) or len(record) > 1 else 0)
        line = reader.line_num + 1
    width = max((len(r) for r in rows), default=0)
    columns = {f"column_{i}": [r[i] if i < len(r) and r[i] != "" else None for r in rows] for i in range(width)}
    frame = pl.DataFrame(columns, schema={k: pl.String for k in columns})
    return frame.with_columns(pl.Series(ROW, starts, dtype=pl.Int64), pl.Series("__fields", widths, dtype=pl.Int64))


def _read_xlsx(data: bytes) -> RawTable:
    try:
        frame = pl.read_excel(io.BytesIO(data), sheet_id=1, has_header=False, infer_schema_length=0,
                              engine="calamine", drop_empty_rows=False)
    except Exception as exc:  # calamine raises its own error types
        raise Unreadable("unsupported-format", f"The Excel workbook could not be read ({exc}). Save it again "
                         "from Excel as .xlsx or CSV.") from exc
    frame = frame.select(pl.all().cast(pl.String))
    width = frame.width
    frame = frame.with_columns(pl.Series(ROW, range(1, frame.height + 1), dtype=pl.Int64),
                               pl.lit(width, dtype=pl.Int64).alias("__fields"))
    return _finish(frame, ["Read the first sheet of the workbook."], "xlsx")


def _needs_trim(lines: pl.Series, delim: str) -> bool:
    """Whether any cell starts or ends with padding, or is an empty quoted string (one pass over the lines)."""
    pad = "[" + "".join(w for w in PADDING if w != delim).replace("\t", "\\t") + "]"
    sep = re.escape(delim)
    pattern = f'(^|{sep})"?{pad}|{pad}"?($|{sep})|(^|{sep})""($|{sep})'
    return bool(lines.str.contains(pattern).any())


def _finish(frame: pl.DataFrame, notes: list[str], fmt: str, trim: bool = True) -> RawTable:
    """Split off the header row, name columns c0..cn, drop empty rows and flag ragged ones."""
    cells = [c for c in frame.columns if c not in (ROW, "__fields")]
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(cells)})
    cells = [f"c{i}" for i in range(len(cells))]
    for c in cells if trim else []:  # column by column, only where needed: a big file is never copied whole
        column = frame[c]
        padded = pl.any_horizontal(column.str.starts_with(w) | column.str.ends_with(w) for w in PADDING)
        if pl.select(padded.any()).item() or (column == "").any():
            stripped = column.str.strip_chars()
            frame = frame.with_columns(pl.when(stripped == "").then(None).otherwise(stripped).alias(c))
        del column
    blank = pl.all_horizontal(pl.col(c).is_null() for c in cells) if cells else pl.lit(True)
    if frame.select(blank.any()).item():
        frame = frame.filter(~blank)
    if frame.is_empty():
        raise Unreadable("no-header", "The file has no header row. Start from the template: its first row names "
                         "the columns.")
    header_row = frame.row(0, named=True)
    headers = [header_row[c] or "" for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    data = frame.slice(1)
    findings: list[Finding] = []
    width = len(headers)
    extra_cells = [c for c in cells[width:]]
    if extra_cells:
        over = data.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in extra_cells))
        for r in over[ROW].to_list():
            findings.append(Finding("too-many-cells", f"Row {r} has more cells than the header has columns "
                                    f"({width}). Remove the extra cells or add the missing column name.", row=r))
        data = data.drop(extra_cells)
    if fmt == "csv":
        short = data.filter((pl.col("__fields") < width) & (pl.col("__fields") > 0))
        for r, n in short.select(ROW, "__fields").iter_rows():
            findings.append(Finding("too-few-cells", f"Row {r} has {n} cells but the header has {width} columns. "
                                    "Check for a missing separator or a cell that spilled onto the next line.",
                                    row=r, value=n))
    return RawTable(frame=data.drop("__fields").select([ROW, *cells[:width]]), headers=headers, sha256="",
                    format=fmt, notes=notes, findings=findings)
