"""Read an uploaded file or pasted text into a table of strings, and say what was detected."""

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from core.issues import Issue, UnusableFileError, column_index, column_letter, issue
from core.sandbox import LimitExceeded, run_limited

DELIMITERS = (";", ",", "\t", "|")
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}
FALLBACK_ENCODINGS = ("utf-8", "cp1252", "latin-1")
# A workbook that unpacks to more than this is refused before it is parsed (zip bombs).
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
# Columns A to ZZ: no list of users is wider, and a wider sheet is how a small file asks
# for gigabytes (a single cell at XFD1048576 spans 17 billion cells).
MAX_COLUMNS = 702
# Excel itself keeps at most this many characters in a cell.
MAX_CELL_CHARACTERS = 32_767
# In the XML a character takes up to 6 bytes (an escaped "&quot;"); text runs between tags.
_MAX_TEXT_RUN_BYTES = 6 * MAX_CELL_CHARACTERS
# Fields of ReadOptions that are limits of the installation, not choices about one file.
LIMIT_FIELDS = frozenset({"max_rows", "max_bytes", "max_memory_bytes", "max_seconds"})
BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"MZ": "a Windows program",
    b"\x7fELF": "a program",
}
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|table|head|body)\b", re.IGNORECASE
)
EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Characters that belong inside values (addresses, names), never taken for a delimiter.
_IN_VALUES = set(" @.-_'\"()")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\r?\n)+")
SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
ENTRA_VERSION_LINE = re.compile(r"^\s*version\s*:\s*v?\d+(\.\d+)*[\s,;\t|]*$", re.IGNORECASE)


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file; None means detect it."""

    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool | None = None
    # The spreadsheet row (1 = first) that holds the header; None: found by itself.
    header_row: int | None = None
    sheet: str | None = None
    skip_rows: int | None = None
    max_rows: int = 1_000_000
    max_bytes: int = 200 * 1024 * 1024
    # Reading happens in a child process with these caps, whatever the file asks for.
    max_memory_bytes: int = 4096 * 1024 * 1024
    max_seconds: float = 300.0


@dataclass
class Table:
    """A file's cells as strings; `data` has positional columns and spreadsheet row numbers."""

    headers: list[str]
    data: pd.DataFrame
    source: str
    has_header: bool
    header_row: int | None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    skipped_lines: list[str] = field(default_factory=list)
    findings: list[Issue] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        """How many data rows the file has (blank rows not counted)."""
        return len(self.data)

    def column_name(self, index: int) -> str:
        """The column as the user wrote it, or its letter when it has no header."""
        header = self.headers[index] if index < len(self.headers) else ""
        return header or f"Column {column_letter(index)}"


@dataclass(frozen=True)
class _CellFinding:
    """An issue of one cell, row or column, found before the table's columns are named."""

    code: str
    row: int | None
    col: int | None
    params: dict[str, str]


def read_upload(data: bytes, filename: str, options: ReadOptions | None = None) -> Table:
    """Read an uploaded file: CSV, TSV, TXT, XLSX or XLS, recognised by content and name."""
    options = options or ReadOptions()
    if len(data) > options.max_bytes:
        raise UnusableFileError.of(
            "too-large",
            "file",
            megabytes=len(data) / 1_048_576,
            limit=options.max_bytes / 1_048_576,
        )
    return _guarded(_read_upload, data, filename, options)


def read_pasted(text: str, options: ReadOptions | None = None) -> Table:
    """Read text pasted from a spreadsheet or typed by hand."""
    options = options or ReadOptions()
    if len(text) > options.max_bytes:
        raise UnusableFileError.of(
            "too-large", "pasted", characters=len(text), limit=options.max_bytes
        )
    return _guarded(_read_pasted, text, options)


def with_corrections(table: Table, corrections: dict[int, dict[int, str]]) -> Table:
    """The table with the administrator's corrected cells; a corrected cell is the admin's
    value, so what the file said about that cell (a formula, an error value) no longer holds."""
    if not corrections:
        return table
    data = table.data.copy()
    corrected = set()
    for row, cells in corrections.items():
        for column, value in cells.items():
            data.at[int(row), int(column)] = value
            corrected.add((int(row), table.column_name(int(column))))
    findings = [f for f in table.findings if (f.row, f.column) not in corrected]
    return replace(table, data=data, findings=findings)


