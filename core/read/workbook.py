"""Workbooks (XLSX, XLS, ODS): sizes checked before parsing, values as Excel shows them."""

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from datetime import date, datetime, time, timedelta
from typing import IO, TypeVar

import pandas as pd

from core.issues import Issue, UnusableFileError, column_index, column_letter, issue
from core.read.hygiene import ods_shown_digits, xls_cells, xlsx_hygiene
from core.read.table import (
    MAX_CELL_CHARACTERS,
    MAX_COLUMNS,
    MAX_TEXT_RUN_BYTES,
    MAX_UNPACKED_BYTES,
    CellFinding,
    ReadOptions,
    Table,
    finish_table,
)

T = TypeVar("T")


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if abs(value) >= 1e15:
            # Excel keeps 15 digits and shows such a number as 1.23457E+22; the digits after
            # the fifteenth were never stored, so they are not made up here either.
            return f"{value:.6G}"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        # As Excel shows a duration ([h]:mm:ss): 36:00:00, not "1 day, 12:00:00".
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return "" if value is None else str(value)


def _as_shown(
    frame: pd.DataFrame,
    data: bytes,
    kind: str,
    archive: zipfile.ZipFile | None,
    sheet_xml: bytes,
    sheet_name: str,
    skip: int,
    findings: list[Issue],
) -> list[CellFinding]:
    """Cells written as Excel shows them (leading zeros kept), and what the workbook's cells
    hide (formulas, merged and hidden cells); a kind Instroom cannot look into is said."""
    if archive is not None:
        _pad_zeros(frame, _zero_padded_cells(archive, sheet_xml), skip)
        if not sheet_xml:  # its parts are not where Excel puts them: nothing was looked at
            findings.append(issue("unchecked-workbook", "layout"))
        return xlsx_hygiene(sheet_xml, frame.shape[1])
    if kind == "xls":
        cell_findings, formats = xls_cells(data, sheet_name)
        _pad_zeros(frame, formats, skip)
        findings.append(issue("legacy-xls"))
        return cell_findings
    if kind == "ods":
        with zipfile.ZipFile(io.BytesIO(data)).open("content.xml") as content:
            _show_as_shown(frame, ods_shown_digits(content, sheet_name), skip)
        findings.append(issue("unchecked-ods"))
    else:
        findings.append(issue("unchecked-workbook", "xlsb"))
    return []


def read_workbook(data: bytes, kind: str, options: ReadOptions) -> Table:
    import python_calamine  # a text file never needs the workbook reader

    archive = None
    if kind == "xlsx":
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise UnusableFileError.of("too-large", "unpacked", megabytes=unpacked / 2**20)
        _check_members(archive)
    elif kind in {"ods", "xlsb"}:
        _check_members(zipfile.ZipFile(io.BytesIO(data)))
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        # Worksheets only: a macro or dialog sheet beside them holds no users.
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.visible == python_calamine.SheetVisibleEnum.Visible
            and m.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        hidden = [m.name for m in workbook.sheets_metadata if m.name not in visible]
        if options.sheet is not None and options.sheet not in workbook.sheet_names:
            raise UnusableFileError.of(
                "unknown-sheet", sheet=options.sheet, sheets=", ".join(workbook.sheet_names)
            )
        worksheets = [
            m.name
            for m in workbook.sheets_metadata
            if m.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        if not options.sheet and not worksheets:
            raise UnusableFileError.of("empty-file", "no-worksheet")
        sheet_name = options.sheet or (visible or worksheets)[0]
        sheet_xml = _sheet_xml(archive, sheet_name) if archive is not None else b""
        if archive is not None:
            _check_sheet_size(archive, sheet_xml)
        rows = _within_width(
            workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        )
    except python_calamine.PasswordError as exc:
        raise UnusableFileError.of("password-protected", "reader") from exc
    except (python_calamine.CalamineError, ValueError, KeyError, OSError) as exc:
        raise UnusableFileError.of("damaged-file", "damaged-workbook") from exc
    findings = [issue("hidden-sheet", sheet=name) for name in hidden]
    skip = options.skip_rows or 0
    frame = pd.DataFrame([[_cell_text(v) for v in row] for row in rows[skip:]], dtype=object)
    if frame.empty:
        raise UnusableFileError.of("empty-file", "sheet", sheet=sheet_name)
    frame = frame.astype(str)
    cell_findings = _as_shown(frame, data, kind, archive, sheet_xml, sheet_name, skip, findings)
    table = finish_table(
        frame, skip + 1, options, source=kind, findings=findings, cell_findings=cell_findings
    )
    table.sheet, table.sheets = sheet_name, list(workbook.sheet_names)
    return table


_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')


# A reference of three or more letters lies beyond column ZZ.
_WIDE_REF = re.compile(rb'\br="([A-Z]{3,})(\d+)"')


_NUM_FMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"')


_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)


_XF_NUM_FMT = re.compile(rb'<(?:\w+:)?xf\b[^>]*?\bnumFmtId="(\d+)"')


