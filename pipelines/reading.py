"""Reading agency files: bytes in, a table of text cells out (or a clear reason it cannot be read).

Accepts CSV (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252; comma, semicolon or tab;
CRLF or LF) and XLSX (first sheet). Every data row keeps its row number as the user sees it in
their file (header = 1), so findings can point at it.

The content decides the format, never the file name: a workbook named .csv is read as a workbook, CSV
text named .xlsx is read as CSV (each with a note), and anything else (images, PDF, old .xls, zip
archives, executables, databases, web pages) is refused saying what the file looks like.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import html
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import settings
from pipelines.findings import WARNING, Finding, column_letter
from pipelines.structure import infer_report, normalize

ROW = "__row"
STREAM_FROM_DISK_BYTES = 32 * 1024 * 1024
PADDING = (" ", "\t", "\u00a0")
"""Characters stripped from the edges of cells (spaces, tabs, Excel's non-breaking spaces)."""
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
MB = 1024 * 1024
"""A megabyte as PEER_MAX_UPLOAD_MB and Streamlit's maxUploadSize count it."""
ZIP_EXPANSION_CAP = 20
"""A workbook may unpack to at most this many times the upload limit (guards against zip bombs)."""

SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    # (offset, magic bytes, what the file looks like); a magic shorter than 4 bytes counts only in binary data
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"{\\rtf", "a Rich Text (RTF) document"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel 97-2003 workbook (.xls) or a password-protected "
     "Office file"),
    (0, b"\x1f\x8b\x08", "a gzip-compressed file"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (0, b"\x7fELF", "a program (ELF executable)"),
    (0, b"MZ", "a Windows program (.exe or .dll)"),
    (0, b"SQLite format 3\x00", "an SQLite database"),
    (8, b"DUCK", "a DuckDB database"),
    (0, b"PAR1", "a Parquet file"),
)
ZIP_CONTENTS: tuple[tuple[str, str], ...] = (
    # (a member name starts with, what the zip is) for zip files that are not .xlsx workbooks
    ("xl/workbook.bin", "an Excel binary workbook (.xlsb)"),
    ("word/", "a Word document (.docx)"),
    ("ppt/", "a PowerPoint presentation (.pptx)"),
    ("content.xml", "an OpenDocument file (.ods or .odt)"),
    ("Index/Document.iwa", "an Apple Numbers file"),
)
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
"""A well-formed UTF-8 sequence beyond ASCII: Windows-1252 text almost never contains one."""
WEB_PAGE = re.compile(r"\s*<(\?xml|!doctype|html|head|body|table|meta|script|div|!--)", re.IGNORECASE)


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
        raise Unreadable("file-too-large", f"The file is {_mb(size)} MB; the limit is {_limit_mb():g} MB. "
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
    suffix = path.suffix.lower()
    if kind == "xlsx":
        table = _read_xlsx(data)
        if suffix not in (".xlsx", ".xlsm"):
            table.notes.insert(0, "The file is an Excel workbook although its name does not end in .xlsx.")
    else:
        text, encoding_note = _as_utf8(data)
        table = _read_text(text)
        if encoding_note:
            table.notes.insert(0, encoding_note)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            table.notes.insert(0, f"The file is named {suffix} but holds CSV text: read it as CSV.")
    table.sha256 = digest
    return table


def _mb(size: int) -> str:
    return f"{size / MB:.1f}" if size >= MB / 10 else f"{size / MB:.3f}"


def _limit_mb() -> float:
    """PEER_MAX_UPLOAD_MB as set (max_upload_bytes() rounds it to whole bytes)."""
    return float(settings.get("PEER_MAX_UPLOAD_MB"))


def _read_large_file(path: Path) -> RawTable | None:
    """Big plain UTF-8 CSVs are parsed straight from disk (no copy in memory); None means use the general path.

    One streaming pass hashes the file and checks it is UTF-8 without BOM, NUL bytes or bare CR line ends.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    previous = b""
    with open(path, "rb") as fh:
        head = fh.read(1024)
        if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"PK")) or _looks_like(head):
            return None  # the general path reads it, or refuses it saying what it is
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
    """'xlsx' or 'csv', decided by the content (never the name); anything else raises Unreadable."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        _check_workbook(data, name)
        return "xlsx"
    if what := _looks_like(data[:1024]):
        raise Unreadable("unsupported-format", _not_a_table(name, what))
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "csv"
    if b"\x00" in data:
        raise Unreadable("binary-file", f"'{name}' is not a CSV or Excel file: it is not text (it contains "
                         "binary data). Upload the report as CSV or .xlsx.")
    return "csv"


def _looks_like(head: bytes) -> str | None:
    """What the first bytes of a file say it is, when that is not a CSV or a workbook (None: maybe text)."""
    binary = b"\x00" in head
    for offset, magic, what in SIGNATURES:
        if head.startswith(magic, offset) and (len(magic) >= 4 or binary):
            return what
    text = head.decode("utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", errors="ignore")
    if match := WEB_PAGE.match(text.lstrip("\ufeff")):
        return "a web page or XML document (XML)" if match.group(1) == "?xml" else "a web page (HTML)"
    return None


def _not_a_table(name: str, what: str) -> str:
    return (f"'{name}' is not a CSV or Excel file: it looks like {what}. Upload the report as CSV or as an Excel "
            "workbook (.xlsx): start from the template, or in Excel choose File > Save As > CSV UTF-8 or Excel "
            "Workbook.")


def _check_workbook(data: bytes, name: str) -> None:
    """Refuse a zip that is not an .xlsx workbook, is damaged, or would unpack to more than the cap."""
    cap = ZIP_EXPANSION_CAP * settings.max_upload_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = [m.filename for m in members]
            if "xl/workbook.xml" not in names:
                what = next((w for prefix, w in ZIP_CONTENTS if any(n.startswith(prefix) for n in names)),
                            "a zip archive (unzip it and upload the CSV or .xlsx inside)")
                raise Unreadable("unsupported-format", _not_a_table(name, what))
            declared = sum(m.file_size for m in members)
            if declared <= cap:  # declared sizes can be forged: unpacking once checks them, since zipfile stops
                for member in members:  # at a member's declared size and a longer member fails its CRC check
                    with archive.open(member) as fh:
                        while fh.read(1 << 20):
                            pass
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            zlib.error) as exc:
        raise Unreadable("unsupported-format", f"'{name}' is a damaged or encrypted Excel workbook ({exc}). Open "
                         "it in Excel and save it again as .xlsx or CSV.") from exc
    if declared > cap:
        raise Unreadable("file-too-large", f"'{name}' is an Excel workbook that unpacks to more than "
                         f"{ZIP_EXPANSION_CAP * _limit_mb():g} MB ({ZIP_EXPANSION_CAP} times the upload limit). "
                         "Save it again from Excel, or split it by quarter or by agency and upload the parts.")


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
        if UTF8_MULTIBYTE.search(data):  # UTF-8 text with a stray byte: re-decoding it all would garble the rest
            line = data.count(b"\n", 0, exc.start) + 1
            start = data.rfind(b"\n", 0, exc.start) + 1
            end = data.find(b"\n", exc.start)
            text = data[start: end if end >= 0 else len(data)].decode("utf-8", "replace").strip()
            raise Unreadable("encoding-error", f"Line {line} holds a byte (0x{data[exc.start]:02X}) that is not "
                             f"UTF-8, in a file that is otherwise UTF-8: {text[:80]!r}. Two encodings were mixed "
                             "(a value pasted from another file?). Retype that value, or save the file from Excel "
                             "as 'CSV UTF-8', and upload again.") from exc
        try:
            data, note = data.decode("cp1252").encode(), "The file is not UTF-8; read it as Windows-1252 " \
                "(Excel's default)."
        except UnicodeDecodeError:
            raise Unreadable("encoding-error", f"The file's text encoding is not UTF-8 or Windows-1252 (byte "
                             f"{exc.start + 1}). Save it from Excel as 'CSV UTF-8' and upload again.") from exc
    if b"\n\xef\xbb\xbf" in data:  # files saved as 'CSV UTF-8' pasted together: each part starts with a BOM
        data = data.replace(b"\n\xef\xbb\xbf", b"\n")
        note = (note + " " if note else "") + "Removed byte-order marks (BOM) at the start of lines further down " \
            "(were files pasted together?)."
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # old Mac line ends
    return data, note


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _guess_delimiter(head: str) -> str:
    """The separator of the header row: the first of the top lines that names a report when split by one
    of the separators (a title line above it may hold commas of its own); else the first line's."""
    lines = [ln for ln in head.splitlines()[: HEADER_SEARCH_ROWS * 2] if ln.strip()][:HEADER_SEARCH_ROWS]
    for line in lines:
        for delim in sorted(DELIMITERS, key=lambda d: -line.count(d)):
            if line.count(delim) and infer_report(_split(line, delim)):
                return delim
    return _delimiter(lines[0] if lines else "")