def _guarded(reader: Callable[..., Table], *args: Any) -> Table:
    """Run a reader in a child process, so no file can exhaust the server's memory or time."""
    options: ReadOptions = args[-1]
    try:
        return run_limited(
            reader, *args, memory_bytes=options.max_memory_bytes, seconds=options.max_seconds
        )
    except LimitExceeded as exc:
        if exc.limit == "time":
            raise UnusableFileError.of("too-large", "time", limit=options.max_seconds) from None
        raise UnusableFileError.of(
            "too-large", "memory", limit=options.max_memory_bytes / 1_048_576
        ) from None


def _read_upload(data: bytes, filename: str, options: ReadOptions) -> Table:
    if not data.strip():
        raise UnusableFileError.of("empty-file", "file")
    kind = _detect_kind(data, filename)
    if kind in {"xlsx", "xls", "ods"}:
        return _read_workbook(data, kind, options)
    text, encoding = _decode(data, options.encoding)
    return _read_text(text, options, source="csv", encoding=encoding)


def _read_pasted(text: str, options: ReadOptions) -> Table:
    if not text.strip():
        raise UnusableFileError.of("empty-file", "pasted")
    return _read_text(text.lstrip("\ufeff"), options, source="text", encoding=None)


def _detect_kind(data: bytes, filename: str) -> str:
    suffix = PurePosixPath(filename.lower()).suffix
    if data.startswith(ZIP_SIGNATURE):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise UnusableFileError.of("unreadable-file", "damaged-zip") from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names and b"opendocument.spreadsheet" in data[:200]:
            return "ods"
        raise UnusableFileError.of("unreadable-file", "zip")
    if data.startswith(OLE_SIGNATURE):
        # An Excel file saved with a password is an OLE container of encrypted streams.
        if "EncryptedPackage".encode("utf-16-le") in data or _is_encrypted_ole(data):
            raise UnusableFileError.of("password-protected")
        return "xls"
    if _HTML_START.match(data[:1024]):
        raise UnusableFileError.of("html-file", suffix=suffix or "otherwise")
    for signature, what in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise UnusableFileError.of("unreadable-file", "binary-kind", kind=what)
    if suffix in {".xlsx", ".xlsm"}:
        raise UnusableFileError.of("unreadable-file", "not-workbook", suffix=suffix)
    return "text"


def _is_encrypted_ole(data: bytes) -> bool:
    import msoffcrypto  # only for OLE files, which are rare

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # not an Office file it knows: let the workbook reader judge it
        return False


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding).lstrip("\ufeff"), encoding
        except LookupError as exc:
            raise UnusableFileError.of(
                "unreadable-file", "unknown-encoding", encoding=encoding
            ) from exc
        except UnicodeDecodeError as exc:
            raise UnusableFileError.of(
                "unreadable-file", "wrong-encoding", encoding=encoding, byte=exc.start + 1
            ) from exc
    for bom, name in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(name).lstrip("\ufeff"), name
            except UnicodeDecodeError as exc:
                raise UnusableFileError.of(
                    "unreadable-file", "damaged-text", encoding=name
                ) from exc
    sample = data[:8192]
    control = sum(1 for byte in sample if byte < 32 and byte not in b"\t\n\r")
    if control > len(sample) // 20:
        raise UnusableFileError.of("unreadable-file", "binary")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    if not _looks_western(text):
        return _detected_encoding(data)
    for name in FALLBACK_ENCODINGS[1:]:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def _looks_western(text: str) -> bool:
    """Whether cp1252 reads the text as a Western language: its other characters are mostly
    letters (é, ë, ß), not the symbol soup a Chinese or Cyrillic file becomes ('³¯¤j¤å')."""
    other = [c for c in text[:65536] if ord(c) > 127]
    odd = sum(1 for c in other if not c.isalpha())
    return odd < 4 or odd * 2 <= len(other)