def _check_members(archive: zipfile.ZipFile) -> None:
    """Inflate every part once, counting what really comes out.

    A part may say it is small and unpack to gigabytes; Python's reader stops at the size
    the part claims and then finds the checksum wrong, so the lie is refused before the
    workbook reader (which believes the bytes) ever sees it.
    """
    total = 0
    try:
        for info in archive.infolist():
            with archive.open(info) as member:
                while chunk := member.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_UNPACKED_BYTES:
                        raise UnusableFileError.of("too-large", "unpacked", megabytes=total / 2**20)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise UnusableFileError.of("damaged-file", "damaged-workbook") from exc


def _within_width(rows: list[list[T]]) -> list[list[T]]:
    """Rows cut to the last column with a value; a value beyond column ZZ is refused."""
    width, widest_row = 0, 0
    for number, row in enumerate(rows, start=1):
        last = max((i for i, v in enumerate(row) if v not in (None, "")), default=-1) + 1
        if last > width:
            width, widest_row = last, number
    if width > MAX_COLUMNS:
        cell = f"{column_letter(width - 1)}{widest_row}"
        raise UnusableFileError.of(
            "too-large", "sheet-width", cell=cell, columns=width, limit=MAX_COLUMNS
        )
    return [row[:width] for row in rows]


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
    if longest > MAX_TEXT_RUN_BYTES:
        raise UnusableFileError.of("too-large", "cell", length=longest, limit=MAX_CELL_CHARACTERS)


def _longest_text_run(source: bytes | IO[bytes]) -> int:
    """The longest stretch without a tag, in one pass over slices (never a huge string held).

    Splitting at every "<" runs in C and looks at each byte once; a pattern such as
    [^<]{N,} starts again at every byte of a shorter run, which made a 57 MB sheet take
    two minutes.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    longest = carried = 0
    while block := stream.read(8 * 1024 * 1024):
        runs = block.split(b"<")
        if len(runs) == 1:
            carried += len(block)
            longest = max(longest, carried)
            continue
        longest = max(longest, carried + len(runs[0]), *map(len, runs[1:-1]))
        carried = len(runs[-1])
    return max(longest, carried)


def _zero_padded_cells(archive: zipfile.ZipFile, sheet_xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) -> number format, for number cells whose format shows fixed digits.

    Excel shows 612345678 formatted "0#########" as 0612345678, 14 formatted "000000" as
    000014 and 1 formatted 00000-0000 as 00000-0001; the admin sees those, so those are
    what is imported.
    """
    try:
        styles = archive.read("xl/styles.xml")
    except KeyError:
        return {}
    codes = {int(m.group(1)): html.unescape(m.group(2).decode()) for m in _NUM_FMT.finditer(styles)}
    cell_xfs = _CELL_XFS.search(styles)
    widths = {}
    for index, xf in enumerate(_XF_NUM_FMT.finditer(cell_xfs.group(1) if cell_xfs else b"")):
        code = codes.get(int(xf.group(1)), "")
        if digit_pattern(code) is not None:
            widths[str(index).encode()] = code
    if not widths:
        return {}
    styled = re.compile(
        rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bs="(' + b"|".join(widths) + rb')"'
    )
    return {
        (int(m.group(2)), column_index(m.group(1).decode())): widths[m.group(3)]
        for m in styled.finditer(sheet_xml)
    }


def _show_as_shown(frame: pd.DataFrame, cells: dict[tuple[int, int], str], skip: int) -> None:
    """Number cells written as the sheet shows them (its own text, leading zeros and all)."""
    for (row, column), text in cells.items():
        position = row - 1 - skip
        if 0 <= position < len(frame) and column < frame.shape[1]:
            frame.iat[position, column] = text


def _pad_zeros(frame: pd.DataFrame, cells: dict[tuple[int, int], str], skip: int) -> None:
    for (row, column), code in cells.items():
        position = row - 1 - skip
        if 0 <= position < len(frame) and column < frame.shape[1]:
            value = frame.iat[position, column]
            if value.isdigit():
                frame.iat[position, column] = format_digits(int(value), code)


# A number format of digit places and literal text only: 000000, 0#########, 00000\-0000.
_PLACES = re.compile(r'(\\.|"[^"]*"|[0#]|[ \-/().:+])')


def digit_pattern(code: str) -> list[str] | None:
    """A format's places and literals, when it shows a fixed zero in two places or more."""
    first = code.split(";")[0]
    tokens = _PLACES.findall(first)
    places = [t for t in tokens if t in {"0", "#"}]
    if "".join(tokens) != first or "0" not in places or len(places) < 2:
        return None
    return tokens


def format_digits(number: int, code: str) -> str:
    """A whole number as the format shows it: digits from the right, zeros where it asks."""
    tokens = digit_pattern(code)
    if tokens is None:
        return str(number)
    digits = list(str(number))
    out: list[str] = []
    places = [i for i, t in enumerate(tokens) if t in {"0", "#"}]
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        if token in {"0", "#"}:
            if digits:
                out.append(digits.pop())
            elif token == "0":
                out.append("0")
            if i == places[0] and digits:  # more digits than places: all before the first
                out.append("".join(digits))
                digits = []
        elif token.startswith("\\"):
            out.append(token[1:])
        else:
            out.append(token.strip('"'))
    return "".join(reversed(out))