def _split(line: str, delim: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delim), [])
    except csv.Error:
        return line.split(delim)


LINE_SEPARATORS = ("\x1f", "\x1e", "\x1d", "\x1c", "\x01", "\x02", "\x03")
"""Bytes used to read whole lines as one field: one the file does not contain."""


def _read_text(raw: bytes | Path) -> RawTable:
    """Parse UTF-8 CSV text given as bytes or as a path to read from."""
    head = (raw[:65536] if isinstance(raw, bytes) else raw.open("rb").read(65536)).decode("utf-8", errors="ignore")
    delim = _guess_delimiter(head)
    notes = [] if delim == "," else [f"Columns are separated by {DELIMITERS[delim]}s."]
    try:
        return _parse_text(raw, delim, notes)
    except pl.exceptions.PolarsError:  # a shape the fast parser refuses (odd quoting, control bytes): go slow
        text = (raw if isinstance(raw, bytes) else raw.read_bytes()).decode("utf-8")
        frame = _read_with_csv_module(text, delim)
        findings = []
        if text.count('"') % 2 and frame.height:
            frame, finding = _unclosed_quote(frame)
            findings += [finding] if finding else []
        return _finish(frame, notes, "csv", True, findings)


def _parse_text(raw: bytes | Path, delim: str, notes: list[str]) -> RawTable:
    source = (lambda: io.BytesIO(raw)) if isinstance(raw, bytes) else (lambda: raw)
    sample = raw if isinstance(raw, bytes) else None
    line_sep = next((b for b in LINE_SEPARATORS if sample is None or b.encode() not in sample), None)
    if line_sep is None:
        raise pl.exceptions.ComputeError("no free byte to read lines with")
    lines = pl.read_csv(source(), has_header=False, infer_schema=False, separator=line_sep,
                        quote_char=None, new_columns=["line"])["line"]
    if sample is None and lines.str.contains(line_sep, literal=True).any():
        raise pl.exceptions.ComputeError("the line separator occurs in the file")
    has_quotes = lines.str.contains('"', literal=True).any()
    quotes = lines.str.count_matches('"', literal=True).fill_null(0) if has_quotes else None
    trim, findings = True, []
    if quotes is not None and (quotes % 2 == 1).any():
        text = (raw if isinstance(raw, bytes) else raw.read_bytes()).decode("utf-8")
        frame = _read_with_csv_module(text, delim)
        if text.count('"') % 2 and frame.height:
            frame, finding = _unclosed_quote(frame)
            findings += [finding] if finding else []
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
    return _finish(frame, notes, "csv", trim, findings)