def _detected_encoding(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None or best.encoding in {"cp1252", "latin_1", "iso8859_15"}:
        raise UnusableFileError.of("unreadable-file", "unrecognised-encoding")
    try:
        return data.decode(best.encoding), best.encoding
    except UnicodeDecodeError as exc:
        raise UnusableFileError.of(
            "unreadable-file", "misread-encoding", encoding=best.encoding
        ) from exc


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a text sample: ; , tab or |, with a comma when nothing tells."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
        if found in DELIMITERS:
            return found
    except csv.Error:
        pass
    # Count over every line, not the first: a title line above the header has none.
    counts = {d: sum(line.count(d) for line in lines) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _foreign_delimiter(sample: str) -> str | None:
    """A character that splits every line into the same number of parts, though it is none
    of the delimiters Instroom detects (a file separated by ':' or '+')."""
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if len(lines) < 2 or any(d in lines[0] for d in DELIMITERS):
        return None
    for char in dict.fromkeys(c for c in lines[0] if not c.isalnum() and c not in _IN_VALUES):
        if len({line.count(char) for line in lines}) == 1:
            return char
    return None


def _strip_preamble(text: str, options: ReadOptions) -> tuple[str, str | None, list[str], int]:
    """Remove a `sep=;` line (Excel hides it) and Entra's `version:v1.0` line (Excel shows it)."""
    delimiter, skipped, counted = options.delimiter, [], 0
    first = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
    sep = SEP_LINE.match(first.rstrip("\r"))
    if sep and options.skip_rows is None:
        skipped.append(first.rstrip("\r"))
        text = text.partition("\n")[2]
        first = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
        delimiter = delimiter or sep.group(1)
    blank = _LEADING_BLANK_LINES.match(text) if options.skip_rows is None else None
    if blank:
        # Blank lines above the header are rows in Excel too: counted, not read.
        counted += blank.group(0).count("\n")
        text = text[blank.end() :]
        first = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
    if options.skip_rows is not None:
        lines = text.split("\n", options.skip_rows)
        skipped += [line.rstrip("\r") for line in lines[: options.skip_rows]]
        text = lines[options.skip_rows] if len(lines) > options.skip_rows else ""
        counted += options.skip_rows
    elif ENTRA_VERSION_LINE.match(first.rstrip("\r")):
        skipped.append(first.rstrip("\r"))
        text = text.partition("\n")[2]
        counted += 1
    return text, delimiter, skipped, counted


def _parse_delimited(
    text: str, delimiter: str, skip_initial_space: bool, first_row: int
) -> pd.DataFrame:
    try:
        # UTF-8 bytes, not a StringIO: StringIO keeps four bytes a character (a 100 MB file
        # took 400 MB more while it was parsed).
        return pd.read_csv(
            io.BytesIO(text.encode("utf-8")),
            encoding="utf-8",
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            doublequote=True,
            skipinitialspace=skip_initial_space,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        unclosed = _UNCLOSED_QUOTE.search(str(exc))
        if unclosed:
            row = first_row + int(unclosed.group(1))
            raise UnusableFileError.of("unreadable-file", "unclosed-quote", row=row) from exc
        # Rows with more values than the first row: read them all and pad, so nothing is lost.
        rows = list(
            csv.reader(
                io.StringIO(text, newline=""),
                delimiter=delimiter,
                skipinitialspace=skip_initial_space,
            )
        )
        width = max((len(r) for r in rows), default=0)
        _check_width(width, "row-width")
        return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)


def _read_text(text: str, options: ReadOptions, *, source: str, encoding: str | None) -> Table:
    findings: list[Issue] = []
    if "\x00" in text:
        findings.append(issue("nul-characters"))
        text = text.replace("\x00", "")
    text, delimiter, skipped, counted = _strip_preamble(text, options)
    sample = text[:65536]
    if delimiter is None and (foreign := _foreign_delimiter(sample)):
        findings.append(issue("unknown-delimiter", delimiter=foreign))
    delimiter = delimiter or sniff_delimiter(sample)
    if delimiter not in DELIMITERS and len(delimiter) != 1:
        raise UnusableFileError.of("unreadable-file", "delimiter")
    first_line = sample.partition("\n")[0]
    # The parser makes a column for every value of the first row before it reads any row.
    _check_width(text[: text.find("\n")].count(delimiter) + 1, "first-row-width")
    skip_space = delimiter != " " and first_line.count(delimiter + " ") >= max(
        1, first_line.count(delimiter) // 2
    )
    frame = _parse_delimited(text, delimiter, skip_space, counted + 1)
    table = _finish(frame, counted + 1, options, source=source, findings=findings)
    if encoding in {"cp1252", "latin-1"}:
        table.findings.extend(_mixed_encoding_findings(table, encoding))
    table.encoding, table.delimiter, table.skipped_lines = encoding, delimiter, skipped
    return table


def _check_width(columns: int, variant: str) -> None:
    if columns > MAX_COLUMNS:
        raise UnusableFileError.of("too-large", variant, columns=columns, limit=MAX_COLUMNS)


def _looks_like_utf8(value: str, encoding: str) -> bool:
    """Whether a cell read as cp1252/latin-1 was really UTF-8 ('JosÃ©' for 'José')."""
    try:
        return value.encode(encoding).decode("utf-8") != value
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


def _mixed_encoding_findings(table: Table, encoding: str) -> list[Issue]:
    """Rows of a cp1252 or latin-1 file that are UTF-8: the file mixes two encodings."""
    found = []
    for index in range(table.data.shape[1]):
        column = table.data[index]
        for row in column.index[column.str.contains(_NON_ASCII, regex=True)]:
            if _looks_like_utf8(column[row], encoding):
                found.append(
                    issue(
                        "mixed-encoding",
                        row=row,
                        column=table.column_name(index),
                        encoding=encoding,
                        text=column[row][:40],
                    )
                )
    return found


def _finish(
    frame: pd.DataFrame,
    first_row: int,
    options: ReadOptions,
    *,
    source: str,
    findings: list[Issue],
    cell_findings: list[_CellFinding] = (),
) -> Table:
    """Find the header, drop blank rows and columns, number the rows, check the limits."""
    frame = frame.reset_index(drop=True)
    frame.columns = range(frame.shape[1])
    frame.index = range(first_row, first_row + len(frame))
    blank = (
        frame.apply(lambda column: column.str.strip() == "").all(axis=1)
        if len(frame.columns)
        else pd.Series(True, index=frame.index)
    )
    non_blank = blank[~blank]
    if non_blank.empty:
        raise UnusableFileError.of("empty-file", "no-values")
    first = _header_row(frame, non_blank.index, options)
    has_header = options.has_header if options.header_row is None else True
    if has_header is None:
        has_header = not any(EMAIL_LIKE.match(str(v).strip()) for v in frame.loc[first])
    if not has_header:
        first = non_blank.index[0]
    above = [row for row in non_blank.index if row < first]
    if above:
        findings.append(_rows_above_header(frame, above, first))
    if has_header:
        headers = [str(v).strip() for v in frame.loc[first]]
        data = frame.loc[(frame.index > first) & ~blank]
        header_row: int | None = first
    else:
        headers = [""] * frame.shape[1]
        data = frame.loc[(frame.index >= first) & ~blank]
        header_row = None
    # Trailing columns with neither a header nor a value are spreadsheet leftovers.
    width = len(headers)
    while width and not headers[width - 1] and (data[width - 1].str.strip() == "").all():
        width -= 1
    headers, data = headers[:width], data.iloc[:, :width]
    findings.extend(_repeated_headers(headers))
    if data.empty:
        raise UnusableFileError.of("empty-file", "header-only")
    if len(data) > options.max_rows:
        raise UnusableFileError.of("too-large", "rows", rows=len(data), limit=options.max_rows)
    table = Table(
        headers=headers,
        data=data,
        source=source,
        has_header=has_header,
        header_row=header_row,
        findings=findings,
    )
    for cell in cell_findings:
        if cell.col is not None and cell.col >= width:
            continue
        if cell.row is None or cell.row in data.index or cell.row == header_row:
            column = table.column_name(cell.col) if cell.col is not None else None
            table.findings.append(issue(cell.code, row=cell.row, column=column, **cell.params))
    return table


def _header_row(frame: pd.DataFrame, non_blank: pd.Index, options: ReadOptions) -> int:
    """The header's row: as chosen, else the first row about as wide as the table.

    A title above the header ("Personeelslijst 2026", often merged) fills one or two cells;
    the header names most columns. Only the first ten rows with values are considered.
    """
    if options.header_row is not None:
        if options.header_row not in frame.index:
            raise UnusableFileError.of(
                "unknown-header-row",
                row=options.header_row,
                first=frame.index[0],
                last=frame.index[-1],
            )
        return options.header_row
    candidates = list(non_blank[:10])
    filled = {row: int((frame.loc[row].str.strip() != "").sum()) for row in candidates}
    widest = max(filled.values())
    needed = max(min(2, widest), (widest + 1) // 2)
    return next(row for row in candidates if filled[row] >= needed)


def _rows_above_header(frame: pd.DataFrame, rows: list[int], header: int) -> Issue:
    texts = [" ".join(v.strip() for v in frame.loc[row] if v.strip()) for row in rows]
    shown = "; ".join(repr(t[:60]) for t in texts[:3]) + ("; …" if len(texts) > 3 else "")
    return issue(
        "rows-above-header",
        "one" if len(rows) == 1 else "many",
        first=rows[0],
        last=rows[-1],
        header=header,
        texts=shown,
    )


def _repeated_headers(headers: list[str]) -> list[Issue]:
    seen: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        if header:
            seen.setdefault(" ".join(header.casefold().split()), []).append(index)
    return [
        issue(
            "duplicate-header",
            column=headers[columns[0]],
            letters=", ".join(column_letter(i) for i in columns),
            header=headers[columns[0]],
        )
        for columns in seen.values()
        if len(columns) > 1
    ]


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return "" if value is None else str(value)


def _read_workbook(data: bytes, kind: str, options: ReadOptions) -> Table:
    import python_calamine  # a text file never needs the workbook reader

    archive = None
    if kind == "xlsx":
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise UnusableFileError.of("too-large", "unpacked", megabytes=unpacked / 2**20)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.visible == python_calamine.SheetVisibleEnum.Visible
        ]
        hidden = [m.name for m in workbook.sheets_metadata if m.name not in visible]
        if options.sheet is not None and options.sheet not in workbook.sheet_names:
            raise UnusableFileError.of(
                "unknown-sheet", sheet=options.sheet, sheets=", ".join(workbook.sheet_names)
            )
        sheet_name = options.sheet or (visible or workbook.sheet_names)[0]
        sheet_xml = _sheet_xml(archive, sheet_name) if archive is not None else b""
        if archive is not None:
            _check_sheet_size(archive, sheet_xml)
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except python_calamine.PasswordError as exc:
        raise UnusableFileError.of("unreadable-file", "workbook-password") from exc
    except (python_calamine.CalamineError, ValueError, KeyError, OSError) as exc:
        raise UnusableFileError.of("unreadable-file", "damaged-workbook") from exc
    findings = [issue("hidden-sheet", sheet=name) for name in hidden]
    skip = options.skip_rows or 0
    frame = pd.DataFrame([[_cell_text(v) for v in row] for row in rows[skip:]], dtype=object)
    if frame.empty:
        raise UnusableFileError.of("empty-file", "sheet", sheet=sheet_name)
    frame = frame.astype(str)
    cell_findings: list[_CellFinding] = []
    if archive is not None:
        _pad_zeros(frame, _zero_padded_cells(archive, sheet_xml), skip)
        cell_findings = _xlsx_hygiene(sheet_xml, frame.shape[1])
    else:
        if kind == "xls":
            cell_findings = _xls_error_values(data, sheet_name)
        findings.append(issue("legacy-xls" if kind == "xls" else "unchecked-ods"))
    table = _finish(
        frame, skip + 1, options, source=kind, findings=findings, cell_findings=cell_findings
    )
    table.sheet, table.sheets = sheet_name, list(workbook.sheet_names)
    return table


_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_HIDDEN_COL = re.compile(rb"<(?:\w+:)?col\b[^>]*>")
_HYPERLINK = re.compile(rb'<(?:\w+:)?hyperlink\b[^>]*\bref="([A-Z]+)(\d+)')
_ATTR = re.compile(rb'\b(\w+)="([^"]*)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')
# A reference of three or more letters lies beyond column ZZ.
_WIDE_REF = re.compile(rb'\br="([A-Z]{3,})(\d+)"')
_XML_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_NUM_FMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"')
_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)
_XF_NUM_FMT = re.compile(rb'<(?:\w+:)?xf\b[^>]*?\bnumFmtId="(\d+)"')
_ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>.*?<(?:\w+:)?v>([^<]*)<',
    re.DOTALL,
)
_LONG_TEXT = re.compile(rb"[^<]{%d,}" % (_MAX_TEXT_RUN_BYTES + 1))


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(
        (
            s.get(_NS_REL)
            for s in workbook.iter()
            if s.tag.endswith("}sheet") and s.get("name") == sheet_name
        ),
        None,
    )
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels if r.get("Id") == rel_id), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _sheet_xml(archive: zipfile.ZipFile, sheet_name: str) -> bytes:
    try:
        path = _sheet_path(archive, sheet_name)
        return archive.read(path) if path else b""
    except (KeyError, ET.ParseError):
        return b""


def _too_wide(letters: bytes, row: bytes) -> UnusableFileError:
    cell = (letters + row).decode()
    return UnusableFileError.of(
        "too-large",
        "sheet-width",
        cell=cell,
        columns=column_index(letters.decode()) + 1,
        limit=MAX_COLUMNS,
    )


def _check_sheet_size(archive: zipfile.ZipFile, sheet_xml: bytes) -> None:
    """Refuse a sheet that asks for more columns or longer cells than a user list has."""
    dimension = _DIMENSION.search(sheet_xml, 0, 4096)
    if dimension and column_index(dimension.group(1).decode()) >= MAX_COLUMNS:
        raise _too_wide(dimension.group(1), dimension.group(2))
    wide = _WIDE_REF.search(sheet_xml)
    if wide:
        raise _too_wide(wide.group(1), wide.group(2))
    longest = _longest_text_run(sheet_xml)
    if "xl/sharedStrings.xml" in archive.namelist():
        with archive.open("xl/sharedStrings.xml") as strings:
            longest = max(longest, _longest_text_run(strings))
    if longest > _MAX_TEXT_RUN_BYTES:
        raise UnusableFileError.of("too-large", "cell", length=longest, limit=MAX_CELL_CHARACTERS)


def _longest_text_run(source: bytes | io.BufferedIOBase) -> int:
    """The longest stretch without a tag, read in slices so a huge string is never held."""
    if isinstance(source, bytes):
        found = _LONG_TEXT.search(source)
        return len(found.group(0)) if found else 0
    longest = carried = 0
    while block := source.read(8 * 1024 * 1024):
        cut = block.find(b"<")
        if cut < 0:
            carried += len(block)
            longest = max(longest, carried)
            continue
        longest = max(longest, carried + cut)
        found = _LONG_TEXT.search(block, cut)
        if found:
            longest = max(longest, len(found.group(0)))
        carried = len(block) - block.rfind(b"<") - 1
    return longest