def _unclosed_quote(frame: pl.DataFrame) -> tuple[pl.DataFrame, Finding | None]:
    """With an odd number of quotes, a last record spanning several lines is a quote never closed: the rest
    of the file became one cell. That record is reported and dropped (its cells are not the user's values)."""
    last = frame.row(-1, named=True)
    if not any("\n" in v for k, v in last.items() if k.startswith("column_") and v):
        return frame, None
    row = last[ROW]
    return frame.slice(0, frame.height - 1), Finding(
        "unclosed-quote", f"Row {row} opens a quote (\") that is never closed, so everything from row {row} to the "
        "end of the file was read as one cell. Close the quote or delete it, then upload the file again.", row=row)


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


SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
SHEET_ATTR = re.compile(rb'\b(name|state)\s*=\s*"([^"]*)"')


def _sheets(data: bytes) -> list[tuple[str, bool]]:
    """(name, visible) of each sheet in tab order, from xl/workbook.xml (read as text: no XML parser)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/workbook.xml")
    except (KeyError, zipfile.BadZipFile, OSError):
        return []
    sheets = []
    for tag in SHEET_TAG.finditer(xml):
        attrs = {k.decode(): v.decode("utf-8", "replace") for k, v in SHEET_ATTR.findall(tag.group(1))}
        if "name" in attrs:
            sheets.append((html.unescape(attrs["name"]), attrs.get("state", "visible") == "visible"))
    return sheets


def _read_xlsx(data: bytes) -> RawTable:
    sheets = _sheets(data)
    visible = [name for name, shown in sheets if shown]
    if sheets and not visible:
        raise Unreadable("no-header", "Every sheet of the workbook is hidden. Unhide the sheet with the report "
                         "(right-click a sheet tab > Unhide) and save the workbook again.")
    hidden = [name for name, shown in sheets[: sheets.index((visible[0], True))]] if visible else []
    where = {"sheet_name": visible[0]} if hidden else {"sheet_id": 1}
    try:
        frame = pl.read_excel(io.BytesIO(data), **where, has_header=False, infer_schema_length=0,
                              engine="calamine", drop_empty_rows=False, raise_if_empty=False)
    except Exception as exc:  # calamine raises its own error types
        raise Unreadable("unsupported-format", f"The Excel workbook could not be read ({_first_line(exc)}). Save "
                         "it again from Excel as .xlsx or CSV.") from exc
    if frame.width == 0 or frame.height == 0:
        sheet = f"'{visible[0]}'" if visible else "of the workbook"
        raise Unreadable("empty-file", f"The first visible sheet {sheet} is empty. Put the report on the "
                         "first sheet, starting with the template's header row, and save the workbook again.")
    frame = frame.select(pl.all().cast(pl.String))
    width = frame.width
    frame = frame.with_columns(pl.Series(ROW, range(1, frame.height + 1), dtype=pl.Int64),
                               pl.lit(width, dtype=pl.Int64).alias("__fields"))
    if hidden:
        names = ", ".join(f"'{n}'" for n in hidden)
        note = (f"Read sheet '{visible[0]}', the first visible sheet of the workbook; hidden sheet"
                f"{'s' if len(hidden) > 1 else ''} {names} before it {'were' if len(hidden) > 1 else 'was'} "
                "not read.")
    else:
        note = "Read the first sheet of the workbook."
    return _finish(frame, [note], "xlsx")


def _first_line(exc: Exception) -> str:
    """An error's first line (library messages go on with advice meant for programmers)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