def _error_value(cell: str, error: str, row: int, column: int) -> _CellFinding:
    return _CellFinding("error-value", row, column, {"cell": cell, "error": error})


def _xls_error_values(data: bytes, sheet_name: str) -> list[_CellFinding]:
    """Excel error values in an .xls sheet (the fast reader shows them as empty cells)."""
    import xlrd  # only for the legacy format, whose sheets are at most 65,536 rows

    try:
        sheet = xlrd.open_workbook(file_contents=data, on_demand=True).sheet_by_name(sheet_name)
    except xlrd.XLRDError:
        return []
    found = []
    for row in range(sheet.nrows):
        for column, kind in enumerate(sheet.row_types(row)):
            if kind == xlrd.XL_CELL_ERROR:
                error = xlrd.error_text_from_code.get(sheet.cell_value(row, column), "#?")
                ref = f"{column_letter(column)}{row + 1}"
                found.append(_error_value(ref, error, row + 1, column))
    return found


def _zero_padded_cells(archive: zipfile.ZipFile, sheet_xml: bytes) -> dict[tuple[int, int], int]:
    """(row, column) -> digits, for number cells whose format shows leading zeros.

    Excel shows 612345678 formatted "0#########" as 0612345678 and 14 formatted "000000"
    as 000014; the admin sees those, so those are what is imported.
    """
    try:
        styles = archive.read("xl/styles.xml")
    except KeyError:
        return {}
    codes = {int(m.group(1)): html.unescape(m.group(2).decode()) for m in _NUM_FMT.finditer(styles)}
    cell_xfs = _CELL_XFS.search(styles)
    widths = {}
    for index, xf in enumerate(_XF_NUM_FMT.finditer(cell_xfs.group(1) if cell_xfs else b"")):
        width = _padded_width(codes.get(int(xf.group(1)), ""))
        if width > 1:
            widths[str(index).encode()] = width
    if not widths:
        return {}
    styled = re.compile(
        rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bs="(' + b"|".join(widths) + rb')"'
    )
    return {
        (int(m.group(2)), column_index(m.group(1).decode())): widths[m.group(3)]
        for m in styled.finditer(sheet_xml)
    }