HEADER_SEARCH_ROWS = 10
"""How far down a header row is looked for, when the first row is not one."""


def _header_index(frame: pl.DataFrame, cells: list[str]) -> int:
    rows = [[v or "" for v in r] for r in frame.head(HEADER_SEARCH_ROWS).select(cells).iter_rows()]
    if not rows or infer_report(rows[0]):
        return 0
    return next((i for i, r in enumerate(rows[1:], 1) if infer_report(r)), 0)


def _drop_repeated_header(data: pl.DataFrame, cells: list[str], headers: list[str]) -> tuple[pl.DataFrame,
                                                                                              list[Finding]]:
    """Drop data rows that repeat the header (in any case and spacing), with a warning naming each."""
    named = [(c, normalize(h)) for c, h in zip(cells, headers) if normalize(h)]
    if not named:
        return data, []
    first, key = named[0]
    distinct = data[first].drop_nulls().unique()  # one cheap column first: few distinct values
    like = distinct.filter(distinct.str.to_lowercase().str.replace_all(r"[\s_\-.]+", "") == key)
    if like.is_empty():
        return data, []
    candidates = data.filter(pl.col(first).is_in(like.to_list()))
    rows = [r[ROW] for r in candidates.iter_rows(named=True)
            if all(normalize(r[c] or "") == k for c, k in named)]
    if not rows:
        return data, []
    return data.filter(~pl.col(ROW).is_in(rows)), [Finding(
        "repeated-header", f"Row {r} repeats the header row (were two files pasted together?). It was skipped; "
        "delete it from the file.", row=r, severity=WARNING) for r in rows]


def _drop_spacer_columns(data: pl.DataFrame, cells: list[str], headers: list[str],
                         notes: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """Drop columns with no name and no values (spacers between groups of columns), renumbering the rest."""
    spacers = [i for i, (c, h) in enumerate(zip(cells, headers)) if not h and data[c].null_count() == data.height]
    if not spacers:
        return data, headers
    letters = ", ".join(column_letter(i) for i in spacers)
    notes.append(f"Column{'s' if len(spacers) > 1 else ''} {letters} {'have' if len(spacers) > 1 else 'has'} no "
                 "name and no values: ignored.")
    keep = [i for i in range(len(cells)) if i not in spacers]
    data = data.select(ROW, *[pl.col(cells[i]).alias(f"c{n}") for n, i in enumerate(keep)], "__fields")
    return data, [headers[i] for i in keep]


def _needs_trim(lines: pl.Series, delim: str) -> bool:
    """Whether any cell starts or ends with padding, or is an empty quoted string (one pass over the lines)."""
    pad = "[" + "".join(w for w in PADDING if w != delim).replace("\t", "\\t") + "]"
    sep = re.escape(delim)
    pattern = f'(^|{sep})"?{pad}|{pad}"?($|{sep})|(^|{sep})""($|{sep})'
    suspects = lines.filter(lines.str.contains(f'{pad}|""'))  # a plain character class scans ~10x faster
    return bool(suspects.len() and suspects.str.contains(pattern).any())


def _finish(frame: pl.DataFrame, notes: list[str], fmt: str, trim: bool = True,
            findings: list[Finding] | None = None) -> RawTable:
    """Split off the header row, name columns c0..cn, drop empty rows and flag ragged ones.

    The header is the first row, unless only a later one among the first few names a report (a title
    or a note above the table): the rows above it are skipped, with a note. A data row that repeats the
    header exactly (two exports pasted together) is dropped with a warning.
    """
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
    top = _header_index(frame, cells)
    if top:
        first, header_at = frame[ROW][0], frame[ROW][top]
        above = f"rows {first}-{header_at - 1}" if header_at - first > 1 else f"row {first}"
        notes.append(f"Skipped {above} above the header (row {header_at}).")
    header_row = frame.row(top, named=True)
    headers = [header_row[c] or "" for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    data = frame.slice(top + 1)
    findings = list(findings or [])
    width = len(headers)
    data, repeats = _drop_repeated_header(data, cells[:width], headers)
    findings += repeats
    extra_cells = [c for c in cells[width:]]
    if extra_cells:
        over = data.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in extra_cells))
        for r in over[ROW].to_list():
            findings.append(Finding("too-many-cells", f"Row {r} has more cells than the header has columns "
                                    f"({width}). Remove the extra cells or add the missing column name.", row=r))
        data = data.drop(extra_cells)
    data, headers = _drop_spacer_columns(data, cells[:width], headers, notes)
    cells, width = [f"c{i}" for i in range(len(headers))], len(headers)
    if fmt == "csv":
        short = data.filter((pl.col("__fields") < width) & (pl.col("__fields") > 0))
        for r, n in short.select(ROW, "__fields").iter_rows():
            findings.append(Finding("too-few-cells", f"Row {r} has {n} cells but the header has {width} columns. "
                                    "Check for a missing separator or a cell that spilled onto the next line.",
                                    row=r, value=n))
    return RawTable(frame=data.drop("__fields").select([ROW, *cells[:width]]), headers=headers, sha256="",
                    format=fmt, notes=notes, findings=findings)