def _padded_width(code: str) -> int:
    """How many digits a number format always shows: "0#########" 10, "000000" 6, "0" 1."""
    code = code.split(";")[0].replace("\\", "").replace('"', "")
    if not code or set(code) - {"0", "#"} or "0" not in code:
        return 0
    return len(code) - code.index("0")


def _pad_zeros(frame: pd.DataFrame, cells: dict[tuple[int, int], int], skip: int) -> None:
    for (row, column), width in cells.items():
        position = row - 1 - skip
        if 0 <= position < len(frame) and column < frame.shape[1]:
            value = frame.iat[position, column]
            if value.isdigit() and len(value) < width:
                frame.iat[position, column] = value.zfill(width)


def _xlsx_hygiene(xml: bytes, width: int) -> list[_CellFinding]:
    """Formulas, merged cells, hidden rows and columns, hyperlinks, read from the sheet's XML.

    Every scan is one pass over the XML, so time grows with the sheet, not its square.
    """
    if b"<!--" in xml:
        xml = _XML_COMMENT.sub(b"", xml)
    found: list[_CellFinding] = []
    cell, searched = None, 0
    for match in _FORMULA.finditer(xml):
        # Look back only as far as the previous formula: each byte is looked at once.
        at = match.start()
        start = max(xml.rfind(b"<c ", searched, at), xml.rfind(b":c ", searched, at))
        searched = match.end()
        if start < 0:
            continue  # a second formula tag in the same cell, or one outside any cell
        ref = _CELL_REF.search(xml, start, at)
        if ref is None or ref.group(0) == cell:
            continue
        cell = ref.group(0)
        found.append(
            _CellFinding(
                "formula",
                int(ref.group(2)),
                column_index(ref.group(1).decode()),
                {"cell": (ref.group(1) + ref.group(2)).decode()},
            )
        )
    if b't="e"' in xml:
        for match in _ERROR_CELL.finditer(xml):
            ref = (match.group(1) + match.group(2)).decode()
            column = column_index(match.group(1).decode())
            found.append(_error_value(ref, match.group(3).decode(), int(match.group(2)), column))
    for match in _MERGE.finditer(xml):
        first = (match.group(1) + match.group(2)).decode()
        last = (match.group(3) + match.group(4)).decode() if match.group(3) else first
        found.append(
            _CellFinding(
                "merged-cell",
                int(match.group(2)),
                column_index(match.group(1).decode()),
                {"first": first, "last": last},
            )
        )
    if b'hidden="' in xml:
        for match in _HIDDEN_ROW.finditer(xml):
            attrs = dict(_ATTR.findall(match.group(0)))
            if b"r" in attrs:
                row_number = int(attrs[b"r"])
                found.append(_CellFinding("hidden-row", row_number, None, {}))
        for match in _HIDDEN_COL.finditer(xml):
            attrs = dict(_ATTR.findall(match.group(0)))
            if attrs.get(b"hidden") in {b"1", b"true"}:
                # A range may name millions of columns; only those the sheet has matter.
                first_col = int(attrs.get(b"min", 1)) - 1
                last_col = min(int(attrs.get(b"max", 1)), width)
                for index in range(first_col, last_col):
                    found.append(
                        _CellFinding("hidden-column", None, index, {"letter": column_letter(index)})
                    )
    for match in _HYPERLINK.finditer(xml):
        ref = (match.group(1) + match.group(2)).decode()
        found.append(
            _CellFinding(
                "hyperlink",
                int(match.group(2)),
                column_index(match.group(1).decode()),
                {"cell": ref},
            )
        )
    return found
